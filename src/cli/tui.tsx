import { render } from 'ink';
import path from 'node:path';
import { appContext } from '../app/context.js';
import { steadyNow, type Clock } from '../adapters/clock.js';
import { RunRefused, UsageError } from '../app/errors.js';
import type { SessionDrive } from '../app/run.js';
import { neutralize } from '../core/sanitize.js';
import { dueLine, overdue } from '../core/notify/due.js';
import { nextSlot, type ScheduleTimes } from '../core/release/slot.js';
import type { LiveSession } from '../engine/live.js';
import { App, type Route } from '../tui/App.js';
import { when } from '../tui/home-layout.js';
import { ago } from '../tui/text.js';
import type { HomeData } from '../tui/types.js';
import { handOver, keepFirstFrame, recordStdout, sameUntil, type FirstFrame, type Inputs } from './first-frame.js';
import { themeFor } from '../tui/theme.js';
import type { AppServices, ChecklistEntry, MigrationServices, SessionControls } from '../tui/types.js';
import type { MigrateFlags } from './migrate.js';
import { sessionRows } from './sessions.js';
import { readHomeData } from './home-data.js';
import type { Workspace } from './setup.js';
import { homeInputs, type BaseWorkspace } from './workspace.js';
import { DEMO_SENIOR, demoMessagesCommand, isDemoSandbox } from '../demo/mode.js';

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

/**
 * The services the screens use, over one workspace: nothing in tui/ touches the store or the adapters itself. The
 * home screen's is the light workspace (cli/workspace.ts); what needs the full one (a run, a form, a checklist's
 * check) makes it first, and loads the use cases then: the engine, the step kinds and zod are not in the home
 * screen's start-up (docs/architecture.md §6).
 */
export function workspaceServices(ws: BaseWorkspace, onSession: (s: LiveSession) => void, parts: { clock?: Clock } = {}): AppServices {
  let full: Workspace | undefined;
  // The use cases' workspace is the full one, made (by `withFull`) before any of them runs.
  const ctx = appContext(
    () => {
      if (!full) throw new Error('the full workspace is made before a use case runs');
      return full;
    },
    { warn, ...parts },
  );
  const withFull = async () => (full ??= await ws.full());
  const identity = ctx.identity();
  // The screens drive their sessions themselves: the session is handed over as it starts.
  const live: SessionDrive<SessionControls> = async (deps, open, secrets) => {
    const { LiveSession } = await import('../engine/live.js');
    const session = await LiveSession.start(deps, open, secrets);
    onSession(session);
    return session as SessionControls;
  };
  return {
    version: ctx.version,
    operator: identity.operator,
    // Durations on screen (elapsed, the recovery clock) do not jump when the system's time is set (adapters/clock.ts).
    now: steadyNow(ctx.clock),
    home: async () => readHomeData(ws, await ws.openReader(), identity.host, ctx.clock.now()),
    sessions: async () => sessionRows(await ws.openReader(), 50, identity.host, ws.repoDir),
    abort: async (id, reason) => {
      await withFull();
      const { abortStopped } = await import('../app/stopped.js');
      await abortStopped(ctx, { session: id, reason });
    },
    superseded: async (id) => {
      const store = await ws.openReader();
      const all = await store.listSessions(200);
      const row = all.find((s) => s.id === id);
      if (!row) return null;
      const { supersededSessions } = await import('../app/superseded.js');
      return (await supersededSessions(store, [row], all, ws.repoDir)).get(id) ?? null;
    },
    start: async (id, given, yes, recoverySince) => {
      await withFull();
      const { prepareRun, startRun } = await import('../app/run.js');
      let run;
      try {
        run = prepareRun(ctx, { checklist: id, params: given, yes, ...(recoverySince ? { recoverySince } : {}) });
      } catch (e) {
        // The form shows the problems on one line.
        if (e instanceof RunRefused) throw new UsageError(e.problems.join('; '));
        throw e;
      }
      return startRun(ctx, run, { mode: 'interactive' }, live);
    },
    resume: async (id, secrets) => {
      await withFull();
      const { resumeRun } = await import('../app/run.js');
      return resumeRun(ctx, { session: id, params: secrets ?? {} }, live);
    },
    suggest: async (id) => {
      const root = (await withFull()).mustLoad(id).bundle.root.checklist;
      const { suggestParams } = await import('../app/suggest.js');
      return suggestParams(ws.repoDir, root.id, root.params);
    },
    check: async (id) => {
      const r = (await withFull()).loadBundle(ws.sourceFor(id).source);
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
    // The demo's sandbox (cockpit demo) only: the home's story line, A approves as the demo's senior developer.
    ...(isDemoSandbox(ws.repoDir)
      ? {
          demo: {
            senior: DEMO_SENIOR,
            messagesCommand: demoMessagesCommand(ws.repoDir),
            approve: async (id: string) => (await import('../demo/approver.js')).approveAsDemoSenior(ws.repoDir, id),
          },
        }
      : {}),
  };
}

export interface TuiOptions {
  /** Exit as soon as the first screen has its content (the start-up benchmark). */
  exitWhenReady?: boolean;
  /** The migration screen's database and folder (`cockpit migrate --database-url … --dir …`). */
  migrations?: AppServices['migrations'];
  /** The home screen's first frame, drawn before Ink loaded (or not), and where Ink's is kept for the next start. */
  firstFrame?: FirstFrame | null;
  /** The signatures of the home screen's files, when taken already (workspace.ts's homeInputs). */
  inputs?: Inputs | null;
  /** The home screen's data, when read already (for the plain first frame, cli/plain-home.ts). */
  data?: HomeData | null;
  /**
   * The time the plain first frame was drawn at: Ink's first frame is drawn at the same time, so that its times
   * ("8s ago") read as the frame on screen does and the hand-over finds the same bytes; the clock runs on from there.
   */
  frameNow?: number;
}

/**
 * Run the full-screen cockpit until the operator quits. The alternate screen keeps the operator's scrollback as it
 * was; what happened is printed after, in plain words, and is in the audit log.
 */
export async function runTui(
  ws: BaseWorkspace,
  initial: (services: AppServices) => Promise<Route> | Route,
  opts: TuiOptions = {},
): Promise<number> {
  let current: LiveSession | null = null;
  const base = workspaceServices(ws, (s) => (current = s));
  // Until the first frame is up, at the plain frame's time (frameNow); then the services' own clock.
  let frozen = opts.frameNow;
  const services: AppServices = {
    ...base,
    ...(frozen !== undefined ? { now: () => frozen ?? base.now() } : {}),
    ...(opts.migrations ? { migrations: opts.migrations } : {}),
  };
  const route = await initial(services);
  if (route.name === 'session') current = route.controls as unknown as LiveSession;
  let code = -1;
  // COCKPIT_EXIT_WHEN_READY=1: the start-up benchmark times any screen to its first frame with content.
  const exitWhenReady = opts.exitWhenReady ?? process.env.COCKPIT_EXIT_WHEN_READY === '1';
  const altScreen = !exitWhenReady;
  const first = opts.firstFrame;
  // A first frame already on the screen (first-frame.ts) is in the alternate screen already: entering it again
  // would clear it. Ink's writes that repeat it are dropped.
  const endHandOver = first?.drawn ? handOver(first.drawn, first.altScreen) : null;
  if (first) first.drawn = null;
  if (altScreen && !endHandOver) process.stdout.write('\u001b[?1049h\u001b[H');
  screenUp = true;
  const keep =
    first && route.name === 'home' && route.data ? keepFrame(first, route.data, services.now, ws.config.release?.schedule) : null;
  const instance = render(
    <App
      services={services}
      initial={route}
      theme={themeFor(process.env)}
      onExit={(c) => (code = c)}
      onReady={() => {
        keep?.();
        frozen = undefined;
        endHandOver?.();
        if (exitWhenReady) setImmediate(() => onSignal());
      }}
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
    endHandOver?.();
    if (altScreen) process.stdout.write('\u001b[?1049l');
    screenUp = false;
    for (const line of deferredWarnings.splice(0)) process.stderr.write(line);
  }
  const live = current as LiveSession | null;
  // The screen the operator quit from says the code (README, "Exit codes"): a session's on its screen, 3 when the
  // quit stopped something, else 0. A signal (no quit from a screen): the session's, if one was opened.
  if (!live) return code === -1 ? 0 : code;
  const s = live.view().state;
  const exit = code === -1 ? live.exitCode() : code;
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
const noTerminalHint = (ws: BaseWorkspace) =>
  `Run non-interactively instead: ${ws.command(['run'])} <checklist> --non-interactive [--yes all|step,step] [--json]; read the log: ${ws.command(['audit', 'list'])}, ${ws.command(['audit', 'show'])} <session>`;

/** `cockpit`: the home screen. */
export async function tuiHome(ws: BaseWorkspace, opts: TuiOptions = {}): Promise<number> {
  requireTerminal('the cockpit', noTerminalHint(ws));
  return runTui(
    ws,
    async (services) => {
      // The signatures of what the home screen reads, taken before it reads them (or opens them: main.ts takes them
      // before it opens the audit log ahead): a change meanwhile shows as one.
      const inputs = opts.firstFrame ? (opts.inputs !== undefined ? opts.inputs : homeInputs(ws)) : null;
      const data = opts.data ?? (await services.home());
      if (opts.firstFrame) homeFrameInputs.set(data, inputs);
      return { name: 'home', data };
    },
    opts,
  );
}

const homeFrameInputs = new WeakMap<HomeData, Inputs | null>();

/**
 * Record Ink's first frame of the home screen (from now to the screen's ready()) and keep it for the next start, with
 * how long its times ("5m ago", the release calendar) read the same. Not kept while a session runs: whether it still
 * runs is not in any file.
 */
function keepFrame(first: FirstFrame, data: HomeData, now: () => number, schedule: ScheduleTimes | undefined): () => void {
  const inputs = homeFrameInputs.get(data);
  const stop = recordStdout();
  const from = now();
  return () => {
    const bytes = stop();
    const at = now();
    if (!inputs || data.sessions.some((s) => s.running)) return;
    const times = (t: number) =>
      JSON.stringify([
        data.sessions.map((s) => ago(t - s.startedAt)),
        // The release calendar's slot is the next one at `t`, and its times as they read at `t`.
        schedule && data.schedule
          ? [
              nextSlot(schedule, t),
              when(data.schedule.release, t, true),
              when(data.schedule.freezeStart, t),
              when(data.schedule.announceBy, t),
              data.schedule.due ? [dueLine(data.schedule.due, t), overdue(data.schedule.due, t)] : null,
            ]
          : null,
      ]);
    // Drawn at some time between `from` and `at`: the same texts at both ends, so at that time too.
    if (times(from) !== times(at)) return;
    keepFirstFrame(first.key, { inputs, from, until: sameUntil(times, at), bytes });
  };
}

/**
 * `cockpit run <checklist>`, `release`, `hotfix` in a terminal without every parameter: the parameter form, what
 * `-p` gave filled in and the rest suggested where the cockpit can; enter starts the run on this screen.
 */
export async function tuiForm(
  ws: Workspace,
  ref: string,
  given: Record<string, string>,
  yes?: string[],
  recoverySince?: string,
): Promise<number> {
  requireTerminal('the parameter form', noTerminalHint(ws));
  const { bundle, origin } = ws.mustLoad(ref);
  const cl = bundle.root.checklist;
  const entry: ChecklistEntry = {
    id: ref,
    title: cl.title,
    ...(cl.description ? { description: cl.description } : {}),
    origin: origin.byId ? 'by id' : 'file',
    params: cl.params,
    given,
    ...(yes?.length ? { yes } : {}),
    ...(recoverySince ? { recoverySince } : {}),
  };
  return runTui(ws, () => ({ name: 'form', checklist: entry }));
}

/** The migration screen's services, loaded when first used: pg and the migration code stay out of start-up. */
function lazyMigrations(ws: BaseWorkspace, flags: MigrateFlags): MigrationServices {
  let loaded: Promise<MigrationServices> | null = null;
  const get = () =>
    (loaded ??= Promise.all([ws.full(), import('./migrate-screen.js')]).then(([full, m]) => m.migrationServices(full, flags)));
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
