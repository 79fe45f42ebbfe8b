/**
 * What the migration screen (src/tui/screens/MigrateScreen.tsx) reads and runs: the migrations with their lint
 * verdicts and the SQL each would send, read in-process; changes (upgrade, downgrade, backfill) run as the
 * cockpit's own `migrate … --json` command in a child process, so they are recorded in the audit log exactly as when
 * typed, and their progress comes back as typed events.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadMigrations, MigrationFileError, noDownReason, type Migration } from '../adapters/migrate/files.js';
import { MigrationRunner, type ServerVersion, type Status } from '../adapters/migrate/runner.js';
import { lineSplitter } from '../core/lines.js';
import { parseMigrateLine } from '../core/migrate/events.js';
import { lintMigration } from '../core/migrate/lint.js';
import { packageRoot } from '../paths.js';
import type { MigrationRow, MigrationServices, MigrationView } from '../tui/types.js';
import { DatabaseEnvironmentError, resolveDatabase } from '../core/database-target.js';
import { databaseQuery, migrateCommandLine, showUrl, type MigrateFlags } from './migrate.js';
import type { Workspace } from './setup.js';

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16) + 'Z';

export function migrationServices(ws: Workspace, flags: MigrateFlags): MigrationServices {
  const folder = path.resolve(ws.repoDir, flags.dir ?? ws.config.database?.migrations ?? 'migrations');
  // The database as the commands find it (core/database-target.ts); an environment the config does not know is said on the screen.
  let url: string | undefined;
  let missing = '';
  try {
    const choice = resolveDatabase(databaseQuery(ws, flags));
    url = choice.url;
    missing = choice.missing;
  } catch (e) {
    if (!(e instanceof DatabaseEnvironmentError)) throw e;
    missing = e.message;
  }
  const common = ['--repo', ws.repoDir];
  const own = [
    ...(flags.dir ? ['--dir', flags.dir] : []),
    ...(flags.env ? ['--env', flags.env] : []),
    ...(flags.databaseUrl ? ['--database-url', flags.databaseUrl] : []),
  ];
  return {
    async load(): Promise<MigrationView> {
      const backfillDir = path.join(folder, 'backfills');
      const backfills = existsSync(backfillDir)
        ? readdirSync(backfillDir)
            .filter((f) => /\.ya?ml$/.test(f))
            .map((f) => f.replace(/\.ya?ml$/, ''))
            .sort()
        : [];
      const view: MigrationView = {
        database: url ? showUrl(url) : '(none)',
        folder: path.relative(ws.repoDir, folder) || folder,
        rows: [],
        problems: [],
        backfills,
      };
      let files: Migration[] = [];
      try {
        files = await loadMigrations(folder);
      } catch (e) {
        if (!(e instanceof MigrationFileError)) throw e;
        view.error = e.message;
        return view;
      }
      let status: (Status & ServerVersion) | null = null;
      let runner: MigrationRunner | null = null;
      if (!url) view.error = `no database: ${missing}`;
      else {
        runner = new MigrationRunner({ connection: url, dir: folder, command: migrateCommandLine(ws, flags, folder) });
        try {
          status = await runner.status();
        } catch (e) {
          view.error = `the database could not be read: ${e instanceof Error ? e.message : String(e)}`;
        }
      }
      const sqlFor = (m: Migration, dir: 'up' | 'down') => (runner ? runner.sqlFor([m], dir) : '');
      for (const m of files) {
        const row = status?.history.find((h) => h.id === m.id);
        const problems = (status?.problems ?? []).filter((p) => p.id === m.id).map((p) => p.message);
        const applied = row?.state === 'applied';
        const base = path.basename(m.file);
        const findings = applied
          ? []
          : lintMigration(
              { id: m.id, up: m.up, down: m.down, noTransaction: m.noTransaction, dynamic: m.dynamic },
              ws.config.database?.lint,
              { postgresMajor: status?.serverMajor ?? ws.config.database?.postgresVersion },
            ).map((f) => ({
              severity: f.severity,
              rule: f.rule,
              where: f.line > 0 ? `${base}:${f.line}` : base,
              message: f.message,
              fix: f.fix,
            }));
        const state: MigrationRow['state'] = row?.state === 'failed' ? 'failed' : applied ? 'applied' : 'pending';
        const detail =
          state === 'applied'
            ? `applied ${when(row!.appliedAt)} by ${row!.appliedBy}${m.hasDown ? '' : ` · cannot be downgraded: ${noDownReason(m)}`}`
            : state === 'failed'
              ? `FAILED at statement ${row!.failedStatement ?? '?'}: ${row!.error ?? ''} — settle it: ${ws.command(['migrate', 'resolve', m.id])} --applied|--rolled-back`
              : status
                ? 'pending'
                : 'not compared with the database';
        view.rows.push({
          id: m.id,
          name: m.name,
          file: base,
          state,
          detail,
          noTransaction: m.noTransaction,
          dynamic: !!(m.dynamic.up || m.dynamic.down),
          findings,
          sql: state === 'applied' ? sqlFor(m, 'down') : sqlFor(m, 'up'),
          problems,
        });
      }
      for (const p of status?.problems ?? []) if (!files.some((m) => m.id === p.id)) view.problems.push(`${p.id}: ${p.message}`);
      return view;
    },
    run(args, on) {
      // --json: the child's progress arrives as typed events (core/migrate/events.ts), not as text to be parsed.
      const child = spawn(
        process.execPath,
        [path.join(packageRoot(), 'bin', 'cockpit.js'), ...common, 'migrate', ...args, '--json', ...own],
        {
          cwd: ws.repoDir,
          // The URL found in the config (for --env) or DATABASE_URL is found again by the child; one given as --database-url is passed on.
          env: { ...process.env, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const lines = lineSplitter((l) => {
        const e = parseMigrateLine(l);
        if (e) on.event(e);
        else if (l.trim()) on.text(`${l}\n`);
      });
      child.stdout.setEncoding('utf8').on('data', (text: string) => lines.push(text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => on.text(text));
      const done = new Promise<number>((resolve) => {
        child.on('error', (e) => {
          on.text(`could not run cockpit migrate: ${e.message}\n`);
          resolve(2);
        });
        child.on('close', (code, signal) => {
          lines.end();
          resolve(code ?? (signal === 'SIGINT' ? 3 : 1));
        });
      });
      // Ctrl-C to the child: an upgrade finishes its migration's transaction or rolls it back; a backfill stops after its batch.
      return { done, stop: () => void child.kill('SIGINT') };
    },
  };
}
