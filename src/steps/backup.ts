import { z } from 'zod';
import { describeBackupLine, parseBackupLine, type BackupResult } from '../core/backup.js';
import { interpolate } from '../core/params.js';
import { checkTemplates, fail } from './git-common.js';
import { defineStepKind } from './define.js';
import { dbEnvArgs, dbEnvField, dbEnvOf, dbEnvProblems } from './db-env.js';
import type { StepContext } from './types.js';

/**
 * Backups as checklist steps: the cockpit's own `db backup` and `db restore`, run as recorded commands (output, pid
 * and exit code in the audit log; killed with their process group on a stop), with `--json`, whose last line is
 * the result read here. The database URL comes as `db` finds it (with `env:`, `--env`: database.environments.<env>.url;
 * else database.url or DATABASE_URL), never on the command line, so it is never recorded.
 */

const BACKUP_TIMEOUT_MS = 2 * 60 * 60_000;

/** Runs `cockpit db …args --json`: its result, and its lines kept in words as the step's output. */
async function runDb(ctx: StepContext<unknown, 'run' | 'self'>, args: string[]) {
  const got: { result: BackupResult | null } = { result: null };
  const r = await ctx.run({
    argv: [...ctx.self, '--repo', ctx.repoDir, 'db', ...args, '--json'],
    cwd: ctx.repoDir,
    env: ctx.env,
    timeoutMs: BACKUP_TIMEOUT_MS,
    stdoutLine: (line: string) => {
      const e = parseBackupLine(line);
      if (!e) return line.trim() ? [{ stream: 'stdout' as const, text: `${line}\n` }] : [];
      if (e.type === 'backup.result' || e.type === 'restore.result') got.result = e;
      return [{ stream: 'stdout' as const, text: `${describeBackupLine(e)}\n` }];
    },
  });
  return { r, result: got.result };
}

export const backupStep = defineStepKind({
  kind: 'backup',
  fields: {
    /** The environment whose database it is (`production`, `${environment}`): `--env`, database.environments in the config. */
    env: dbEnvField,
  },
  needs: ['run', 'self'],
  // Another backup is harmless: an interrupted one simply takes a new one.
  rerunSafe: true,
  validate: (step, params) => [...checkTemplates(step, params, ['env']), ...dbEnvProblems(step)],
  describe: ({ spec, params }) =>
    `${['cockpit db backup', ...dbEnvArgs(spec.env, params)].join(' ')} (pg_dump -Fc with a manifest: sha256, row counts, migration)`,
  async execute(ctx) {
    const target = dbEnvOf(ctx.spec.env, ctx.params);
    if ('problem' in target) return fail(`env: ${target.problem}`);
    const { r, result } = await runDb(ctx, ['backup', ...dbEnvArgs(ctx.spec.env, ctx.params)]);
    if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator' };
    if (r.spawnError) return fail(`could not run cockpit db backup: ${r.spawnError}`);
    if (r.timedOut) return { status: 'failed', exitCode: r.exitCode, timedOut: true, reason: 'cockpit db backup timed out' };
    if (r.exitCode === 0 && result?.type === 'backup.result') return { status: 'passed', exitCode: 0, via: 'command' };
    return {
      status: 'failed',
      exitCode: r.exitCode,
      reason: `cockpit db backup exited with code ${r.exitCode} (its output above says why)`,
    };
  },
});

export const restoreStep = defineStepKind({
  kind: 'restore',
  fields: {
    /** The backup to restore: an id (`20261206T031500Z`), a template (`${backup}`), or `latest`. */
    backup: z.string().min(1).default('latest'),
    jobs: z.number().int().min(1).max(64).optional(),
    /** The environment whose database it is (`production`, `${environment}`): `--env`, database.environments in the config. */
    env: dbEnvField,
  },
  needs: ['run', 'self'],
  validate: (step, params) => [...checkTemplates(step, params, ['backup', 'env']), ...dbEnvProblems(step)],
  describe: ({ spec, params }) =>
    `${['cockpit db restore', interpolate(spec.backup, params), ...dbEnvArgs(spec.env, params)].join(' ')} --jobs ${spec.jobs ?? 2} (replaces the database's data; then row counts, pg_amcheck, verify queries)`,
  async execute(ctx) {
    const id = interpolate(ctx.spec.backup, ctx.params);
    const target = dbEnvOf(ctx.spec.env, ctx.params);
    if ('problem' in target) return fail(`env: ${target.problem}`);
    // The checklist asks before this step (it destroys the current data); the command itself is told yes.
    const { r, result } = await runDb(ctx, [
      'restore',
      id,
      '--yes',
      '--jobs',
      String(ctx.spec.jobs ?? 2),
      ...dbEnvArgs(ctx.spec.env, ctx.params),
    ]);
    if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator' };
    if (r.spawnError) return fail(`could not run cockpit db restore: ${r.spawnError}`);
    if (r.timedOut) return { status: 'failed', exitCode: r.exitCode, timedOut: true, reason: 'cockpit db restore timed out' };
    if (r.exitCode === 0 && result?.type === 'restore.result' && result.ok) return { status: 'passed', exitCode: 0, via: 'command' };
    const failed = result?.type === 'restore.result' ? result.checks.filter((c) => !c.ok) : [];
    return {
      status: 'failed',
      exitCode: r.exitCode,
      reason: failed.length
        ? `integrity check failed after restoring backup ${id}: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`
        : `cockpit db restore exited with code ${r.exitCode} (its output above says why)`,
    };
  },
});
