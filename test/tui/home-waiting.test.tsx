import { renderToString } from 'ink';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import { App } from '../../src/tui/App.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { cockpit, cockpitAsync, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// A session waiting at an approve step, recorded by a real run in its own process: the home screen and `audit list`
// say whom it waits for, in the step's own words.

const SHIP = `id: ship
title: Ship
params:
  version: {type: semver, required: true}
steps:
  - id: approval
    title: Senior approval
    kind: approve
    timeout: 1h
  - id: deploy
    title: Deploy
    kind: run
    run: echo deployed
`;

const WAITING = "waiting for a senior developer's approval (alice, bob)";

let repo: ReturnType<typeof tempRepo>;
let run: ReturnType<typeof cockpitAsync>;
let sessionId = '';

/** Starts `cockpit run ship` in its own process; resolves with the session id once its approval request is recorded. */
function startWaiting(dir: string, global: string[] = []): { child: ReturnType<typeof cockpitAsync>; waiting: Promise<string> } {
  const child = cockpitAsync(['--repo', dir, ...global, 'run', 'ship', '-p', 'version=1.4.0', '--non-interactive', '--json'], {
    cwd: dir,
    env: { COCKPIT_OPERATOR: 'carol' },
  });
  let out = '';
  const waiting = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no approval request within 30 s:\n${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"approval.requested"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line).sessionId);
      }
    });
  });
  return { child, waiting };
}

async function killed(child: ReturnType<typeof cockpitAsync>): Promise<void> {
  if (!child.pid || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  repo = tempRepo({ ship: SHIP });
  repo.write('cockpit.config.yaml', 'approvers:\n  senior: [alice@example.com, bob@example.com]\n');
  const started = startWaiting(repo.dir);
  run = started.child;
  sessionId = await started.waiting;
}, 60_000);

afterAll(async () => {
  if (run) await killed(run);
  await closeStores();
  repo?.cleanup();
});

describe('a session waiting at an approve step', () => {
  it('audit list says whom it waits for (text and JSON)', () => {
    const text = cockpit(['--repo', repo.dir, 'audit', 'list'], { cwd: repo.dir });
    expect(text.code, text.stderr).toBe(0);
    const row = text.stdout.split('\n').find((l) => l.startsWith(sessionId));
    expect(row).toContain(`carol     ${WAITING}`);
    const json = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout);
    expect(json.find((s: { id: string }) => s.id === sessionId).status).toBe(WAITING);
  });

  it('the home screen shows it on the session’s row, running', async () => {
    const ws = new Workspace({ repo: repo.dir });
    const services = workspaceServices(ws, () => undefined);
    const data = await services.home();
    const entry = data.sessions.find((s) => s.id === sessionId);
    expect(entry).toMatchObject({ status: WAITING, running: true, resumable: false });
    const f = stripVTControlCharacters(
      renderToString(<App services={services} initial={{ name: 'home', data }} theme={noColorTheme} onExit={() => undefined} />, {
        columns: 100,
      }),
    );
    const row = f.split('\n').find((l) => l.includes(sessionId));
    expect(row, f).toMatch(new RegExp(`▶ ${sessionId}  ship +${WAITING.replace(/[()]/g, '\\$&')}  `));
  });

  it('once approved it no longer waits: the run goes on and the row says succeeded', async () => {
    const r = cockpit(['--repo', repo.dir, 'approve', sessionId], {
      cwd: repo.dir,
      env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: repo.write('alice.gitconfig', '[user]\n\temail = alice@example.com\n') },
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const code = await new Promise((res) => (run.exitCode !== null ? res(run.exitCode) : run.once('exit', res)));
    expect(code).toBe(0);
    const json = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout);
    expect(json.find((s: { id: string }) => s.id === sessionId).status).toBe('succeeded');
  }, 60_000);
});

const pgInfo = pgTest();

describe.skipIf(!pgInfo.url)(`a session waiting at an approve step, on the team's PostgreSQL store${pgInfo.skipReason}`, () => {
  it('audit list --audit-url says whom it waits for', async () => {
    const url = await freshDatabase('waiting');
    const { child, waiting } = startWaiting(repo.dir, ['--audit-url', url]);
    try {
      const id = await waiting;
      const json = JSON.parse(cockpit(['--repo', repo.dir, '--audit-url', url, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout);
      expect(json.find((s: { id: string }) => s.id === id).status).toBe(WAITING);
    } finally {
      await killed(child);
    }
  }, 60_000);
});
