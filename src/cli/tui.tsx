import { render } from 'ink';
import path from 'node:path';
import { appContext } from '../app/context.js';
import { RunRefused } from '../app/errors.js';
import { prepareRun, resumeRun, startRun, type SessionDrive } from '../app/run.js';
import { neutralize } from '../core/sanitize.js';
import { nextSlot } from '../core/release/schedule.js';
import { LiveSession } from '../engine/live.js';
import { App, type Route } from '../tui/App.js';
import { themeFor } from '../tui/theme.js';
import type { AppServices, MigrationServices, SessionControls } from '../tui/types.js';
import type { MigrateFlags } from './migrate.js';
import { sessionRows } from './sessions.js';
import { cachedSummaries } from './summary-cache.js';
import { UsageError, Workspace } from './setup.js';

/** Both ends must be a terminal: Ink needs raw mode on stdin, and a frame on a pipe is noise. */
export function requireTerminal(what: string, instead: string): void {
  if (process.stdin.isTTY && process.stdout.isTTY) return;
  throw new UsageError(
    `${what} needs a terminal (stdin and stdout must be a TTY; here ${!process.stdin.isTTY ? 'stdin' : 'stdout'} is not).\n  ${instead}`,
  );
}

/** Warnings from background work while a screen is drawn: printed when the screen is gone (runTui); after it, at once. */
const deferredWarnings: string[] = [];
let screenUp = false;
const warn = (line: string): void => void (screenUp ? deferredWarnings.push(line) : process.stderr.write(line));

/** The services the screens use, over one workspace: nothing in tui/ touches the store or the adapters itself. */
export function workspaceServices(ws: Workspace, onSession: (s: LiveSession) => void): AppServices {
  const ctx = appContext(() => ws, { warn });
  const identity = ctx.identity();
  // The screens drive their sessions themselves: the session is handed over as it starts.
  const live: SessionDrive<SessionControls> = async (deps, open, secrets) => {
    const session = await LiveSession.start(deps, open, secrets);
    onSession(session);
    return session as SessionControls;
  };
  return {
    version: ctx.version,
    operator: identity.operator,
    now: () => ctx.clock.now(),
    home: async () => {
      const store = await ws.openStore();
      // Titles and parameters only: full validation (steps, includes) runs after the first frame, in `check`.
      const listed = ws.listChecklists();
      const summaries = cachedSummaries(listed.map((c) => ws.sourceFor(c.file).source));
      const checklists = listed.map((c, i) => {
        const sum = summaries[i];
        return {
          id: c.id,
          title: sum?.title ?? c.id,
          ...(sum?.description ? { description: sum.description } : {}),
          origin: c.origin === 'repo' ? (c.overrides ? 'this repo (overrides a default)' : 'this repo') : 'default',
          params: sum?.params ?? {},
          ...(sum ? {} : { broken: `it does not parse; cockpit checklist validate ${c.file}` }),
        };
      });
      const sessions = await sessionRows(store, 50, identity.host);
      const schedule = ws.config.release?.schedule;
      return {
        repoDir: ws.repoDir,
        auditLocation: store.location,
        checklists,
        sessions,
        ...(schedule ? { schedule: nextSlot(schedule, ctx.clock.now()) } : {}),
      };
    },
    sessions: async () => sessionRows(await ws.openStore(), 50, identity.host),
    start: async (id, given) => {
      let run;
      try {
        run = prepareRun(ctx, { checklist: id, params: given });
      } catch (e) {
        // The form shows the problems on one line.
        if (e instanceof RunRefused) throw new UsageError(e.problems.join('; '));
        throw e;
      }
      return startRun(ctx, run, { mode: 'interactive' }, live);
    },
    resume: async (id, secrets) => resumeRun(ctx, { session: id, params: secrets ?? {} }, live),
    check: async (id) => {
      const r = ws.loadBundle(ws.sourceFor(id).source);
      const d = r.diagnostics[0];
      if (r.bundle || !d) return null;
      return `${path.basename(d.file)}:${d.line}:${d.column}: ${d.message}${r.diagnostics.length > 1 ? ` (+${r.diagnostics.length - 1} more)` : ''}; cockpit checklist validate lists them`;
    },
    events: async (id) => {
      const store = await ws.openStore();
      return store.readEvents(id);
    },
    migrations: lazyMigrations(ws, {}),
    // BEL moves no cursor: Ink's frame is not disturbed.
    bell: () => void process.stdout.write('\x07'),
    command: (args) => ws.command(args),
  };
}

export interface TuiOptions {
  /** Exit as soon as the first screen has its content (the start-up benchmark). */
  exitWhenReady?: boolean;
  /** The migration screen's database and folder (`cockpit migrate --database-url … --dir …`). */
  migrations?: AppServices['migrations'];
}

/**
 * Run the full-screen cockpit until the operator quits. The alternate screen keeps the operator's scrollback as it
 * was; what happened is printed after, in plain words, and is in the audit log.
 */
export async function runTui(
  ws: Workspace,
  initial: (services: AppServices) => Promise<Route> | Route,
  opts: TuiOptions = {},
): Promise<number> {
  let current: LiveSession | null = null;
  const services = { ...workspaceServices(ws, (s) => (current = s)), ...(opts.migrations ? { migrations: opts.migrations } : {}) };
  const route = await initial(services);
  if (route.name === 'session') current = route.controls as unknown as LiveSession;
  let code = -1;
  const altScreen = !opts.exitWhenReady;
  if (altScreen) process.stdout.write('\u001b[?1049h\u001b[H');
  screenUp = true;
  const instance = render(
    <App
      services={services}
      initial={route}
      theme={themeFor(process.env)}
      onExit={(c) => (code = c)}
      onReady={opts.exitWhenReady ? () => setImmediate(() => instance.unmount()) : undefined}
    />,
    { exitOnCtrlC: false, patchConsole: false, incrementalRendering: false, maxFps: 30 },
  );
  // A lost SSH session or a kill: stop the running step cleanly (the session stays resumable), then leave.
  const onSignal = () => {
    void (async () => {
      await (current as LiveSession | null)?.stop();
      instance.unmount();
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    await instance.waitUntilExit();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    if (altScreen) process.stdout.write('\u001b[?1049l');
    screenUp = false;
    for (const line of deferredWarnings.splice(0)) process.stderr.write(line);
  }
  const live = current as LiveSession | null;
  if (!live) return code === -1 ? 0 : code;
  const s = live.view().state;
  const exit = live.exitCode();
  const c = (...args: string[]) => ws.command(args);
  const what =
    s.outcome === 'succeeded'
      ? 'finished'
      : s.outcome === 'aborted'
        ? 'aborted'
        : `stopped (${s.status}); continue it with: ${c('resume', s.id)}`;
  process.stdout.write(
    neutralize(
      `session ${s.id} (${s.checklist.title}) ${what}\n  what happened: ${c('audit', 'show', s.id)}   ·   replay it: ${c('replay', s.id)}\n`,
    ),
  );
  return exit;
}

/** How to work without a terminal, in commands that run where they are printed (with --repo when elsewhere). */
const noTerminalHint = (ws: Workspace) =>
  `Run non-interactively instead: ${ws.command(['run'])} <checklist> --non-interactive [--yes all|step,step] [--json]; read the log: ${ws.command(['audit', 'list'])}, ${ws.command(['audit', 'show'])} <session>`;

/** `cockpit`: the home screen. */
export async function tuiHome(ws: Workspace, opts: TuiOptions = {}): Promise<number> {
  requireTerminal('the cockpit', noTerminalHint(ws));
  return runTui(ws, async (services) => ({ name: 'home', data: await services.home() }), opts);
}

/** The migration screen's services, loaded when first used: pg and the migration code stay out of start-up. */
function lazyMigrations(ws: Workspace, flags: MigrateFlags): MigrationServices {
  let loaded: Promise<MigrationServices> | null = null;
  const get = () => (loaded ??= import('./migrate-screen.js').then((m) => m.migrationServices(ws, flags)));
  return {
    load: async () => (await get()).load(),
    run: (args, onOutput) => {
      let stop = () => {};
      const done = get().then((m) => {
        const h = m.run(args, onOutput);
        stop = h.stop;
        return h.done;
      });
      return { done, stop: () => stop() };
    },
  };
}

/** `cockpit migrate` in a terminal: the migration screen. */
export async function tuiMigrate(ws: Workspace, flags: MigrateFlags): Promise<number> {
  requireTerminal(
    'the migration screen',
    'Without a terminal: cockpit migrate status | lint | upgrade [--sql] | downgrade | backfill <name> (cockpit migrate --help)',
  );
  return runTui(ws, () => ({ name: 'migrate' }), { migrations: lazyMigrations(ws, flags) });
}

/** `cockpit replay <session>`. */
export async function tuiReplay(ws: Workspace, ref: string, speed: number | undefined): Promise<number> {
  requireTerminal('cockpit replay', `Read the session as text instead: ${ws.command(['audit', 'show', ref])} [--format md]`);
  const store = await ws.openStore({ readOnly: true });
  const r = await store.resolveSessionId(ref, ws.command(['audit', 'list']));
  if ('error' in r) throw new UsageError(r.error);
  const events = await store.readEvents(r.id);
  return runTui(ws, () => ({ name: 'replay', sessionId: r.id, events, speed }));
}
