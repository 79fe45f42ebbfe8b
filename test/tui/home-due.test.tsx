import { renderToString } from 'ink';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SqliteAuditReader } from '../../src/audit/sqlite-reader.js';
import { readDue } from '../../src/cli/comms.js';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import { App } from '../../src/tui/App.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { cockpit, cockpitAsync, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// The pre-release messages' due times, as a user meets them: `cockpit comms` and the home screen's due line, before
// and after the communication checklist's pre-release phase posts them to a real Slack-style receiver on loopback.

const H = 3_600_000;
const D = 24 * H;
let repo: ReturnType<typeof tempRepo>;
let server: http.Server;
const posts: Array<{ text: string }> = [];
let url = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      posts.push(JSON.parse(raw) as { text: string });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0001/B0001/hooktokenZr4Zr4Zr4`;
  repo = tempRepo();
  // The next release in 60 h: the announcement is due in 12 h, the maintenance window in 36 h.
  const anchor = new Date(Date.now() + 60 * H - 14 * D).toISOString();
  repo.write(
    'cockpit.config.yaml',
    `release:\n  schedule: {every: 14d, anchor: "${anchor}"}\nnotify:\n  chat:\n    type: slack\n    url: {env: TEST_SLACK_URL}\n`,
  );
});

afterAll(async () => {
  await closeStores();
  await new Promise<void>((r) => server.close(() => r()));
  repo.cleanup();
});

/** The communication checklist's pre-release phase, run by the real bin in its own process (the receiver answers here). */
async function sendPreRelease(version: string, global: string[] = []): Promise<void> {
  const child = cockpitAsync(
    [
      '--repo',
      repo.dir,
      ...global,
      'run',
      'communication',
      '-p',
      'phase=pre-release',
      '-p',
      `version=${version}`,
      '--non-interactive',
      '--yes',
      'all',
    ],
    { cwd: repo.dir, env: { TEST_SLACK_URL: url } },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  expect(code, err).toBe(0);
}

async function homeScreen(dir = repo.dir): Promise<string> {
  const ws = new Workspace({ repo: dir });
  const services = workspaceServices(ws, () => undefined);
  const data = await services.home();
  const f = stripVTControlCharacters(
    renderToString(<App services={services} initial={{ name: 'home', data }} theme={noColorTheme} onExit={() => undefined} />, {
      columns: 200,
    }),
  );
  await closeStores();
  return f;
}

describe('due times of the pre-release messages', () => {
  it('before anything is sent: comms and the home screen say when each is due, not sent, and how to send them', async () => {
    const r = cockpit(['--repo', repo.dir, 'comms'], { cwd: repo.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}○ announcement for the next release due \w{3} \d{2}:\d{2} UTC, in 12 h, not sent$/m);
    expect(r.stdout).toMatch(/^ {2}○ maintenance window for the next release due \w{3} \d{2}:\d{2} UTC, in 36 h, not sent$/m);
    expect(r.stdout).toContain(`Send them: cockpit run communication -p phase=pre-release\n  (name the version with -p version=X.Y.Z`);
    const json = JSON.parse(cockpit(['--repo', repo.dir, 'comms', '--json'], { cwd: repo.dir }).stdout);
    expect(json.messages.map((m: { message: string; state: string }) => [m.message, m.state])).toEqual([
      ['release-announcement', 'upcoming'],
      ['maintenance-window', 'upcoming'],
    ]);
    expect(json.command).toBe('cockpit run communication -p phase=pre-release');

    const f = await homeScreen();
    expect(f).toMatch(/^Release \w{3} \d{1,2} \w{3} \d{2}:\d{2} UTC \(in 2d 12h\) · freeze \w{3} \d{2}:\d{2} \(in 36h\)$/m);
    expect(f).toMatch(/^announcement due \w{3} \d{2}:\d{2} UTC, in 12 h, not sent · maintenance window due \w{3} \d{2}:\d{2}$/m);
  });

  it('after the pre-release phase posted them: sent, for the version it named, on both', async () => {
    await sendPreRelease('1.5.0');
    expect(posts.map((p) => p.text).join('\n')).toMatch(/1\.5\.0/);
    expect(posts).toHaveLength(2);

    const r = cockpit(['--repo', repo.dir, 'comms'], { cwd: repo.dir });
    expect(r.stdout).toMatch(/^Next release v1\.5\.0 /m);
    expect(r.stdout).toMatch(/^ {2}✔ announcement for v1\.5\.0 due \w{3} \d{2}:\d{2} UTC, in 12 h, sent \w{3} \d{2}:\d{2} UTC$/m);
    expect(r.stdout).toMatch(/^ {2}✔ maintenance window for v1\.5\.0 due .*, sent \w{3} \d{2}:\d{2} UTC$/m);
    expect(r.stdout).not.toContain('Send them');
    const json = JSON.parse(cockpit(['--repo', repo.dir, 'comms', '--json'], { cwd: repo.dir }).stdout);
    expect(json).toMatchObject({ version: '1.5.0', messages: [{ state: 'sent' }, { state: 'sent' }] });
    expect(json.command).toBeUndefined();

    // The home screen hands over the sessions its list read: used when they reach back to the previous release (or
    // are all there is), else the newest sessions are read.
    const reader = SqliteAuditReader.open(path.join(repo.dir, '.cockpit', 'audit.db'))!;
    const config = parse(readFileSync(path.join(repo.dir, 'cockpit.config.yaml'), 'utf8')) as {
      release: { schedule: { every: string; anchor: string } };
    };
    const schedule = { freeze: '24h', announce: '48h', ...config.release.schedule };
    expect((await readDue(reader, schedule, Date.now(), { sessions: [], limit: 50 })).map((d) => d.state)).toEqual([
      'upcoming',
      'upcoming',
    ]);
    expect((await readDue(reader, schedule, Date.now(), { sessions: [], limit: 0 })).map((d) => d.state)).toEqual(['sent', 'sent']);
    await reader.close();

    const f = await homeScreen();
    expect(f).toMatch(/^announcement sent \w{3} \d{2}:\d{2} UTC · maintenance window sent \w{3} \d{2}:\d{2} UTC$/m);
  });

  it('without release.schedule nothing is due: comms says so and how to set one, and the home screen has no calendar', async () => {
    const bare = tempRepo();
    try {
      const r = cockpit(['--repo', bare.dir, 'comms'], { cwd: bare.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^no release\.schedule in .*cockpit\.config\.yaml: no message is due on a schedule\.$/m);
      expect(JSON.parse(cockpit(['--repo', bare.dir, 'comms', '--json'], { cwd: bare.dir }).stdout)).toEqual({
        schedule: null,
        version: null,
        messages: [],
      });
      const f = await homeScreen(bare.dir);
      expect(f).toContain('Checklists (');
      expect(f).not.toMatch(/^Release |due \w{3} \d{2}:\d{2}/m);
    } finally {
      bare.cleanup();
    }
  });
});

const pgInfo = pgTest();

describe.skipIf(!pgInfo.url)(`due times over the team's PostgreSQL store${pgInfo.skipReason}`, () => {
  it('comms --audit-url reads the deliveries recorded there', async () => {
    const db = await freshDatabase('comms');
    const before = JSON.parse(cockpit(['--repo', repo.dir, '--audit-url', db, 'comms', '--json'], { cwd: repo.dir }).stdout);
    expect(before).toMatchObject({ version: null, messages: [{ state: 'upcoming' }, { state: 'upcoming' }] });
    await sendPreRelease('1.6.0', ['--audit-url', db]);
    const after = JSON.parse(cockpit(['--repo', repo.dir, '--audit-url', db, 'comms', '--json'], { cwd: repo.dir }).stdout);
    expect(after).toMatchObject({ version: '1.6.0', messages: [{ state: 'sent' }, { state: 'sent' }] });
  }, 60_000);
});
