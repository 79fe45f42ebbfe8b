import { render } from 'ink-testing-library';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import type { AuditEvent } from '../../src/core/events.js';
import type { LiveSession } from '../../src/engine/live.js';
import { anchorsWritten } from '../../src/engine/pending-anchors.js';
import { App, type Route } from '../../src/tui/App.js';
import { assertWordsFromKeymap, walk as walkKeys, type Scenario, type WalkHooks } from '../helpers/keys.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { cockpit, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { frame, KEY, press, type, until, waitFor, type Rendered } from '../helpers/ink.js';
import { SLACK_TOKEN, slackReceiver } from '../helpers/notify-receivers.js';
import {
  cleanupPrometheusHarness,
  paymentsFlowing,
  prometheusTest,
  startWatchedService,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';

// Every screen in every step state, over the real engine (git repository, SQLite audit log, child processes): the
// status bar's words are the keymap's, and every key it offers changes something on screen (or ends the program).

const STATES = `id: states
title: Every step state
params:
  env: {type: enum, choices: [staging, production], default: staging}
steps:
  - id: built
    title: Built
    kind: run
    run: echo built
  - id: frozen
    title: Freeze gate
    kind: freeze
  - id: prod-only
    title: Only in production
    kind: run
    run: echo never
    when: {env: [production]}
  - id: approval
    title: Approval
    kind: confirm
    prompt: Approved?
  - id: broken
    title: Broken
    kind: run
    run: echo "it broke"; exit 3
  - id: last
    title: Last
    kind: run
    run: echo last
`;

const LONG = `id: long
title: Long step
steps:
  - id: first
    title: First
    kind: run
    run: echo one
  - id: wait
    title: Waits
    kind: run
    run: echo waiting; sleep 30
  - id: after
    title: After
    kind: run
    run: echo after
`;

const OK = `id: ok
title: All pass
steps:
  - id: one
    title: One
    kind: run
    run: echo one
  - id: two
    title: Two
    kind: run
    run: echo two
  - id: three
    title: Three
    kind: run
    run: echo three
`;

const FORM = `id: form
title: With parameters
params:
  version: {type: semver, required: true, description: Version to release}
  environment: {type: enum, choices: [staging, production], default: staging}
steps:
  - id: show
    title: Show
    kind: run
    run: ["echo", "releasing \${version} to \${environment}"]
`;

let repo: ReturnType<typeof tempRepo>;
let apps: Rendered[] = [];
let sessions: LiveSession[] = [];
let exitCode: number | null = null;

function servicesHere() {
  return workspaceServices(new Workspace({ repo: repo.dir }), (s) => sessions.push(s));
}

function open(initial: Route = { name: 'home' }, services = servicesHere()): Rendered {
  exitCode = null;
  const app = render(<App services={services} initial={initial} theme={noColorTheme} onExit={(c) => (exitCode = c)} />);
  apps.push(app);
  return app;
}

/** From the home screen, open the parameter form of checklist `id`. */
async function toForm(a: Rendered, id: string): Promise<string> {
  // With sessions listed, the home screen opens on them: tab to the checklists.
  if (!(await waitFor(a, /no sessions yet|Sessions \(\d+, resumable first\)/)).includes('no sessions yet')) await press(a, KEY.tab);
  for (let i = 0; i < 20 && !new RegExp(`› ${id}\\b`).test(frame(a)); i++) await press(a, 'j');
  await press(a, KEY.enter);
  return waitFor(a, 'FORM');
}

async function startFromHome(a: Rendered, id: string): Promise<void> {
  await toForm(a, id);
  await press(a, KEY.enter);
}

/** Start checklist `id` (as the form does) on its screen. */
async function openSession(id: string): Promise<Rendered> {
  const services = servicesHere();
  return open({ name: 'session', controls: await services.start(id, {}) }, services);
}

async function lastSessionEvents(): Promise<{ id: string; events: AuditEvent[] }> {
  const store = await new Workspace({ repo: repo.dir }).openStore();
  const [s] = await store.listSessions(1);
  return { id: s.id, events: await store.readEvents(s.id) };
}

const hooks: WalkHooks = {
  exited: () => exitCode !== null,
  reset: async () => {
    // The next try starts the checklist again: the session of this one must not hold its lock.
    for (const s of sessions.splice(0)) await s.stop();
    await anchorsWritten();
  },
};
const walk = (sc: Scenario) => walkKeys(sc, hooks);

beforeEach(() => {
  process.env.COCKPIT_OPERATOR = 'alice';
  repo = tempRepo({ states: STATES, long: LONG, ok: OK, form: FORM });
  apps = [];
  sessions = [];
});

afterEach(async () => {
  for (const s of sessions) await s.stop();
  for (const a of apps) a.unmount();
  await anchorsWritten();
  await closeStores();
  repo.cleanup();
});

describe('every screen and step state: each hint is the keymap, each offered key does something', () => {
  it('the checklist screen, live: running, waiting for a confirmation (a passed, ○ and skipped step selected), failed, done, interrupted', async () => {
    const live = (name: string, expect: RegExp, reach: () => Promise<{ app: Rendered; frame: string }>): Scenario => ({
      name,
      layers: ['session', 'global'],
      live: true,
      reach,
      expect,
    });
    const atApproval = async (select: string | null) => {
      const app = await openSession('states');
      let f = await waitFor(app, 'WAITING FOR YOU');
      if (select) {
        for (let i = 0; i < 6 && !new RegExp(`› \\d+ . ${select}`).test(f); i++) {
          await press(app, 'k');
          f = frame(app);
        }
        f = await waitFor(app, new RegExp(`› \\d+ . ${select}`));
      }
      return { app, frame: f };
    };
    const failed = async () => {
      const { app } = await atApproval(null);
      await press(app, KEY.enter);
      return { app, frame: await waitFor(app, /FAILED\s+s skip/) };
    };
    const scenarios: Scenario[] = [
      live('running', /^RUNNING\s+n note\s+a abort\s+\? help\s+q quit$/, async () => {
        const app = await openSession('long');
        return { app, frame: await waitFor(app, (f) => f.includes('│ waiting') && /^ RUNNING /m.test(f.split('\n').at(-1)!)) };
      }),
      live('waiting for a confirmation', /^CONFIRM\s+↵ confirm\s+s skip\s+n note\s+a abort/, () => atApproval(null)),
      live('waiting, a passed step selected', /^CONFIRM\s+↵ confirm/, () => atApproval('Built')),
      live('waiting, a ○ nothing-to-check step selected', /^CONFIRM\s+↵ confirm/, async () => {
        const r = await atApproval('Freeze gate');
        expect(r.frame).toContain('nothing to check');
        return r;
      }),
      live('waiting, a skipped step selected', /^CONFIRM\s+↵ confirm/, async () => {
        const r = await atApproval('Only in production');
        expect(r.frame).toMatch(/skipped \(condition\)/);
        return r;
      }),
      // Failed: enter is not offered (r retries, s skips, a aborts).
      live('failed', /^FAILED\s+s skip\s+r retry\s+n note\s+a abort\s+\? help\s+q quit$/, failed),
      live('failed, a pending step selected', /^FAILED\s+s skip\s+r retry/, async () => {
        const { app } = await failed();
        await press(app, 'j');
        return { app, frame: await waitFor(app, /› 6 · Last/) };
      }),
      live('done', /^DONE\s+n note\s+\? help\s+q quit$/, async () => {
        const app = await openSession('ok');
        return { app, frame: await waitFor(app, '[DONE]') };
      }),
    ];
    const walked: Record<string, string[]> = {};
    for (const sc of scenarios) walked[sc.name] = await walk(sc);
    expect(walked['failed']).toEqual(['s (skip)', 'r (retry)', 'n (note)', 'a (abort)', '? (help)', 'q (quit)']);
    expect(walked['running']).toEqual(['n (note)', 'a (abort)', '? (help)', 'q (quit)']);
  }, 180_000);

  it('the checklist screen stopped, not failed (the running step stopped: R does this before the rollback form): ↵ continues it', async () => {
    const sc: Scenario = {
      name: 'stopped',
      layers: ['session', 'global'],
      live: false,
      expect: /^STOPPED\s+↵ continue\s+s skip\s+n note\s+a abort\s+\? help\s+q quit$/,
      reach: async () => {
        const app = await openSession('long');
        await waitFor(app, (f) => f.includes('│ waiting') && /^ RUNNING /m.test(f.split('\n').at(-1)!));
        await sessions.at(-1)!.stop();
        return { app, frame: await waitFor(app, (f) => /^ STOPPED /m.test(f.split('\n').at(-1)!)) };
      },
    };
    const walked = await walk(sc);
    expect(walked).toEqual(['↵ (continue)', 's (skip)', 'n (note)', 'a (abort)', '? (help)', 'q (quit)']);
    // ↵ continues: the stopped step runs again (it only reads: a run step that was stopped is asked first).
    const { app } = await sc.reach();
    await press(app, KEY.enter);
    const f = await waitFor(app, (x) => /^ (RUNNING|CONFIRM) /m.test(x.split('\n').at(-1)!));
    expect(f).not.toMatch(/^ STOPPED /m);
    app.unmount();
  }, 120_000);

  it('the checklist screen after a crash: the interrupted step asks before it runs again; the keys offered act', async () => {
    const child = cockpitAsync(['--repo', repo.dir, 'run', 'long', '--non-interactive', '--json'], {
      cwd: repo.dir,
      env: { COCKPIT_OPERATOR: 'alice' },
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until(() => jsonLines(out).some((e) => e.type === 'step.output' && e.stepId === 'wait'), 'the long step to print', 15_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const sc: Scenario = {
      name: 'interrupted',
      layers: ['session', 'global'],
      live: true,
      expect: /^CONFIRM\s+↵ confirm\s+s skip/,
      reach: async () => {
        const app = open();
        await waitFor(app, /›[⚠?] \S+\s+long\s+(crashed|stopped)/);
        await press(app, KEY.enter);
        return { app, frame: await waitFor(app, 'Run it again?') };
      },
    };
    expect(await walk(sc)).toContain('↵ (confirm)');
  }, 120_000);

  it('replay: at the start, at a running step, at a waiting confirmation, at a failure, at the end', async () => {
    expect(cockpit(['--repo', repo.dir, 'run', 'states', '--non-interactive', '--yes', 'approval']).code).toBe(1);
    const { id, events } = await lastSessionEvents();
    const n = events.length;
    const at = (pos: number) => async () => {
      const app = open({ name: 'replay', sessionId: id, events, speed: 1 });
      await waitFor(app, 'REPLAY ▶');
      await press(app, ' ');
      await waitFor(app, 'REPLAY ❚❚');
      await press(app, 'G');
      await waitFor(app, `(event ${n}/${n})`);
      for (let i = n; i > pos; i--) await press(app, KEY.left);
      return { app, frame: await waitFor(app, `(event ${pos}/${n})`) };
    };
    const position = (type: string, step?: string) => events.findIndex((e) => e.type === type && (!step || e.stepId === step)) + 1;
    const replay = (name: string, pos: number, expect: RegExp): Scenario => ({
      name,
      layers: ['replay', 'global'],
      live: false,
      reach: at(pos),
      expect,
    });
    const scenarios = [
      // At the start nothing is before: ← and g are not offered.
      replay('start', 1, /^REPLAY\s+space play\/pause\s+→ step\s+\+\/- speed\s+G start\/end\s+\? help\s+q quit$/),
      replay(
        'a step running',
        position('step.started', 'built'),
        /^REPLAY\s+space play\/pause\s+←\/→ step\s+\+\/- speed\s+g\/G start\/end/,
      ),
      replay('a confirmation waiting', position('step.started', 'approval'), /^REPLAY\s+space play\/pause\s+←\/→ step/),
      replay('a failure', position('step.failed', 'broken'), /^REPLAY\s+space play\/pause\s+←\/→ step/),
      // At the end nothing is after: → and G are not offered.
      replay('end', n, /^REPLAY\s+space play\/pause\s+← step\s+\+\/- speed\s+g start\/end\s+\? help\s+q quit$/),
    ];
    const waiting = await scenarios[2].reach();
    // The confirmation was open at that moment: drawn waiting, not running.
    expect(waiting.frame).toMatch(/› 4 \? Approval/);
    expect(waiting.frame).toContain('[WAITING]');
    waiting.app.unmount();
    for (const sc of scenarios) await walk(sc);
    // G from anywhere leaves the last step that ran selected, not step 1 (a session that finished: no step is at work).
    expect(cockpit(['--repo', repo.dir, 'run', 'ok', '--non-interactive']).code).toBe(0);
    const done = await lastSessionEvents();
    const app = open({ name: 'replay', sessionId: done.id, events: done.events, speed: 1 });
    await waitFor(app, 'REPLAY ▶');
    await press(app, ' ');
    await press(app, 'G');
    expect(await waitFor(app, `(event ${done.events.length}/${done.events.length})`)).toMatch(/› 3 ✔ Three/);
  }, 180_000);

  it('home (no session, sessions, a filter) and the parameter form (a text field, a choice field)', async () => {
    const home = (name: string, expect: RegExp, reach: () => Promise<{ app: Rendered; frame: string }>): Scenario => ({
      name,
      layers: ['home', 'global'],
      live: false,
      reach,
      expect,
    });
    await walk(
      home('no session', /^HOME\s+↵ start\/resume\s+tab switch list\s+\/ filter\s+\? help\s+q quit$/, async () => {
        const app = open();
        return { app, frame: await waitFor(app, 'no sessions yet') };
      }),
    );
    expect(cockpit(['--repo', repo.dir, 'run', 'states', '--non-interactive', '--yes', 'approval']).code).toBe(1);
    await walk(
      home('a session', /^HOME\s+↵ start\/resume\s+r replay\s+tab switch list\s+\/ filter\s+a abort\s+\? help\s+q quit$/, async () => {
        const app = open();
        return { app, frame: await waitFor(app, /›\S \S+\s+states/) };
      }),
    );
    await walk(
      home(
        'a filter',
        /^HOME \/sta\s+↵ start\/resume\s+r replay\s+tab switch list\s+\/ filter\s+esc clear filter\s+(a abort\s+)?\? help\s+q quit$/,
        async () => {
          const app = open();
          await waitFor(app, /›\S \S+\s+states/);
          await press(app, '/');
          await type(app, 'sta');
          await press(app, KEY.enter);
          return { app, frame: await waitFor(app, (f) => f.includes('HOME /sta') && !f.includes('Filter as you type')) };
        },
      ),
    );
    const form = (name: string, expect: RegExp, choice: boolean): Scenario => ({
      name,
      layers: ['form', 'global'],
      live: false,
      expect,
      reach: async () => {
        const app = open();
        let f = await toForm(app, 'form');
        if (choice) {
          await press(app, KEY.tab);
          f = await waitFor(app, '› environment');
        }
        return { app, frame: f };
      },
    });
    // In a text field q and ? are typed: quit is ctrl-c there, and help is F1.
    const text = await walk(form('a text field', /^FORM\s+↵ start\s+↓ next field\s+esc cancel\s+F1 help\s+ctrl-c quit$/, false));
    expect(text).toEqual(['↵ (start)', '↓ (next field)', 'esc (cancel)', 'F1 (help)', 'ctrl-c (quit)']);
    await walk(form('a choice field (the last)', /^FORM\s+↵ start\s+esc cancel\s+\? help\s+q quit$/, true));
  }, 180_000);

  it('help opens from a text field: F1 always, ? while the field is empty; otherwise ? is typed into it', async () => {
    const a = open();
    await toForm(a, 'form');
    await press(a, KEY.f1);
    let f = await waitFor(a, 'Keys');
    expect(f).toContain('next field');
    expect(f.split('\n').at(-1)).toMatch(/^\s*HELP\s/);
    await press(a, KEY.esc);
    await waitFor(a, (x) => !x.includes('Keys') && /^\s*FORM\s.*F1 help/m.test(x));
    await press(a, '?');
    await waitFor(a, 'Keys');
    await press(a, KEY.esc);
    await waitFor(a, (x) => !x.includes('Keys'));
    // Once something is typed, ? is text (a value may hold one); F1 still opens the help.
    await type(a, '1.0?');
    f = await waitFor(a, '1.0?');
    expect(f).not.toContain('Keys');
    await press(a, KEY.f1);
    f = await waitFor(a, 'Keys');
    await press(a, KEY.esc);
    f = await waitFor(a, (x) => !x.includes('Keys'));
    expect(f).toContain('1.0?');
  }, 60_000);

  it('the help overlay lists only the keys that act in the state shown, and says what quit does on that screen', async () => {
    expect(cockpit(['--repo', repo.dir, 'run', 'states', '--non-interactive', '--yes', 'approval']).code).toBe(1);
    const { id, events } = await lastSessionEvents();
    const a = open({ name: 'replay', sessionId: id, events, speed: 1 });
    await waitFor(a, 'REPLAY ▶');
    await press(a, ' ', 'G');
    await press(a, '?');
    let f = await waitFor(a, 'Keys');
    expect(f).toContain('quit (the replay only reads the log)');
    expect(f).not.toContain('asks while a step runs');
    expect(f).not.toContain('jump to the end'); // at the end already
    expect(f).toContain('jump to the start');
    expect(f.split('\n').at(-1)).toMatch(/HELP\s+esc close\s+ctrl-c quit$/); // q closes the help here
    assertWordsFromKeymap(f, ['help', 'global']);
    await press(a, KEY.esc);
    f = await waitFor(a, (x) => !x.includes('Keys'));
    a.unmount();

    const b = open();
    await startFromHome(b, 'states');
    await waitFor(b, 'WAITING FOR YOU');
    await press(b, KEY.enter);
    await waitFor(b, /FAILED\s+s skip/);
    await press(b, '?');
    f = await waitFor(b, 'Keys');
    expect(f).toContain('run the failed step again');
    expect(f).not.toContain('answer yes to the step that asks');
    expect(f).not.toContain('continue the stopped session');
  }, 120_000);
});

const HOLD = `id: hold
title: Two steps
steps:
  - id: first
    title: First
    kind: run
    run: echo first-start; sleep 1.5; echo first-end
  - id: second
    title: Second
    kind: run
    run: echo second-ran; sleep 30
`;

describe('the quit question holds the run', () => {
  async function askedDuringFirst(): Promise<Rendered> {
    repo.write('checklists/hold.yaml', HOLD);
    const a = await openSession('hold');
    await waitFor(a, 'first-start');
    await press(a, 'q');
    expect(await waitFor(a, 'Stop it and quit?')).toContain('The session stays resumable; the next step waits. [y/N]');
    return a;
  }
  const started = (ev: AuditEvent[], step: string) => ev.some((e) => e.type === 'step.started' && e.stepId === step);

  it('asked while step 1 runs: step 1 ends and is recorded, step 2 waits for the answer; no lets step 2 start', async () => {
    const a = await askedDuringFirst();
    // Step 1 goes on to its end (its output keeps being recorded) while the question is open.
    let ev: AuditEvent[] = [];
    await until(
      () => (void lastSessionEvents().then((r) => (ev = r.events)), ev.some((e) => e.type === 'step.passed' && e.stepId === 'first')),
      'step 1 to pass',
      10_000,
    );
    expect(ev.some((e) => e.type === 'step.output' && String((e.data as { text: string }).text).includes('first-end'))).toBe(true);
    // Well past step 1's end: step 2 has not started, the question is still open.
    await new Promise((r) => setTimeout(r, 1000));
    ev = (await lastSessionEvents()).events;
    expect(started(ev, 'second')).toBe(false);
    let f = frame(a);
    expect(f).toContain('Stop it and quit?');
    expect(f).toMatch(/✔ First/);
    expect(f).toMatch(/· Second/);
    await press(a, 'n');
    f = await waitFor(a, 'second-ran');
    expect(f).toMatch(/▶ Second/);
    expect(started((await lastSessionEvents()).events, 'second')).toBe(true);
    // Quit for real: the running step is stopped, exit 3, resumable.
    await press(a, 'q');
    await waitFor(a, 'Stop it and quit?');
    await press(a, 'y');
    await until(() => exitCode !== null, 'the cockpit to quit');
    expect(exitCode).toBe(3);
  }, 60_000);

  it('yes after step 1 ended: step 2 never starts; the session stops, resumable, exit 3', async () => {
    const a = await askedDuringFirst();
    let ev: AuditEvent[] = [];
    await until(
      () => (void lastSessionEvents().then((r) => (ev = r.events)), ev.some((e) => e.type === 'step.passed' && e.stepId === 'first')),
      'step 1 to pass',
      10_000,
    );
    await press(a, 'y');
    await until(() => exitCode !== null, 'the cockpit to quit');
    expect(exitCode).toBe(3);
    ev = (await lastSessionEvents()).events;
    expect(started(ev, 'second')).toBe(false);
    expect(ev.at(-1)).toMatchObject({ type: 'session.paused', data: { reason: 'operator' } });
  }, 60_000);

  it('quitting with nothing running exits 0 (home, replay, a session left for home); a failed session quit on its screen exits 1', async () => {
    let a = open();
    await waitFor(a, 'no sessions yet');
    await press(a, 'q');
    await until(() => exitCode !== null, 'the cockpit to quit');
    expect(exitCode).toBe(0);
    a.unmount();
    a = await openSession('states');
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, KEY.enter);
    await waitFor(a, /FAILED\s+s skip/);
    await press(a, 'q');
    await until(() => exitCode !== null, 'the cockpit to quit');
    expect(exitCode).toBe(1);
    a.unmount();
    a = await openSession('states');
    await waitFor(a, 'WAITING FOR YOU');
    await press(a, KEY.enter);
    await waitFor(a, /FAILED\s+s skip/);
    await press(a, KEY.esc);
    await waitFor(a, 'Checklists');
    // Back home, nothing runs: 0, though the session it left failed.
    await press(a, 'q');
    await until(() => exitCode !== null, 'the cockpit to quit');
    expect(exitCode).toBe(0);
    a.unmount();
    const { id, events } = await lastSessionEvents();
    a = open({ name: 'replay', sessionId: id, events });
    await waitFor(a, 'REPLAY');
    await press(a, 'q');
    await until(() => exitCode !== null, 'the cockpit to quit');
    expect(exitCode).toBe(0);
  }, 60_000);
});

describe("a failed step with notify: channels: u (update channels) offers the 'issue or delay' update", () => {
  it('u is offered after the failure and opens the update (shown, editable); every offered key acts', async () => {
    const slack = await slackReceiver();
    process.env.TEST_WALK_SLACK_URL = `${slack.url}/services/T0001/B0001/${SLACK_TOKEN}`;
    try {
      repo.write('cockpit.config.yaml', 'notify:\n  chat:\n    type: slack\n    url: {env: TEST_WALK_SLACK_URL}\n');
      // u is for a production deploy (the rule): the same steps, their target production.
      repo.write(
        'checklists/states-prod.yaml',
        STATES.replace('id: states', 'id: states-prod').replace('params:\n', 'params:\n  target: {type: string, default: production}\n'),
      );
      const sc: Scenario = {
        name: 'failed, notify: configured',
        layers: ['session', 'global'],
        live: true,
        expect: /^FAILED\s+s skip\s+r retry\s+n note\s+u update channels\s+a abort\s+\? help\s+q quit$/,
        reach: async () => {
          const app = await openSession('states-prod');
          await waitFor(app, 'WAITING FOR YOU');
          await press(app, KEY.enter);
          return { app, frame: await waitFor(app, /FAILED\s+s skip/) };
        },
      };
      expect(await walk(sc)).toContain('u (update channels)');
      // The failed step's "What next" says it too, with where the update goes.
      const pane = (f: string) =>
        f
          .split('\n')
          .map((row) => row.slice(row.indexOf('│') + 1))
          .join(' ')
          .replace(/\s+/g, ' ');
      expect(pane((await sc.reach()).frame)).toContain('a abort · u sends chat the issue-or-delay update · q quit');
      // While a confirmation waits nothing has failed: u is not offered.
      const app = await openSession('states-prod');
      expect((await waitFor(app, 'WAITING FOR YOU')).split('\n').at(-1)).not.toContain('update channels');
      // A staging session's failure is not the channels' business: neither the key nor the hint.
      const staging = await openSession('states');
      await waitFor(staging, 'WAITING FOR YOU');
      await press(staging, KEY.enter);
      const f = await waitFor(staging, /FAILED\s+s skip/);
      expect(f.split('\n').at(-1)).not.toContain('update channels');
      expect(pane(f)).toContain('What next: fix the cause, then r retry · s skip with a reason · a abort · q quit');
      // The walk pressed u and esc: the update was shown, never sent.
      expect(slack.received).toHaveLength(0);
    } finally {
      delete process.env.TEST_WALK_SLACK_URL;
      await slack.close();
    }
  }, 120_000);
});

describe('a failed step', () => {
  it('enter does not retry it; r retries and says what it runs again, while it runs', async () => {
    repo.write(
      'checklists/slowfail.yaml',
      'id: slowfail\ntitle: Slow failure\nsteps:\n  - id: check\n    title: Check the flag\n    kind: run\n    run: sleep 1; test -f flag.txt || { echo no flag; exit 3; }\n',
    );
    const a = await openSession('slowfail');
    let f = await waitFor(a, /FAILED\s+s skip\s+r retry/);
    expect(f.split('\n').at(-1)).not.toContain('↵');
    await press(a, KEY.enter);
    await new Promise((r) => setTimeout(r, 300));
    expect(frame(a)).toContain('[FAILED]');
    await press(a, 'r');
    // Said from the key press until the step has its result, as it runs again.
    await waitFor(
      a,
      (x) => x.includes("retrying 'check': runs: sleep 1; test -f flag.txt || { echo no flag; exit 3; }") && /▶ Check the flag/.test(x),
    );
    f = await waitFor(a, /FAILED\s+s skip\s+r retry/);
    expect(f).not.toContain('retrying');
    const started = (await lastSessionEvents()).events.filter((e) => e.type === 'step.started');
    expect(started.map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2]);
  }, 30_000);
});

describe('a burst of keys', () => {
  it('is handled key by key, each after the one before it: / then text filters; jjjj moves four rows; text, tab, then → land in order in the form', async () => {
    let a = open();
    await waitFor(a, 'no sessions yet');
    // The repository's four checklists come first, then the built-in ones: the fifth row.
    a.stdin.write('jjjj');
    await waitFor(a, /› communication\s/);
    await new Promise((r) => setTimeout(r, 200));
    expect(frame(a)).toMatch(/› communication\s/);
    a.stdin.write('/roll');
    let f = await waitFor(a, "Checklists (2 of 14 matching 'roll')");
    expect(f).toContain('Filter as you type (↵ keeps it, esc puts back the one before): roll█');
    a.unmount();

    a = open();
    await toForm(a, 'form');
    // Text, then tab, then → on the choice field the tab led to: each lands where the key before it left the focus.
    a.stdin.write('2.0.0\t');
    a.stdin.write('\u001b[C');
    f = await waitFor(a, /› environment\s+production/);
    expect(f).toMatch(/version\s+2\.0\.0/);
  }, 30_000);
});

const prom = prometheusTest();

describe.skipIf(!prom.ok)(`the watch panel's keys, R among them${prom.skipReason}`, () => {
  let svc: MetricsService;
  let server: PromServer;
  beforeAll(async () => {
    ({ svc, prom: server } = await startWatchedService());
    await paymentsFlowing(server);
  }, 60_000);
  afterAll(cleanupPrometheusHarness);

  const WATCHING = `id: watching
title: Watch after the deploy
params:
  target: {type: string, default: production}
steps:
  - id: watch
    title: Watch the deploy
    kind: watch
    duration: 10m
    interval: 1s
`;

  it('a watch running, then one that breached: R (rollback) is offered and asks; every offered key acts', async () => {
    repo.write('checklists/watching.yaml', WATCHING);
    repo.write(
      'cockpit.config.yaml',
      `watch:\n  prometheus:\n    url: ${server.url}\n  window: 10s\n  disable: [error_rate_increase, latency_p95_increase, failed_payments_any]\n` +
        // A channel: u (update channels) is offered once the watch breached, not before.
        'notify:\n  chat:\n    type: slack\n    url: {env: TEST_WALK_WATCH_URL}\n',
    );
    const chat = await slackReceiver();
    process.env.TEST_WALK_WATCH_URL = `${chat.url}/services/T0001/B0001/${SLACK_TOKEN}`;
    const watching = (name: string, expect: RegExp, until: (f: string) => boolean): Scenario => ({
      name,
      layers: ['session', 'global'],
      live: true,
      expect,
      reach: async () => {
        const app = await openSession('watching');
        return { app, frame: await waitFor(app, (f) => /^ RUNNING .*R rollback/m.test(f.split('\n').at(-1)!) && until(f), 30_000) };
      },
    });
    const bar = /^RUNNING\s+n note\s+R rollback\s+a abort\s+\? help\s+q quit$/;
    expect(await walk(watching('a watch running', bar, (f) => / ok$/m.test(f)))).toEqual([
      'n (note)',
      'R (rollback)',
      'a (abort)',
      '? (help)',
      'q (quit)',
    ]);

    await svc.set({ paymentFailureRatio: 0.05 });
    try {
      const breached = watching(
        'a watch that breached',
        /^RUNNING\s+n note\s+R rollback\s+u update channels\s+a abort\s+\? help\s+q quit$/,
        (f) => /BREACHED/.test(f),
      );
      const keys = await walk(breached);
      expect(keys).toContain('R (rollback)');
      expect(keys).toContain('u (update channels)');
      expect(chat.received).toHaveLength(0);
      // R asks; yes stops the watch (resumable) and opens the rollback's form, its clock from this watch's breach.
      const { app } = await breached.reach();
      const watchId = sessions.at(-1)!.view().state.id;
      await press(app, 'R');
      // The whole question on the 80-column message line, not cut short.
      expect(await waitFor(app, 'Start the rollback (rollback-code)? This watch stops; it stays resumable.')).not.toMatch(/resumable…/);
      await press(app, 'y');
      const f = await waitFor(app, /^ FORM /m, 20_000);
      expect(f).toContain('rollback-code');
      expect(f).toContain(`the watch of session ${watchId}`);
    } finally {
      await svc.set({ paymentFailureRatio: 0 });
      delete process.env.TEST_WALK_WATCH_URL;
      await chat.close();
    }
  }, 180_000);
});
