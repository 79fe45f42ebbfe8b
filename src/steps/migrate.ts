import { z } from 'zod';
import { describeMigrateLine, failureText } from '../core/migrate/describe.js';
import { parseMigrateLine, type MigrateLine } from '../core/migrate/events.js';
import type { ParamValue } from '../core/checklist/types.js';
import { interpolate } from '../core/params.js';
import { checkTemplates, fail } from './git-common.js';
import { defineStepKind, type SpecOf } from './define.js';
import { dbEnvArgs, dbEnvField, dbEnvOf, dbEnvProblems } from './db-env.js';
import type { StepContext } from './types.js';

const fields = {
  action: z.enum(['upgrade', 'downgrade', 'status', 'lint', 'backfill', 'verify', 'check']),
  /** The backfill to run (migrations/backfills/<name>.yaml), for action backfill. */
  name: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  /** How many to downgrade: a number, or a template (`${migrations}`). */
  steps: z.union([z.number().int().positive(), z.string().min(1)]).optional(),
  onFailure: z.enum(['stop', 'revert-run']).optional(),
  /** Override the lint for this run, with the reason (recorded in the step's output). */
  allowUnsafe: z.string().min(1).optional(),
  /** The environment whose database it is (`staging`, `${environment}`): `--env`, database.environments in the config. */
  env: dbEnvField,
};

type MigrateSpec = SpecOf<typeof fields>;

const MIGRATE_TIMEOUT_MS = 2 * 60 * 60_000;

function argv(ctx: StepContext | null, spec: MigrateSpec, params: Record<string, ParamValue>): string[] {
  const a = ['migrate', spec.action];
  if (spec.action === 'backfill') a.push(interpolate(spec.name ?? '', params));
  if (spec.to) a.push('--to', interpolate(spec.to, params));
  if (spec.action === 'downgrade' && spec.steps !== undefined) a.push('--steps', interpolate(String(spec.steps), params));
  // Inside a checklist a failed upgrade reverts what it applied: the policy's "if failed, automatic rollback".
  if (spec.action === 'upgrade') a.push('--on-failure', spec.onFailure ?? 'revert-run');
  if (spec.allowUnsafe) a.push('--allow-unsafe', interpolate(spec.allowUnsafe, params));
  a.push(...dbEnvArgs(spec.env, params));
  if (ctx) a.unshift('--repo', ctx.repoDir);
  return a;
}

/** The actions that change the database, whose progress and outcome `--json` tells as typed events. */
const TELLS_EVENTS = new Set<MigrateSpec['action']>(['upgrade', 'downgrade', 'backfill', 'lint', 'verify', 'check']);

/** Why the run failed, from its events: the migration and statement that failed, or how the backfill ended. */
function failureOf(events: MigrateLine[]): string | null {
  for (const e of [...events].reverse()) {
    if (e.type === 'migration.failed' && !e.revert) return failureText(e);
    if (e.type === 'lint.refused') return `${e.errors} lint error(s) in the pending migrations: nothing was run`;
    if (e.type === 'verify.result' && (e.failed || e.unchecked))
      return `${e.failed} of ${e.checked} migration(s) failed verification${e.unchecked ? `, ${e.unchecked} not verified` : ''} (the lines above say what did not hold)`;
    if (e.type === 'check.result' && e.findings)
      return `${e.failed} of ${e.checked} migration file(s) not committed, without an upgrade or downgrade, or not made by cockpit migrate create (the lines above name each file)`;
    if (e.type === 'backfill.result' && e.state === 'failed')
      return `backfill ${e.name} failed: ${e.error ?? 'unknown error'} (the checkpoint keeps what was done)`;
  }
  return null;
}

/**
 * Database migrations as a checklist step: the cockpit's own `migrate` command, run as a recorded command (its
 * output, pid and exit code in the audit log; killed with its process group on a stop). The database URL comes
 * as `migrate` finds it (with `env:`, `--env`: database.environments.<env>.url; else database.url in the config or
 * DATABASE_URL), never on the command line, so it is never recorded.
 */
export const migrateStep = defineStepKind({
  kind: 'migrate',
  fields,
  needs: ['run', 'self', 'commands'],
  validate: (step, params) => [
    ...checkTemplates(step, params, ['to', 'allowUnsafe', 'name', 'steps', 'env']),
    ...dbEnvProblems(step),
    ...(step.action === 'backfill' && !step.name
      ? [{ path: ['name'], message: "a backfill step needs the backfill's name (migrations/backfills/<name>.yaml)" }]
      : []),
  ],
  describe({ spec, params }) {
    return `cockpit ${argv(null, spec, params).join(' ')}`;
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const target = dbEnvOf(spec.env, ctx.params);
    if ('problem' in target) return fail(`env: ${target.problem}`);
    // upgrade, downgrade and backfill speak in events (--json): kept in words as the step's output, and read here
    // for the step's outcome. Nothing reads the command's printed text.
    const events: MigrateLine[] = [];
    const json = TELLS_EVENTS.has(spec.action);
    const r = await ctx.run({
      argv: [...ctx.self, ...argv(ctx, spec, ctx.params), ...(json ? ['--json'] : [])],
      cwd: ctx.repoDir,
      env: ctx.env,
      timeoutMs: MIGRATE_TIMEOUT_MS,
      ...(json
        ? {
            stdoutLine: (line: string) => {
              const read = parseMigrateLine(line);
              if (!read) return line.trim() ? [{ stream: 'stdout' as const, text: `${line}\n` }] : [];
              // The child runs in the repository: what it says to run next is said as the operator runs it.
              const e =
                read.type === 'migration.failed' && read.recorded
                  ? { ...read, status: ctx.commands.line(['migrate', 'status', ...(target.env ? ['--env', target.env] : [])]) }
                  : read;
              events.push(e);
              return describeMigrateLine(e);
            },
          }
        : {}),
    });
    if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator' };
    if (r.spawnError) return fail(`could not run cockpit migrate: ${r.spawnError}`);
    if (r.timedOut) return { status: 'failed', exitCode: r.exitCode, timedOut: true, reason: 'cockpit migrate timed out' };
    if (r.exitCode === 0) {
      // A lint, verify or check with no migration to read checked nothing: said so, not shown as a pass.
      const result = events.findLast(
        (e) => e.type === 'lint.result' || e.type === 'verify.result' || e.type === 'check.result' || e.type === 'migrate.result',
      );
      if (result?.type === 'migrate.result' && result.nothingToCheck)
        return { status: 'passed', exitCode: 0, via: 'command', nothingToCheck: result.nothingToCheck };
      if (
        (result?.type === 'lint.result' && !result.checked && !result.unloaded) ||
        ((result?.type === 'verify.result' || result?.type === 'check.result') && !result.checked)
      )
        return { status: 'passed', exitCode: 0, via: 'command', nothingToCheck: `no migrations in ${result.dir}` };
      return { status: 'passed', exitCode: 0, via: 'command' };
    }
    const why = failureOf(events);
    return {
      status: 'failed',
      exitCode: r.exitCode,
      reason: why
        ? `cockpit migrate ${spec.action}: ${why}`
        : `cockpit migrate ${spec.action} exited with code ${r.exitCode} (its output above says what and what to do)`,
    };
  },
  // No probe: an upgrade is idempotent (it applies only what is pending), so a resumed step simply runs again.
});
