import { cmdRun } from './commands.js';
import { existsSync } from 'node:fs';
import { checkSandboxDir, demoDir, ensureSandbox, isSandbox, environmentsWithProcesses, stopSandboxTargets } from '../demo/sandbox.js';
import { runningDemo, type StartResult, startAll, stopAll } from '../demo/supervisor.js';
import { DEMO_SCENARIOS, type DemoScenario } from '../demo/scenario-names.js';
import { markDemoSandbox } from '../demo/mode.js';
import { DEMO_WATCH } from '../demo/history.js';
import { cockpitCommand } from '../core/command-line.js';
import { FailedError, UsageError } from '../core/errors.js';
import { Workspace } from './setup.js';

export interface DemoFlags {
  reset?: boolean;
  dir?: string;
  nonInteractive?: boolean;
  /** --stop: stop every demo process and exit. */
  stop?: boolean;
  scenario?: string;
  /** false with --no-services: the git sandbox only. */
  services?: boolean;
  /** --messages: print what the demo's chat and status page received, then exit. */
  messages?: boolean;
}

/** Output that never throws: after SIGHUP the terminal may be gone. */
function say(line: string): void {
  try {
    process.stdout.write(`${line}\n`);
  } catch {
    /* no terminal left to tell */
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Stops every service the demo recorded in `dir` (and what a --no-services deploy left), saying what it did. */
async function stopServices(dir: string, why: string, sayWhenNothing = false): Promise<void> {
  const r = await stopAll(dir, (l) => say(l));
  if (!r.recorded) {
    // Deploys made without the supervisor (--no-services) have only the deploy script's own state.
    const envs = environmentsWithProcesses(dir);
    stopSandboxTargets(dir);
    if (envs.length) say(`${why}: stopped what scripts/deploy.sh left on ${envs.join(', ')}`);
    else if (sayWhenNothing) say(`No demo process was running in ${dir}`);
    return;
  }
  if (r.stopped)
    say(
      `${why}: stopped the demo's ${r.stopped} process${r.stopped === 1 ? '' : 'es'} in ${seconds(r.ms)}${r.killed ? ` (${r.killed} killed after 5 s)` : ''}`,
    );
  else say(`${why}: none of the demo's recorded processes was still running`);
}

/**
 * Stops the services once: the first of the cockpit quitting and a signal (the screen may quit on SIGTERM too while
 * the handler runs) does it, the other waits for it.
 */
function stopperFor(dir: string): (why: string) => Promise<void> {
  let stopping: Promise<void> | null = null;
  return (why) => (stopping ??= stopServices(dir, why));
}

/**
 * Stops the services when the cockpit is told to end (SIGINT, SIGTERM, SIGHUP), then exits 128 + the signal's
 * number. While they start (`starting`), the start is aborted and the service starting now is let finish and be
 * recorded first: stopped then by its record, it is not left running unrecorded. Returns the function that removes
 * the handlers.
 */
function stopOnSignals(stop: (why: string) => Promise<void>, abort: AbortController, starting: () => Promise<unknown> | null): () => void {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  const handler = (signal: NodeJS.Signals) => {
    const pending = starting();
    if (pending && !abort.signal.aborted) say(`${signal}: the service starting now is let finish, then every one is stopped`);
    abort.abort();
    void Promise.resolve(pending)
      .catch(() => {})
      .then(() => stop(signal))
      .finally(() => process.exit(128 + (numbers[signal] ?? 0)));
  };
  for (const s of Object.keys(numbers)) process.on(s, handler);
  return () => {
    for (const s of Object.keys(numbers)) process.removeListener(s, handler);
  };
}

/**
 * `cockpit demo` / `npm start`: the cockpit on a sandbox it makes itself. In a terminal it opens the home screen on
 * the sandbox; without one (CI, a pipe) it runs the demo checklist non-interactively so the tour still shows something.
 */
export async function cmdDemo(flags: DemoFlags): Promise<number> {
  const dir = demoDir(flags.dir);
  // What the demo's chat and status page received (src/demo/messages.ts).
  if (flags.messages) return (await import('../demo/messages.js')).printMessages(dir);
  if (flags.stop) {
    // Only a sandbox the demo made: a processes.json elsewhere is nothing the demo started.
    if (existsSync(dir)) {
      if (!isSandbox(dir)) throw new UsageError(`${dir} is not a demo sandbox (it has no .sandbox/origin.git): nothing stopped`);
      checkSandboxDir(dir, false); // and one of the user's own
    }
    await stopServices(dir, 'cockpit demo --stop', true);
    return 0;
  }
  const scenario = (flags.scenario ?? 'none') as DemoScenario;
  if (!DEMO_SCENARIOS.includes(scenario)) throw new UsageError(`--scenario ${flags.scenario}: choose one of ${DEMO_SCENARIOS.join(', ')}`);
  // Before anything is stopped, written or removed: --dir must be a sandbox the demo made (or nothing yet).
  checkSandboxDir(dir, !!flags.reset);
  const withServices = flags.services !== false;
  // A demo running there keeps its services and its sandbox: a second one neither starts them again nor removes them.
  const running = (flags.reset || withServices) && existsSync(dir) ? runningDemo(dir) : null;
  if (running !== null) {
    const stop = cockpitCommand(['demo', '--stop', ...(flags.dir ? ['--dir', dir] : [])], {
      program: 'npx cockpit',
      repoDir: dir,
      elsewhere: false,
    });
    throw new UsageError(
      `a demo is already running on ${dir} (its cockpit is pid ${running}): use that one, or quit it${flags.reset ? ' before --reset removes its sandbox' : ''} (${stop} stops its services)`,
    );
  }
  // The demo's steps migrate, back up and restore a database: never one named in the user's own environment.
  if (process.env.DATABASE_URL) {
    delete process.env.DATABASE_URL;
    say("(DATABASE_URL from your environment is not used by the demo: its steps would change that database's data)");
  }
  if (flags.reset) await stopServices(dir, 'cockpit demo --reset');
  const t0 = Date.now();
  const made = ensureSandbox(dir, !!flags.reset);
  const sandboxMs = Date.now() - t0;
  let removeHandlers = () => {};
  const stop = stopperFor(dir);
  if (withServices) {
    say(`Starting the demo's services in ${dir}${scenario === 'none' ? '' : ` (scenario ${scenario})`}:`);
    const abort = new AbortController();
    let starting: Promise<StartResult> | null = null;
    removeHandlers = stopOnSignals(stop, abort, () => starting);
    // Printed as the user types them (npx cockpit, --dir when it was given).
    const demoCommand = (...args: string[]) =>
      cockpitCommand(['demo', ...args, ...(flags.dir ? ['--dir', dir] : [])], { program: 'npx cockpit', repoDir: dir, elsewhere: false });
    starting = startAll({ dir, scenario, log: (l) => say(`  ${l}`), stopCommand: demoCommand('--stop'), signal: abort.signal });
    const r = await starting.catch(async (e: unknown) => {
      if (abort.signal.aborted) return await new Promise<never>(() => {}); // the signal's handler stops them and exits
      removeHandlers();
      if (e instanceof FailedError)
        throw new FailedError(`${e.message}\n(${demoCommand('--no-services')} runs the git sandbox alone, without services)`);
      throw e;
    });
    starting = null;
    if (r.stopped) await new Promise<never>(() => {}); // the signal's handler stops them and exits
    say(
      `The demo's services are up in ${seconds(r.ms)} (the sandbox's git part: ${seconds(sandboxMs)}${made ? ', made now' : ''})${r.skipped.length ? `; without ${r.skipped.map((x) => x.name).join(', ')}` : ''}. Quitting the cockpit stops them.\n`,
    );
    if (!r.skipped.some((x) => x.name === 'prometheus'))
      say(
        `The demo's post-deploy watch is short so the story fits in minutes: ${DEMO_WATCH.duration} polled every ${DEMO_WATCH.interval}, against the ${DEMO_WATCH.baseline} before the deploy (the policy's watch is an hour; see watch: in the sandbox's cockpit.config.yaml).\n`,
      );
  }
  try {
    return await runDemo(dir, made, flags, withServices);
  } finally {
    if (withServices) {
      await stop('The cockpit quit');
      removeHandlers();
    }
  }
}

async function runDemo(dir: string, made: boolean, flags: DemoFlags, withServices: boolean): Promise<number> {
  const interactive = !flags.nonInteractive && !!process.stdin.isTTY && !!process.stdout.isTTY;
  // The commands printed say `npx cockpit` (the demo is run from the cockpit folder) and --repo the sandbox.
  const ws = new Workspace({ repo: dir }, 'npx cockpit');
  const reset = cockpitCommand(['demo', '--reset', ...(flags.dir ? ['--dir', dir] : [])], {
    program: 'npx cockpit',
    repoDir: dir,
    elsewhere: false,
  });
  const where = `${made ? 'Made' : 'Using'} the demo sandbox in ${dir}${made ? '' : ` (${reset} makes it anew)`}`;
  const recorded = async () => {
    // The newest session is the one just run (or the last one touched on the screen).
    const [newest] = await (await ws.openStore({ readOnly: true })).listSessions(1);
    const show = newest
      ? ws.command(['audit', 'show', newest.id, '--format', 'md'])
      : `${ws.command(['audit', 'show'])} <session> --format md`;
    return `See what was recorded (from the cockpit folder):\n  ${ws.command(['audit', 'list'])}\n  ${show}\n  ${ws.command(['audit', 'verify'])}\n`;
  };
  // A deploy leaves the Property app and HAProxy serving (to look at, switch, roll back): said, with how to stop them.
  // Only where the deploy script's state names processes: a deploy that failed (no HAProxy) or a stop leaves none.
  const serving = () =>
    environmentsWithProcesses(dir)
      .map(
        (env) =>
          `The demo's Property app keeps serving ${env}: see it with ./scripts/deploy.sh status --env ${env}, stop it with ./scripts/deploy.sh stop --env ${env} (in ${dir}), or ${reset}\n`,
      )
      .join('');
  // With services the supervisor stops them when the cockpit quits: nothing keeps serving.
  const after = async () => (await recorded()) + (withServices ? '' : serving());
  if (interactive) {
    // The screens know this is the demo's sandbox (src/demo/mode.ts): the home's story line, A approves as the demo's senior.
    markDemoSandbox(dir);
    const { tuiHome } = await (await import('./load-tui.js')).loadTui();
    const code = await tuiHome(ws);
    process.stdout.write(`${where}\n${await after()}`);
    return code;
  }
  process.stdout.write(`${where}\n\n`);
  const code = await cmdRun({ repo: dir }, 'demo', { nonInteractive: true, yes: ['all'] });
  process.stdout.write(`\n${await after()}`);
  return code;
}
