import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCKPIT_CONFIG, DEMO_STATUSPAGE } from '../../src/demo/history.js';
import { receiversService } from '../../src/demo/receivers.js';
import type { StartedService } from '../../src/demo/service.js';
import { cockpit, tempRepo } from '../helpers/cli.js';

/**
 * The demo's chat and status page (src/demo/receivers.ts) as a real process on a free port, fed by the cockpit's
 * real notify steps (`cockpit run` in its own process) through the sandbox's committed `notify:` section with the
 * service's `localConfig` in cockpit.local.yaml over it; then `cockpit demo --messages` as a reader sees it.
 */
const COMMS = `id: comms
title: Deployment communication
params:
  version: {type: semver, default: 1.4.0}
  environment: {type: string, default: production}
steps:
  - id: start
    title: Status page and chat at the start
    kind: notify
    message: deployment-started
    channels: [statuspage, chat]
    status: under_maintenance
  - id: confirm
    title: Confirmation in chat
    kind: notify
    message: deployment-confirmation
    channels: [chat]
  - id: operational
    title: Status page operational
    kind: notify
    message: status-operational
    channels: [statuspage]
    status: operational
`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let sandbox: string;
let stateDir: string;
let parent: ChildProcess;
let started: StartedService;
let repo: ReturnType<typeof tempRepo>;
let token = '';
let apiKey = '';
const logged: string[] = [];

beforeAll(async () => {
  sandbox = mkdtempSync(path.join(os.tmpdir(), 'cockpit-demo-receivers-'));
  stateDir = path.join(sandbox, '.sandbox', 'demo');
  mkdirSync(stateDir, { recursive: true });
  // The demo's supervisor stands in as a process of its own: the receiver must go when it goes.
  parent = spawn('sleep', ['600'], { stdio: 'ignore' });
  started = await receiversService.start({
    dir: sandbox,
    stateDir,
    scenario: 'none',
    log: (l) => logged.push(l),
    started: {},
    parentPid: parent.pid!,
  });
  const notify = (started.localConfig as any).notify;
  token = notify.chat.url.split('/').at(-1);
  apiKey = notify.statuspage.apiKey;
  repo = tempRepo({ comms: COMMS });
  // The sandbox's committed notify: section, and what the service returned in cockpit.local.yaml over it.
  repo.write('cockpit.config.yaml', stringify({ notify: parse(COCKPIT_CONFIG).notify }));
  repo.write('cockpit.local.yaml', stringify(started.localConfig));
}, 30_000);

afterAll(() => {
  for (const p of started?.processes ?? []) if (alive(p.pid)) process.kill(p.pid, 'SIGKILL');
  if (parent?.exitCode === null) parent.kill('SIGKILL');
  repo?.cleanup();
  rmSync(sandbox, { recursive: true, force: true });
});

function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });

describe("the demo's chat and status page", () => {
  it('start on a free loopback port, say so, and answer their health check', async () => {
    expect(started.urls!['chat and status page']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(logged.join('\n')).toMatch(/^Chat and status page on http:\/\/127\.0\.0\.1:\d+ \(\d+\.\d s\)$/);
    expect(started.processes).toHaveLength(1);
    expect(started.processes[0].startTime).toMatch(/^\d+$/);
    expect(await receiversService.check(started)).toBe(true);
    // The committed config names the channels; the port, the token and the key are only in cockpit.local.yaml.
    expect(COCKPIT_CONFIG).not.toContain(apiKey);
    expect(COCKPIT_CONFIG).toContain(`page: ${DEMO_STATUSPAGE.page}`);
  });

  it("get the cockpit's real notify steps: chat messages recorded, the components under maintenance then operational", () => {
    const r = cockpit(['--repo', repo.dir, 'run', 'comms', '--non-interactive', '--yes', 'all'], { cwd: repo.dir, timeout: 90_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const messages = readFileSync(path.join(stateDir, 'receivers', 'messages.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(messages.map((m) => m.channel)).toEqual(['status page', 'chat', 'chat', 'status page']);
    expect(messages[0].text).toMatch(
      /^incident 'Deployment of v1\.4\.0 to production' opened \(in progress\)\nProperty website: under maintenance, Payments: under maintenance\n/,
    );
    expect(messages[1].text).toContain('v1.4.0');
    expect(messages[3].text).toMatch(
      /^'Deployment of v1\.4\.0 to production' → completed\nProperty website: operational, Payments: operational/,
    );
    const page = JSON.parse(readFileSync(path.join(stateDir, 'receivers', 'statuspage.json'), 'utf8'));
    expect(page.components.map((c: any) => c.history)).toEqual([
      ['operational', 'under_maintenance', 'operational'],
      ['operational', 'under_maintenance', 'operational'],
    ]);
    // Neither the webhook's token nor the API key is in what the receiver wrote, nor anywhere in the audit log.
    for (const f of filesUnder(path.join(stateDir, 'receivers'))) {
      const text = readFileSync(f, 'latin1');
      expect(text, f).not.toContain(token);
      expect(text, f).not.toContain(apiKey);
    }
    for (const f of filesUnder(path.join(repo.dir, '.cockpit'))) {
      const bytes = readFileSync(f, 'latin1');
      expect(bytes, f).not.toContain(token);
      expect(bytes, f).not.toContain(apiKey);
    }
    const md = cockpit(['--repo', repo.dir, 'audit', 'show', '--format', 'md', 'last'], { cwd: repo.dir });
    expect(md.stdout + md.stderr).not.toContain(apiKey);
  }, 120_000);

  it('refuse what breaks the documented formats, and a wrong key, recording nothing', async () => {
    const url = started.detail!.url as string;
    const before = readFileSync(path.join(stateDir, 'receivers', 'messages.jsonl'), 'utf8');
    const noBlocks = await post(`${url}/services/T0DEMO/B0DEMO/${token}`, JSON.stringify({ text: 'hi' }), {
      'content-type': 'application/json',
    });
    expect(noBlocks).toEqual({ status: 400, body: 'invalid_payload' });
    const wrongKey = await post(
      `${url}/v1/pages/${DEMO_STATUSPAGE.page}/incidents`,
      JSON.stringify({ incident: { name: 'x', status: 'investigating' } }),
      {
        'content-type': 'application/json',
        authorization: 'OAuth wrong',
      },
    );
    expect(wrongKey.status).toBe(401);
    expect(readFileSync(path.join(stateDir, 'receivers', 'messages.jsonl'), 'utf8')).toBe(before);
    expect(readFileSync(path.join(stateDir, 'receivers', 'receivers.log'), 'utf8')).toContain(
      'POST /services/T0DEMO/B0DEMO/[token]: 400: blocks',
    );
  });

  it('cockpit demo --messages prints them in order as a reader sees them, control sequences neutralised', async () => {
    // A message whose text tries to move the cursor and retitle the terminal.
    const url = started.detail!.url as string;
    const evil = {
      text: 'Heads up \u001b[2J\u001b]0;owned\u0007 done',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }],
    };
    expect(
      (await post(`${url}/services/T0DEMO/B0DEMO/${token}`, JSON.stringify(evil), { 'content-type': 'application/json' })).status,
    ).toBe(200);
    const r = cockpit(['demo', '--messages', '--dir', sandbox]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).not.toMatch(/[\u001b\u0007]/);
    expect(out).toContain('Heads up ␛[2J␛]0;owned␇ done');
    expect(out).toMatch(
      /^What the demo's chat and status page received \(5, times in UTC\):\n\n\d\d:\d\d:\d\d {2}status page {2}incident 'Deployment of v1\.4\.0 to production' opened/,
    );
    const heads = out
      .split('\n')
      .filter((l) => /^\d\d:\d\d:\d\d {2}/.test(l))
      .map((l) => l.slice(10, 40));
    expect(heads).toEqual([
      "status page  incident 'Deploym",
      'chat         Deployment starte',
      'chat         Deployment comple',
      "status page  'Deployment of v1",
      'chat         Heads up ␛[2J␛]0;',
    ]);
    // The message's own lines under it, indented; the page as it is now at the end.
    expect(out).toMatch(/\n {23}Property website: under maintenance, Payments: under maintenance\n {23}Deployment of release/);
    expect(out.trimEnd().split('\n').at(-1)).toBe('Status page now: Property website: operational · Payments: operational');
  }, 60_000);

  it('exit by themselves once the process that started them is gone', async () => {
    const pid = started.processes[0].pid;
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    const until = Date.now() + 10_000;
    while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
    expect(await receiversService.check(started)).toMatch(
      /^the chat and status page do not answer on http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/,
    );
    // What they got stays readable after.
    const r = cockpit(['demo', '--messages', '--dir', sandbox]);
    expect(r.stdout).toContain('Heads up');
  }, 30_000);

  it('started again (the next cockpit demo), keep the status page as it was and what was received', async () => {
    const again = await receiversService.start({
      dir: sandbox,
      stateDir,
      scenario: 'none',
      log: () => {},
      started: {},
      parentPid: process.pid,
    });
    try {
      expect(again.processes[0].pid).not.toBe(started.processes[0].pid);
      expect((again.localConfig as any).notify.statuspage.apiKey).not.toBe(apiKey);
      const page = JSON.parse(readFileSync(path.join(stateDir, 'receivers', 'statuspage.json'), 'utf8'));
      expect(page.incidents.map((i: any) => i.status)).toEqual(['completed']);
      expect(page.components[0].history).toEqual(['operational', 'under_maintenance', 'operational']);
      const r = cockpit(['demo', '--messages', '--dir', sandbox]);
      expect(r.stdout).toMatch(/received \(5, times in UTC\)/);
    } finally {
      process.kill(again.processes[0].pid, 'SIGTERM');
    }
  }, 30_000);
});
