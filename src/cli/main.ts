import type { Command } from 'commander';
import { cockpitVersion } from '../version.js';
import { DEMO_SCENARIOS } from '../demo/scenario-names.js';
import { closeStores } from './open-stores.js';
import { anchorsWritten } from '../engine/pending-anchors.js';
import { debugCleanupErrors, exitFor } from './exit.js';
import type { GlobalOptions } from './workspace.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

// ── per-environment databases (cockpit migrate …, cockpit db backup|restore): src/core/database-target.ts ──
const ENV_OPTION = [
  '--env <environment>',
  'the environment whose database it is: database.environments.<environment>.url in the config (refused when the config lists environments but not this one; --database-url still wins; without environments in the config, the one database)',
] as const;
const envOption = (c: Command): Command => c.option(...ENV_OPTION);

/** How a session is driven: the same for run and resume. */
function sessionOptions(cmd: Command): Command {
  return cmd
    .option('--non-interactive', 'never prompt: confirmations pass only when --yes names them')
    .option(
      '--yes <steps>',
      "confirm these steps without asking: 'all' or step ids/paths, comma-separated (repeatable); recorded as confirmed by flag",
      collect,
    )
    .option('--json', 'print one JSON object per event as it happens (implies --non-interactive)')
    .option('--plain', 'in a terminal, ask on the line instead of opening the full-screen cockpit');
}

function globals(cmd: Command) {
  const o = cmd.optsWithGlobals() as { repo?: string; config?: string; auditUrl?: string };
  return { repo: o.repo, config: o.config, auditUrl: o.auditUrl };
}

/** A reader that went away (`cockpit --help | head`) is not an error of the cockpit's: its output is dropped, quietly. */
function ignoreClosedPipes(): void {
  const ignore = (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'EIO' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  };
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
}

/**
 * The global options when `argv` holds nothing else (`cockpit`, `cockpit --repo ../app`): the home screen, which then
 * starts without building the parser of all the commands (a few ms of its start-up, docs/architecture.md §6).
 * Null for anything else, which commander parses (and reports) as always: a command, a flag, a value that is empty
 * or looks like a flag, an option without its value.
 */
export function onlyGlobalOptions(argv: string[]): GlobalOptions | null {
  const names: Record<string, keyof GlobalOptions> = { '--repo': 'repo', '--config': 'config', '--audit-url': 'auditUrl' };
  const out: GlobalOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const name = eq > 0 ? argv[i].slice(0, eq) : argv[i];
    if (!Object.hasOwn(names, name)) return null;
    const value = eq > 0 ? argv[i].slice(eq + 1) : argv[++i];
    if (!value || value.startsWith('-')) return null;
    out[names[name]] = value;
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  debugCleanupErrors();
  ignoreClosedPipes();
  // Commands load their modules on demand: `cockpit --version` stays as cheap as starting node.
  const cmds = () => import('./commands.js');
  let code = 0;
  const act =
    <A extends unknown[]>(fn: (...a: A) => Promise<number>) =>
    async (...a: A) => {
      try {
        code = await fn(...a);
      } catch (e) {
        code = exitFor(e);
      }
    };

  /** `cockpit`: the home screen. */
  const home = async (g: GlobalOptions): Promise<number> => {
    const exitWhenReady = process.env.COCKPIT_EXIT_WHEN_READY === '1';
    // The home screen as it was last drawn, at once, when nothing it shows has changed since (first-frame.ts);
    // Ink takes the screen over once loaded.
    const ff = await import('./first-frame.js');
    const firstFrame = ff.drawFirstFrame(argv, !exitWhenReady);
    try {
      // The light workspace (cli/workspace.ts): the full one, with zod and the step kinds, loads when first needed.
      const [w, load] = await Promise.all([import('./workspace.js'), import('./load-tui.js')]);
      // No kept frame drawn: home's data is read and its first frame drawn without Ink (plain-home.ts), in the bytes
      // Ink will write. Its chunk loads while the workspace is read, under chalk's conditions as Ink's (load-tui.ts).
      // COCKPIT_PLAIN_FRAME=0: no plain frame (the start-up benchmark measures the path without it beside it).
      const plainChunk =
        firstFrame && !firstFrame.drawn && process.env.COCKPIT_PLAIN_FRAME !== '0'
          ? load.withoutCi(() => import('./plain-home.js')).catch(() => null)
          : null;
      const ws = await w.homeWorkspace(g);
      // The signatures of the files home shows first (opening the log may make its WAL file), then the audit log is
      // opened for reading (node waits for files meanwhile: the plain frame's chunk, or Ink's and yoga's).
      const inputs = firstFrame ? w.homeInputs(ws) : null;
      if (process.stdin.isTTY && process.stdout.isTTY) ws.prefetchReader();
      const plainHome = await plainChunk;
      const plain = plainHome && firstFrame ? await plainHome.drawPlainHome(ws, firstFrame).catch(() => null) : null;
      // Then Ink loads, and takes the screen over (first-frame.ts's hand-over).
      const tui = load.loadTui();
      return await (await tui).tuiHome(ws, { exitWhenReady, firstFrame, inputs, data: plain?.data ?? null, frameNow: plain?.now });
    } finally {
      // Still drawn: the cockpit stopped before Ink took the screen (an error is printed next).
      if (firstFrame) ff.undraw(firstFrame);
    }
  };
  // No command, only the global options: the home screen, without building the parser of every command.
  const homeOptions = onlyGlobalOptions(argv);
  if (homeOptions) {
    try {
      await act(home)(homeOptions);
    } finally {
      await anchorsWritten();
      await closeStores();
    }
    return code;
  }

  // The parser of every command (commander), loaded here: the home screen above starts without it.
  const { Command, CommanderError, Option } = await import('commander');
  const program = new Command('cockpit')
    .description('A terminal cockpit for checklist-driven releases, deploys, migrations and rollbacks, with a tamper-evident audit log.')
    .version(cockpitVersion(), '-V, --version')
    .option(
      '--repo <dir>',
      'the repository the cockpit works on (default: the git repository around the current directory; outside one, commands that would create the audit log refuse without --repo)',
    )
    .option('--config <file>', 'config file (default: cockpit.config.yaml in the repository)')
    .option(
      '--audit-url <url>',
      'audit log: a SQLite file path (default: .cockpit/audit.db in the repository) or postgres://… for a shared team store; env COCKPIT_AUDIT_URL',
    )
    .showHelpAfterError('(cockpit --help lists the commands)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 done · 1 a step failed, a confirmation is pending, or verification failed · 2 bad usage or input · 3 stopped by the operator

Examples:
  cockpit checklist list
  cockpit release                       (the version the commits suggest, offered to accept or change)
  cockpit release minor --dry-run
  cockpit hotfix PROP-123 --non-interactive --yes all
  cockpit deploy staging 2.4.0 --non-interactive --yes all
  cockpit deploy production --dry-run      (the newest release tag on main, each step with its script command)
  cockpit run ./my-checklist.yaml --non-interactive --json
  cockpit resume <session> --non-interactive --yes approval
  cockpit audit show <session> --format md > postmortem.md
  cockpit audit show <session> --step deploy > deploy.log    (all of one step's output)
  cockpit audit verify
  cockpit audit stats --since 90d
  cockpit comms                         (the announcement and maintenance window: when due, whether sent)`,
    );

  const run = program
    .command('run')
    .description("run a checklist: an id (the repo's checklists/, then the defaults) or a path to a YAML file")
    .argument('<checklist>', 'checklist id or file')
    .option('-p, --param <key=value>', 'a checklist parameter (repeatable)', collect)
    .option('--recovery-since <session>', "start the recovery clock at the breach that session's watch recorded (a rollback)");
  sessionOptions(run)
    .option('--dry-run', 'show every step and what it would do; run and record nothing')
    .action(act(async (ref: string, flags, cmd: Command) => (await cmds()).cmdRun(globals(cmd), ref, flags)));

  const release = program
    .command('release')
    .description(
      'the release checklist with its git work done: the version from the conventional commits since the last release (or the one given), branch, bump, notes, merge, tag, push',
    )
    .argument(
      '[version]',
      'major, minor, patch or X.Y.Z (default: the version the commits suggest; in a terminal it is offered for you to accept or change)',
    )
    .option('-p, --param <key=value>', 'another parameter of the release checklist (repeatable)', collect);
  sessionOptions(release)
    .option('--dry-run', 'show every step and the git commands it would run; change nothing')
    .action(
      act(async (choice: string | undefined, flags, cmd: Command) =>
        (await import('./release.js')).cmdRelease(globals(cmd), choice, flags),
      ),
    );

  const hotfix = program
    .command('hotfix')
    .description(
      'the hotfix checklist with its git work done: hotfix/vX.Y.Z-<issue> from main, patch bump, merge to main, tag, backport to develop, push',
    )
    .argument('[issue]', 'the issue id of the production problem, e.g. PROP-123 (in a terminal, asked in the form when not given)')
    .argument('[version]', 'X.Y.Z, a patch of the release on main (default: the next patch)')
    .option('-p, --param <key=value>', 'another parameter of the hotfix checklist (repeatable)', collect);
  sessionOptions(hotfix)
    .option('--dry-run', 'show every step and the git commands it would run; change nothing')
    .action(
      act(async (issue: string | undefined, choice: string | undefined, flags, cmd: Command) =>
        (await import('./release.js')).cmdHotfix(globals(cmd), issue, choice, flags),
      ),
    );

  const deploy = program
    .command('deploy')
    .description(
      'deploy a version to an environment: runs the deploy-<env> checklist (tests, build, migrations, the deploy script, smoke checks; production: approval, backup, blue/green switch, the watch)',
    )
    .argument('<env>', 'the environment: a deploy: entry in cockpit.config.yaml with a deploy-<env> checklist (production, staging)')
    .argument(
      '[version]',
      'X.Y.Z (default for production: the newest release tag on main, said with why; elsewhere it must be given; in a terminal the form opens with the suggestion)',
    )
    .option('-p, --param <key=value>', 'another parameter of the deploy checklist (repeatable)', collect);
  sessionOptions(deploy)
    .option('--dry-run', 'show every step and the deploy script command it would run; run and record nothing')
    .action(
      act(async (env: string, version: string | undefined, flags, cmd: Command) =>
        (await import('./deploy.js')).cmdDeploy(globals(cmd), env, version, flags),
      ),
    );

  const resume = program
    .command('resume')
    .description('continue a session that crashed, failed, stopped or waits for a confirmation, at its first unfinished step')
    .argument('[session]', 'session id or unique prefix (default: the most recent unfinished session)')
    .option('-p, --param <key=value>', 'a secret parameter again (secrets are never stored, so a resume must be told them)', collect);
  sessionOptions(resume)
    .option('--force', 'resume although the checklist changed since the session began (recorded)')
    .option('--skip <step>', 'skip this step (needs --reason), e.g. a failed one that was fixed by hand')
    .option('--reason <text>', 'why the step is skipped (recorded)')
    .action(act(async (ref: string | undefined, flags, cmd: Command) => (await cmds()).cmdResume(globals(cmd), ref, flags)));

  program
    .command('note')
    .description('add a note to a session that is not running (for the postmortem); recorded with who and when')
    .argument('<session>', 'session id or unique prefix')
    .argument('<text>', 'the note')
    .option('--step <step>', 'attach it to a step (id or path)')
    .action(act(async (ref: string, text: string, flags, cmd: Command) => (await cmds()).cmdNote(globals(cmd), ref, text, flags)));

  program
    .command('approve')
    .description(
      'approve (or reject) a session waiting in an approve step, as yourself (git user.email); signed with your SSH key when approvers.signing is ssh',
    )
    .argument('<session>', 'session id or unique prefix')
    .option('--step <step>', 'the approve step (id or path), when more than one waits')
    .option('--note <text>', 'a note with the approval (recorded, and signed with it)')
    .option('--reject <reason>', 'reject instead, with the reason: the deploy stops')
    .option('--key <file>', "the SSH key to sign with (default: git's user.signingkey)")
    .action(act(async (ref: string, flags, cmd: Command) => (await cmds()).cmdApprove(globals(cmd), ref, flags)));

  program
    .command('abort')
    .description('close a session that will not be resumed (recorded as aborted, with the reason)')
    .argument('<session>', 'session id or unique prefix')
    .requiredOption('--reason <text>', 'why (recorded)')
    .action(act(async (ref: string, flags, cmd: Command) => (await cmds()).cmdAbort(globals(cmd), ref, flags)));

  program
    .command('comms')
    .description(
      'the pre-release messages of the next scheduled release (release.schedule): the announcement (due `announce` before it, 48 h by default) and the maintenance window (24 h before), when each is due, whether it was sent, and the command that sends them',
    )
    .option('--json', 'machine-readable')
    .action(act(async (flags, cmd: Command) => (await import('./comms-command.js')).cmdComms(globals(cmd), flags)));

  const checklist = program.command('checklist').description('list, show and validate checklists');
  checklist
    .command('list')
    .description("the checklists available here: the repo's own, then the defaults")
    .action(act(async (_flags, cmd: Command) => (await cmds()).cmdChecklistList(globals(cmd))));
  checklist
    .command('show')
    .description('print a checklist: parameters, steps (includes expanded), what each does, the policy help')
    .argument('<checklist>', 'checklist id or file')
    .action(act(async (ref: string, _flags, cmd: Command) => (await cmds()).cmdChecklistShow(globals(cmd), ref)));
  checklist
    .command('validate')
    .description('check checklist files (syntax, schema, includes); exit 2 with file:line:column for each problem')
    .argument('<files...>', 'YAML files')
    .action(act(async (files: string[], _flags, cmd: Command) => (await cmds()).cmdChecklistValidate(globals(cmd), files)));

  const audit = program.command('audit').description('read and verify the audit log');
  audit
    .command('list')
    .description('sessions, resumable ones first')
    .option('--json', 'machine-readable')
    .option('--limit <n>', 'how many sessions', '50')
    .action(act(async (flags, cmd: Command) => (await cmds()).cmdAuditList(globals(cmd), flags)));
  audit
    .command('show')
    .description(
      "one session: header, parameters (secrets masked), steps with durations, timeline, notes, skips with reasons, each step's output (a long one cut to its first and last lines); --format md gives a postmortem-ready report",
    )
    .argument('<session>', 'session id or unique prefix')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'md']).default('text'))
    .option('--step <step>', "print all of this step's output instead (id or path; every attempt), in the chosen format")
    .action(act(async (ref: string, flags, cmd: Command) => (await cmds()).cmdAuditShow(globals(cmd), ref, flags)));
  audit
    .command('verify')
    .description('check the hash chain: exit 1 naming the first edited, deleted or reordered event')
    .argument('[session]', 'one session (default: all)')
    .option('--json', 'machine-readable')
    .action(act(async (ref: string | undefined, flags, cmd: Command) => (await cmds()).cmdAuditVerify(globals(cmd), ref, flags)));

  audit
    .command('stats')
    .description(
      'the four keys from the audit log: deployment frequency, lead time for changes, change failure rate and time to restore, per environment, each with the sessions it came from',
    )
    .option('--since <when>', 'a span back from now (90d, 12w, 36h) or a date (2026-09-01)', '90d')
    .option('--env <environment>', 'only this environment (production, staging)')
    .option('--json', 'machine-readable: every figure with all its sessions and its definition')
    .action(act(async (flags, cmd: Command) => (await import('./stats.js')).cmdAuditStats(globals(cmd), flags)));

  program
    .command('replay')
    .description('replay a session from its audit log on the checklist screen (read-only): space pause, ←/→ step, +/- speed, g/G start/end')
    .argument('<session>', 'session id or unique prefix')
    .option('--speed <n>', 'playback speed: 0.5, 1, 2, 5, 10, 30, 100 or max', '1')
    .action(
      act(async (ref: string, flags: { speed: string }, cmd: Command) => {
        const speed = flags.speed === 'max' ? Infinity : Number(flags.speed);
        const { UsageError, Workspace } = await import('./setup.js');
        if (!(speed > 0)) throw new UsageError(`--speed ${flags.speed}: expected a positive number or max`);
        return (await (await import('./load-tui.js')).loadTui()).tuiReplay(new Workspace(globals(cmd)), ref, speed);
      }),
    );

  const migrate = program
    .command('migrate')
    .description(
      "database migrations against the application's PostgreSQL (--database-url; --env E: database.environments.E.url in the config; else database.url, or DATABASE_URL); alone, in a terminal: the migration screen",
    );
  const db = (c: Command) =>
    envOption(
      c.option('--database-url <url>', 'postgres://… of the application database (default: database.url in the config, then DATABASE_URL)'),
    ).option('--dir <dir>', 'the migrations folder (default: database.migrations in the config, then migrations/)');
  const m = () => import('./migrate.js');
  // `cockpit migrate` alone, in a terminal: the migration screen (pending migrations with their lint verdicts, the
  // SQL each would send; upgrade, downgrade and backfills with their progress). Its database is database.url or
  // DATABASE_URL: options on this parent command would take the subcommands' --database-url away from them.
  migrate.action(
    act(async (_flags, cmd: Command) => {
      const { Workspace } = await import('./setup.js');
      return (await (await import('./load-tui.js')).loadTui()).tuiMigrate(new Workspace(globals(cmd)), {});
    }),
  );
  // Commands that change the database are recorded in the audit log (src/cli/command-session.ts).
  const recorded = async (
    cmd: Command,
    command: string,
    flags: Record<string, unknown>,
    extra: { args?: Record<string, string>; notes?: string[] },
    run: () => Promise<number>,
  ) => (await import('./command-session.js')).recordedMigrate(globals(cmd), command, flags, extra, run);
  db(
    migrate
      .command('create')
      .description('write a new migration file (timestamped id) with its upgrade and downgrade sections')
      .argument('<description>', 'what it does, e.g. "add listing price index"'),
  )
    .option('--no-transaction', 'for statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY)')
    .option(
      '--ts',
      'a TypeScript module with upgrade(m) and downgrade(m) (m.sql records SQL, m.query reads the database) instead of a .sql file',
    )
    .option('--js', 'the same as a JavaScript module')
    .action(
      act(async (d: string, flags, cmd: Command) =>
        (await m()).cmdMigrateCreate(globals(cmd), d, { ...flags, noTransaction: flags.transaction === false }),
      ),
    );
  db(
    migrate
      .command('status')
      .description('applied and pending migrations, and any problem (failed, edited, missing, out of order) with what to do'),
  )
    .option('--json', 'machine-readable')
    .action(act(async (flags, cmd: Command) => (await m()).cmdMigrateStatus(globals(cmd), flags)));
  db(
    migrate
      .command('lint')
      .description('check migrations for unsafe operations (locks, backward-incompatible changes, missing downgrades); exit 1 on errors')
      .argument('[ids...]', 'migration ids (default: all)'),
  )
    .option('--json', 'one JSON line per migration with findings, then the counts (what the migrate step reads)')
    .action(act(async (ids: string[], flags, cmd: Command) => (await m()).cmdMigrateLint(globals(cmd), ids, flags)));
  db(
    migrate
      .command('check')
      .description(
        'check every migration file is committed, has an upgrade and a downgrade, and was made by cockpit migrate create; reads only, exit 1 on findings',
      ),
  )
    .option('--json', 'one JSON line per finding, then the counts (what the migrate step reads)')
    .action(act(async (flags, cmd: Command) => (await m()).cmdMigrateCheck(globals(cmd), flags)));
  db(
    migrate
      .command('upgrade')
      .description(
        'apply the pending migrations (linted first; errors block unless --allow-unsafe), each in its own transaction unless it declares otherwise',
      ),
  )
    .option('--to <id>', 'stop after this migration')
    .option('--sql', 'print exactly the SQL that would run (BEGIN/COMMIT per migration, the history writes); change nothing')
    .addOption(
      new Option('--on-failure <what>', 'after a failure: stop, or revert-run (downgrade what this run applied)')
        .choices(['stop', 'revert-run'])
        .default('stop'),
    )
    .option('--no-lock', 'do not take the migration lock (only behind a transaction-mode PgBouncer)')
    .option('--accept-checksum <id>', 'accept the edited file of an applied migration (repeatable)', collect)
    .option('--allow-out-of-order', 'apply a pending migration older than the newest applied one')
    .option('--allow-unsafe <reason>', 'run despite lint errors, for this reason')
    .option('--json', 'one JSON line per event on stdout (what the migration screen and the migrate step read)')
    .action(
      act(async (flags, cmd: Command) =>
        flags.sql
          ? (await m()).cmdMigrateUpgrade(globals(cmd), flags)
          : recorded(cmd, 'migrate upgrade', flags, {}, async () => (await m()).cmdMigrateUpgrade(globals(cmd), flags)),
      ),
    );
  db(migrate.command('downgrade').description('revert the newest applied migration (-N: the newest N; --to ID: all newer than ID)'))
    .option('--steps <n>', 'how many (also written -N, e.g. downgrade -2)')
    .option('--to <id>', 'revert every migration newer than this one')
    .option('--sql', 'print exactly the SQL that would run; change nothing')
    .option('--no-lock', 'do not take the migration lock')
    .option('--accept-checksum <id>', 'accept the edited file of an applied migration (repeatable)', collect)
    .option('--json', 'one JSON line per event on stdout (what the migration screen and the migrate step read)')
    .action(
      act(async (flags, cmd: Command) =>
        flags.sql
          ? (await m()).cmdMigrateDowngrade(globals(cmd), flags)
          : recorded(cmd, 'migrate downgrade', flags, {}, async () => (await m()).cmdMigrateDowngrade(globals(cmd), flags)),
      ),
    );
  db(
    migrate
      .command('resolve')
      .description('settle a migration that failed outside a transaction: --applied (its effect is there) or --rolled-back')
      .argument('<id>', 'the failed migration'),
  )
    .option('--applied', 'its effect is in the database: record it as applied')
    .option('--rolled-back', 'its effect is not there (cleaned up by hand): forget the failed attempt')
    .action(
      act(async (id: string, flags, cmd: Command) =>
        recorded(
          cmd,
          'migrate resolve',
          flags,
          {
            args: { id },
            notes: [`${id} settled by hand as ${flags.applied ? 'applied' : flags.rolledBack ? 'rolled back' : '(not said)'}`],
          },
          async () => (await m()).cmdMigrateResolve(globals(cmd), id, flags),
        ),
      ),
    );
  db(
    migrate
      .command('backfill')
      .description(
        'run migrations/backfills/<name>.yaml in small committed batches with a checkpoint: a rerun resumes where it stopped; Ctrl-C stops after the batch in progress',
      )
      .argument('<name>', 'the backfill (its file name without .yaml)'),
  )
    .option('--batch-size <n>', "rows per batch (default: the file's batchSize, else 1000)")
    .option('--pause-ms <n>', "pause between batches, to throttle (default: the file's pauseMs, else 0)")
    .option('--json', 'one JSON line per event on stdout (what the migration screen and the migrate step read)')
    .action(
      act(async (name: string, flags, cmd: Command) =>
        recorded(cmd, 'migrate backfill', flags, { args: { name } }, async () => (await m()).cmdMigrateBackfill(globals(cmd), name, flags)),
      ),
    );
  db(
    migrate
      .command('verify')
      .description(
        'prove every migration can be rolled back and re-applied: on a scratch database, each is upgraded, downgraded (the schema must be as before) and upgraded again (the schema must be as after); exit 1 when one does not hold',
      ),
  )
    .option(
      '--scratch-url <url>',
      'an existing EMPTY database to verify in (refused when it holds anything), instead of creating one (which needs CREATEDB)',
    )
    .option('--json', 'the result as one JSON line on stdout (what the migrate step reads); the progress in words on stderr')
    .addHelpText(
      'after',
      `
The application database is never touched: --database-url (or, with --env E, database.environments.E.url; else
database.url, DATABASE_URL) only names the server on which a scratch database cockpit_verify_<random> is created,
through its maintenance database (postgres), and dropped at the end, also when verification fails (--scratch-url,
else database.environments.E.scratchUrl, else database.scratchUrl: an empty database to use instead). The schema is
compared from the catalog: tables, columns, indexes, constraints, sequences, views, enum types, functions and
triggers (not data).`,
    )
    .action(act(async (flags, cmd: Command) => (await m()).cmdMigrateVerify(globals(cmd), flags)));

  // The application database's backups: pg_dump with a manifest; restore with pg_restore, then integrity checks.
  const dbc = program.command('db').description("the application database's backups: take, list, restore (with integrity checks)");
  const d = () => import('./db.js');
  dbc
    .command('backup')
    .description(
      "pg_dump -Fc of the application database into database.backups (default .cockpit/backups), with a manifest: size, sha256, the migration it was taken at, every table's row count (read in the dumped snapshot)",
    )
    .option('--database-url <url>', 'postgres://… of the application database (default: database.url in the config, then DATABASE_URL)')
    .option(...ENV_OPTION)
    .option('--json', 'one JSON line per event on stdout, the last one the result (what the backup step reads)')
    .action(
      act(async (flags, cmd: Command) => recorded(cmd, 'db backup', flags, {}, async () => (await d()).cmdDbBackup(globals(cmd), flags))),
    );
  dbc
    .command('backups')
    .description('the backups there are, newest first')
    .option('--json', 'machine-readable')
    .action(act(async (flags, cmd: Command) => (await d()).cmdDbBackups(globals(cmd), flags)));
  dbc
    .command('restore')
    .description(
      "restore a backup over the database it was taken of (pg_restore --clean --if-exists --jobs N), then verify: every table's row count against the manifest, pg_amcheck when installed, database.verifyQueries; exit 1 when integrity fails",
    )
    .argument('<backup>', 'the backup id (cockpit db backups lists them), or latest')
    .option('--database-url <url>', 'postgres://… of the application database (default: database.url in the config, then DATABASE_URL)')
    .option(...ENV_OPTION)
    .option('--jobs <n>', 'parallel pg_restore jobs', '2')
    .option('--yes', 'do not ask (it destroys the current data): needed without a terminal')
    .option('--json', 'one JSON line per event on stdout, the last one the result (what the restore step reads)')
    .action(
      act(async (id: string, flags, cmd: Command) => {
        // Checked and confirmed first: a restore the operator declined is not a recorded session.
        const ready = await (await d()).prepareRestore(globals(cmd), id, flags);
        if (!ready) return 1;
        return recorded(cmd, 'db restore', flags, { args: { backup: ready.manifest.id } }, async () => (await d()).runRestore(ready));
      }),
    );

  const watch = program
    .command('watch')
    .description(
      "the post-deploy watch: Prometheus polled for an hour (watch: in cockpit.config.yaml), every sample judged against the policy's alert thresholds and recorded; a breach rings the bell and shows the policy's advice",
    )
    .option('--since <time>', 'the deploy time the hour counts from: ISO-8601 (UTC without a zone) or unix seconds (default: now)')
    .option('--duration <d>', 'how long to watch (default: watch.duration, else 1h)')
    .option('--interval <d>', 'poll interval (default: watch.interval, else 15s)')
    .option('--prometheus <url>', 'the Prometheus to ask (instead of watch.prometheus.url; env COCKPIT_PROMETHEUS_URL)')
    .option('--headless', 'no screen: JSON lines; exit 1 at the first breach (or an inconclusive hour), 0 after a clean one')
    .option('--backtest <from..to>', 'the rules over a past window at full speed: which alerts would have fired, and when')
    .option('--new', 'start a new watch even if one of the last hour stopped (by default it is continued)')
    .option('-p, --param <key=value>', 'a parameter of the watch checklist (repeatable)', collect);
  sessionOptions(watch)
    .addHelpText(
      'after',
      `
Exit codes: 0 a clean watch; 1 a threshold breached, or too little data to judge (missing data is never a pass);
2 bad flags or configuration; 3 stopped (the watch continues its hour when run again, or with cockpit resume).
Without a config, --prometheus alone works: the rules are the policy's (error rate +1 point, p95 +20%, any failed
payment, payment failures over 1%, database CPU over 80%) on prom-client metric names, job "app" and "db".`,
    )
    .action(act(async (flags, cmd: Command) => (await import('./watch.js')).cmdWatch(globals(cmd), flags)));

  program
    .command('demo')
    .description(
      'the cockpit on its built-in sandbox: a small app repository with history, the app running with its database, Prometheus and traffic, and a release to make; nothing to configure',
    )
    .option('--reset', 'make the sandbox anew')
    .option('--dir <dir>', 'where the sandbox lives (default: $COCKPIT_DEMO_DIR or ~/.cache/release-cockpit/demo)')
    .option('--non-interactive', 'no screen: run the demo checklist, confirming every step by flag')
    .option('--messages', "print what the demo's chat and status page received (while it runs or after), then exit")
    // ── demo services (issue 17, supervisor room) ──
    .option('--stop', 'stop every process of the demo (its database, its deploy targets …) and exit; works without a terminal')
    .addOption(
      new Option(
        '--scenario <name>',
        'how v1.4.0 misbehaves after its deploy: none, bad-payments (2% of payments fail), slow (latency rises)',
      )
        .choices([...DEMO_SCENARIOS])
        .default('none'),
    )
    .option('--no-services', 'the git sandbox only (no database, no running app): fast, nothing left running')
    .addHelpText(
      'after',
      `
Without --no-services the demo starts its services in the sandbox before the home screen, each on a free loopback
port: PostgreSQL for the app (one database per environment, at v1.3.0's migrations), a chat webhook and a status
page (--messages shows what they got), the Property app v1.3.0 on staging and production behind HAProxy (blue live,
green idle), Prometheus scraping it every second, and 20 requests/s of traffic. What is not installed is named with
how to install it, and the rest runs. The home screen's story line leads through the release: release v1.4.0,
deploy to staging, deploy to production (A gives the senior's approval as the demo's Ben), the watch (2 minutes at
1 s: the demo's; the policy's is an hour). With --scenario bad-payments the watch advises a rollback and R runs it.
Every process is recorded in .sandbox/demo/processes.json; quitting the cockpit stops them (so do --stop and the
next start after a cockpit was killed). The ports they got are written to cockpit.local.yaml in the sandbox.`,
    )
    .action(act(async (flags) => (await import('./demo.js')).cmdDemo(flags)));

  program.action(act(async (_flags, cmd: Command) => home(globals(cmd))));

  // `migrate downgrade -2` (the policy's spelling) is `--steps 2`.
  const i = argv.indexOf('downgrade');
  if (i > 0 && argv[i - 1] === 'migrate') argv = argv.map((a, j) => (j > i && /^-\d+$/.test(a) ? `--steps=${a.slice(1)}` : a));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    throw e;
  } finally {
    // Anchors of the audit log still being written to git (and pushed) are finished before the process ends.
    await anchorsWritten();
    await closeStores();
  }
  return code;
}
