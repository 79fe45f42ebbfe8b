import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { Tmux } from '../helpers/tmux.js';
import { API_KEY, PAGE, SLACK_TOKEN, slackReceiver, statuspageReceiver, listen, type Receiver } from '../helpers/notify-receivers.js';

/**
 * The `notify` step against real HTTP receivers on loopback (free ports, closed after each test), one per provider,
 * each checking every request against the provider's documented format and recording it: a Slack-compatible incoming
 * webhook (`text` + `blocks`, answers `ok`) and the Atlassian Statuspage manage API (paths under
 * /v1/pages/<page>/, `Authorization: OAuth <key>`, JSON bodies wrapped in `incident` / `component`). The real
 * cockpit bin runs on a real git repository with a config and a checklist, as an async child (the receivers
 * answer from this process).
 */

let repo: ReturnType<typeof tempRepo>;
let receivers: Receiver[] = [];
beforeEach(() => {
  repo = tempRepo();
});
afterEach(async () => {
  for (const r of receivers) for (const res of r.held) res.destroy();
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
  repo.cleanup();
});

async function track<R extends Receiver>(r: Promise<R>): Promise<R> {
  const got = await r;
  receivers.push(got);
  return got;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string> = {}) {
  const child = cockpitAsync(['--repo', repo.dir, ...args], { cwd: repo.dir, env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

const run = (args: string[], env: Record<string, string> = {}) => start(args, env).done;

function config(channels: string): void {
  repo.write('cockpit.config.yaml', `notify:\n${channels.replace(/^/gm, '  ')}\n`);
}

const slackChannel = (name: string, extra = '') =>
  `${name}:\n  type: slack\n  url: {env: TEST_SLACK_URL}\n${extra ? extra.replace(/^/gm, '  ') + '\n' : ''}`;
const slackEnv = (r: Receiver) => ({ TEST_SLACK_URL: `${r.url}/services/T0001/B0001/${SLACK_TOKEN}` });

/** A checklist of notify steps (each `id: fields`), then an optional last step. */
function checklist(steps: Record<string, string>): string {
  const body = Object.entries(steps)
    .map(([id, fields]) => `  - id: ${id}\n    title: ${id}\n    kind: notify\n${fields.replace(/^/gm, '    ')}`)
    .join('\n');
  return repo.write(
    'checklists/tell.yaml',
    `id: tell\ntitle: Tell\nparams:\n  version: {type: string}\n  target: {type: string}\nsteps:\n${body}\n`,
  );
}

const sessionOf = (stdout: string) => jsonLines(stdout).find((e) => e.type === 'session.started')?.sessionId as string;

async function events(id: string): Promise<Array<Record<string, any>>> {
  const r = await run(['audit', 'show', id, '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { events: Array<Record<string, any>> }).events;
}

const of = (evs: Array<Record<string, any>>, type: string) => evs.filter((e) => e.type === type).map((e) => e.data);

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every byte of the audit store on disk (the database, its WAL and journal). */
function auditBytes(): string {
  const dir = path.join(repo.dir, '.cockpit');
  return readdirSync(dir)
    .filter((f) => f.startsWith('audit.db'))
    .map((f) => readFileSync(path.join(dir, f)).toString('latin1'))
    .join('');
}

describe('notify: the communication checklist against real receivers', () => {
  it('sends every message in order, schedules then starts and closes the maintenance, and no secret is recorded or shown', async () => {
    const slack = await track(slackReceiver());
    const sp = await track(statuspageReceiver());
    config(
      `${slackChannel('chat')}statuspage:\n  type: statuspage\n  url: ${sp.url}/v1\n  page: ${PAGE}\n  apiKey: ${API_KEY}\n  components: [cmpA, cmpB]`,
    );
    // The approved notes the release-notes step posts (the notes step writes them during the release).
    repo.write('CHANGELOG.md', '# Changelog\n\n## 1.4.0 (2026-12-08)\n\n### Features\n\n- search listings (a1b2c3d)\n');
    const r = await run(
      [
        'run',
        'communication',
        '-p',
        'version=1.4.0',
        '-p',
        'target=production',
        '-p',
        'window_start=2026-12-08T22:00Z',
        '-p',
        'window_length=2h',
        '--non-interactive',
        '--yes',
        'all',
        '--json',
      ],
      slackEnv(slack),
    );
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect([...slack.violations, ...sp.violations]).toEqual([]);

    // The chat got the four messages, in the policy's order, each with its plain-text fallback.
    expect(slack.received.map((q) => q.body.blocks[0].text.text)).toEqual([
      'Release announcement: v1.4.0 to production',
      'Maintenance window: v1.4.0 on production',
      'Deployment started: v1.4.0 to production',
      'Deployment complete: v1.4.0 to production',
      'Release notes: v1.4.0',
    ]);
    expect(slack.received[1].body.text).toContain('starts 2026-12-08T22:00Z, expected to last 2h');
    // At most one request a second per webhook and per Statuspage key (their documented limits): spaced, not throttled.
    for (const r of [slack, sp])
      for (let i = 1; i < r.received.length; i++) expect(r.received[i].at - r.received[i - 1].at).toBeGreaterThanOrEqual(950);

    // The status page: the maintenance scheduled (read first), started, then completed; components under maintenance, then operational.
    expect(sp.received.map((q) => `${q.method} ${q.path.replace(`/v1/pages/${PAGE}`, '')}`)).toEqual([
      'GET /incidents/scheduled',
      'POST /incidents',
      'GET /incidents/unresolved',
      'GET /incidents/scheduled',
      'PATCH /incidents/inc1',
      'GET /incidents/unresolved',
      'PATCH /incidents/inc1',
    ]);
    expect(sp.received[1].body.incident).toMatchObject({
      name: 'Deployment of v1.4.0 to production',
      status: 'scheduled',
      scheduled_for: '2026-12-08T22:00:00.000Z',
      scheduled_until: '2026-12-09T00:00:00.000Z',
      component_ids: ['cmpA', 'cmpB'],
    });
    expect(sp.components).toEqual({
      cmpA: ['operational', 'under_maintenance', 'operational'],
      cmpB: ['operational', 'under_maintenance', 'operational'],
    });
    expect(sp.incidents).toMatchObject([{ id: 'inc1', status: 'completed' }]);

    // Recorded: each delivery before and after, with its HTTP status and the incident's id.
    const id = sessionOf(r.stdout);
    const evs = await events(id);
    expect(of(evs, 'notify.delivered').map((d) => [d.channel, d.status, d.messageId])).toEqual([
      ['chat', 200, null],
      ['chat', 200, null],
      ['statuspage', 201, 'inc1'],
      ['statuspage', 200, 'inc1'],
      ['chat', 200, null],
      ['chat', 200, null],
      ['chat', 200, null],
      ['statuspage', 200, 'inc1'],
    ]);
    expect(of(evs, 'notify.sending')).toHaveLength(8);
    expect(of(evs, 'notify.sending')[0]).toMatchObject({ channel: 'chat', provider: 'slack', endpoint: 'POST $TEST_SLACK_URL' });

    // No secret anywhere: the store's bytes, the terminal, --json, the report.
    const shown = await run(['audit', 'show', id]);
    expect(shown.stdout).toContain(
      "step 'status-page-start': sending deployment-started to statuspage (statuspage under_maintenance, http://127.0.0.1:",
    );
    expect(shown.stdout).toContain("step 'status-page-start': delivered to statuspage: HTTP 200, id inc1 (incident inc1 → in_progress)");
    expect(shown.stdout).toContain("step 'deployment-confirmation': delivered to chat: HTTP 200 (posted)");
    for (const text of [auditBytes(), r.stdout, r.stderr, JSON.stringify(evs), shown.stdout]) {
      expect(text).not.toContain(SLACK_TOKEN);
      expect(text).not.toContain(API_KEY);
    }
    // …though the webhook was called with the token and the status page with the key.
    expect(slack.received[0].path).toContain(SLACK_TOKEN);
    expect(sp.received[0].headers.authorization).toBe(`OAuth ${API_KEY}`);
  }, 90_000);

  it('the dry run prints each message as it would be sent, with its endpoint and the secrets masked', async () => {
    config(`${slackChannel('chat')}statuspage:\n  type: statuspage\n  page: ${PAGE}\n  apiKey: ${API_KEY}\n  components: [cmpA]`);
    const r = await run(['run', 'communication', '-p', 'phase=during', '-p', 'version=1.4.0', '-p', 'target=production', '--dry-run'], {
      TEST_SLACK_URL: `https://hooks.slack.com/services/T0001/B0001/${SLACK_TOKEN}`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('→ chat (slack): POST $TEST_SLACK_URL');
    expect(r.stdout).toContain(
      '"text":"Deployment started: v1.4.0 to production\\nDeployment of release v1.4.0 to production has started.',
    );
    expect(r.stdout).toMatch(
      /→ statuspage \(statuspage under_maintenance\): GET https:\/\/api\.statuspage\.io\/v1\/pages\/pg7x\/incidents\/unresolved/,
    );
    expect(r.stdout).toContain('Authorization: OAuth [secret]');
    expect(r.stdout).not.toContain(API_KEY);
    expect(r.stdout).not.toContain(SLACK_TOKEN);
  });

  it('without notify: in the config, the sending steps have nothing to do and say how to configure a channel', async () => {
    const r = await run(['run', 'communication', '--non-interactive', '--yes', 'all', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const passed = jsonLines(r.stdout).filter((e) => e.type === 'step.passed' && e.data.nothingToCheck);
    expect(passed.map((e) => e.stepId)).toEqual([
      'release-announcement',
      'maintenance-window',
      'status-page-start',
      'deployment-confirmation',
      'publish-release-notes',
      'release-notes-chat',
      'status-page-operational',
    ]);
    expect(passed[0].data.nothingToCheck).toMatch(
      /no notify: channels are configured.*add channels under notify: in cockpit\.config\.yaml/,
    );
  });
});

describe('notify: retries and failures', () => {
  it('retries a 500, honours a 429 Retry-After, retries after a timeout, and records the attempts', async () => {
    const slack = await track(
      slackReceiver({
        1: (_q, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error'),
        3: (_q, res) => res.writeHead(429, { 'retry-after': '2', 'content-type': 'text/plain' }).end('rate_limited'),
        // Held past the channel's timeout (1s), then answered: the cockpit has given up on it and tried again.
        5: (_q, res) => setTimeout(() => !res.destroyed && res.end('ok'), 2500),
      }),
    );
    config(slackChannel('chat', 'timeout: 1s\nattempts: 3'));
    const f = checklist({
      one: 'message: deployment-started\nchannels: [chat]',
      two: 'message: issue-or-delay\nchannels: [chat]',
      three: 'message: deployment-confirmation\nchannels: [chat]',
    });
    const r = await run(['run', f, '-p', 'version=2.0.0', '--non-interactive', '--json'], slackEnv(slack));
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(slack.violations).toEqual([]);
    expect(slack.received).toHaveLength(6);
    // Nobody is there to read the messages first: each step says it sent the template's words.
    const said = jsonLines(r.stdout)
      .filter((e) => e.type === 'step.output')
      .map((e) => e.data.text as string)
      .join('');
    expect(said.match(/sent as the template renders it: the run is non-interactive, so nobody reviewed or edited it/g)).toHaveLength(3);
    // The 429's Retry-After: 2 was waited (not the 1s back-off).
    expect(slack.received[3].at - slack.received[2].at).toBeGreaterThanOrEqual(1900);
    const evs = jsonLines(r.stdout);
    expect(of(evs, 'notify.retrying').map((d) => [d.status, d.waitMs, d.reason])).toEqual([
      [500, 1000, 'HTTP 500: internal error'],
      [429, 2000, 'HTTP 429: rate_limited'],
      [null, 1000, 'no answer within 1.0s'],
    ]);
    expect(of(evs, 'notify.delivered').map((d) => d.attempts)).toEqual([2, 2, 2]);
    expect(r.stdout).toContain('try 1 failed (HTTP 429: rate_limited); trying again in 2.0s');
  }, 60_000);

  it('a permanent 404 fails the step with the provider answer, tries once, and the session resumes past a skip', async () => {
    const slack = await track(
      slackReceiver({ 1: (_q, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no_service\u001b[31m') }),
    );
    config(slackChannel('chat'));
    const f = checklist({ tell: 'message: deployment-confirmation\nchannels: [chat]' });
    const r = await run(['run', f, '--non-interactive'], slackEnv(slack));
    expect(r.code).toBe(1);
    expect(slack.received).toHaveLength(1);
    expect(r.stdout + r.stderr).toContain('not delivered to chat: refused: HTTP 404: no_service␛[31m');
    expect(r.stdout + r.stderr).not.toContain('\u001b[31m');
    const id = /session (\d{8}-\d{6}-[0-9a-f]{4})/.exec(r.stdout + r.stderr)?.[1] ?? '';
    const evs = await events(id);
    expect(of(evs, 'notify.failed')).toEqual([{ channel: 'chat', status: 404, attempts: 1, reason: 'refused: HTTP 404: no_service␛[31m' }]);
    const skipped = await run(['resume', id, '--skip', 'tell', '--reason', 'channel archived', '--non-interactive'], slackEnv(slack));
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(slack.received).toHaveLength(1);
  }, 60_000);
});

describe('notify: no answer is not a failure to deliver', () => {
  it('a post whose every try got no answer fails the step as perhaps delivered; the retry asks before sending again', async () => {
    // The webhook takes the message and answers too late (after the channel's 1s timeout).
    const slack = await track(slackReceiver({ 1: (_q, res) => setTimeout(() => !res.destroyed && res.end('ok'), 2500) }));
    config(slackChannel('chat', 'timeout: 1s\nattempts: 1'));
    const f = checklist({ tell: 'message: deployment-confirmation\nchannels: [chat]' });
    const r = await run(['run', f, '--non-interactive', '--json'], slackEnv(slack));
    expect(r.code).toBe(1);
    const id = sessionOf(r.stdout);
    expect(of(jsonLines(r.stdout), 'notify.failed')).toEqual([
      { channel: 'chat', status: null, attempts: 1, reason: 'no answer within 1.0s', uncertain: true },
    ]);
    expect(r.stdout).toContain('✘ chat: no answer, so perhaps delivered (a retry asks first): no answer within 1.0s');

    const retry = await run(['resume', id, '--non-interactive'], slackEnv(slack));
    expect(retry.code).toBe(1);
    expect(retry.stdout + retry.stderr).toContain(
      "'deployment-confirmation' to chat is possibly delivered (it was sent, then: no answer within 1.0s)",
    );
    expect(slack.received).toHaveLength(1);
    const yes = await run(['resume', id, '--non-interactive', '--yes', 'tell'], slackEnv(slack));
    expect(yes.code, yes.stderr).toBe(0);
    expect(slack.received).toHaveLength(2);
  }, 60_000);
});

describe('notify: the status page reads before it creates', () => {
  it('a create whose answer was lost is not sent again: the page is read, the incident found and updated', async () => {
    const sp = await track(statuspageReceiver({ holdFirstCreateMs: 2500 }));
    config(
      `statuspage:\n  type: statuspage\n  url: ${sp.url}/v1\n  page: ${PAGE}\n  apiKey: {env: TEST_SP_KEY}\n  components: [cmpA]\n  timeout: 1s`,
    );
    const f = checklist({ issue: 'message: issue-or-delay\nchannels: [statuspage]\nstatus: degraded_performance' });
    const r = await run(['run', f, '-p', 'version=5.0.1', '-p', 'target=production', '--non-interactive', '--json'], {
      TEST_SP_KEY: API_KEY,
    });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(sp.violations).toEqual([]);
    expect(sp.received.map((q) => `${q.method} ${q.path.replace(`/v1/pages/${PAGE}`, '')}`)).toEqual([
      'GET /incidents/unresolved',
      'GET /incidents/scheduled',
      'POST /incidents',
      'GET /incidents/unresolved',
      'PATCH /incidents/inc1',
    ]);
    expect(sp.incidents).toHaveLength(1);
    expect(sp.components.cmpA).toEqual(['operational', 'degraded_performance', 'degraded_performance']);
    const evs = jsonLines(r.stdout);
    expect(of(evs, 'notify.retrying').map((d) => d.reason)).toEqual([
      'no answer within 1.0s; it may have been created, so the page is read again first',
    ]);
    expect(of(evs, 'notify.delivered')).toMatchObject([{ channel: 'statuspage', status: 200, messageId: 'inc1', attempts: 2 }]);
    expect(r.stdout).not.toContain(API_KEY);
  }, 60_000);
});

describe('notify: a crash between sending and recording', () => {
  it('resume asks before sending a possibly delivered message again, and never re-sends a delivered one', async () => {
    const slack = await track(slackReceiver());
    // The second channel holds its answer: the cockpit is killed while it waits.
    const hook = await track(
      listen((req, res) => {
        if (hook.received.length === 1) hook.held.push(res);
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'msg-2' }));
      }),
    );
    config(
      `${slackChannel('chat')}hook:\n  type: webhook\n  url: ${hook.url}/hook\n  template: {summary: '\${title}', body: '\${text}', release: '\${version}'}`,
    );
    const f = checklist({ tell: 'message: deployment-started\nchannels: [chat, hook]' });
    const first = start(['run', f, '-p', 'version=3.1.0', '--non-interactive', '--json'], slackEnv(slack));
    await until(() => hook.received.length === 1);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).toBe(null);
    const id = sessionOf(killed.stdout);
    expect(slack.received).toHaveLength(1);
    expect(hook.received[0].body).toEqual({
      summary: 'Deployment started: v3.1.0',
      body: expect.stringContaining('Deployment of release v3.1.0 has started.'),
      release: '3.1.0',
    });
    expect(hook.received[0].headers['idempotency-key']).toBe(`${id}/tell/hook`);

    // Non-interactive, without a yes: it waits, and says how to answer.
    const waiting = await run(['resume', id, '--non-interactive'], slackEnv(slack));
    expect(waiting.code).toBe(1);
    expect(waiting.stdout + waiting.stderr).toContain("'deployment-started' to hook is possibly delivered");
    expect(waiting.stdout + waiting.stderr).toContain(`resume ${id} --non-interactive --yes tell`);
    expect(hook.received).toHaveLength(1);
    expect(slack.received).toHaveLength(1);

    // Told yes: the hook is sent once more, the chat (recorded as delivered) is not.
    const yes = await run(['resume', id, '--non-interactive', '--yes', 'tell', '--json'], slackEnv(slack));
    expect(yes.code, yes.stderr + yes.stdout.slice(-2000)).toBe(0);
    expect(hook.received).toHaveLength(2);
    expect(slack.received).toHaveLength(1);
    const evs = await events(id);
    expect(of(evs, 'step.confirmed').at(-1)).toMatchObject({ via: 'flag', note: expect.stringContaining('possibly delivered') });
    expect(of(evs, 'notify.delivered').map((d) => [d.channel, d.messageId])).toEqual([
      ['chat', null],
      ['hook', 'msg-2'],
    ]);
    expect(yes.stdout).toContain('chat: already delivered');
  }, 60_000);
});

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

describe.skipIf(!tmuxOk.ok)('notify: a possibly delivered message on the screen (tmux 160x30)', () => {
  let term: Tmux | null = null;
  afterEach(() => term?.kill());

  it('the resumed session asks on screen before sending again, and Enter sends it once', async () => {
    const hook = await track(
      listen((_req, res) => {
        if (hook.received.length === 1) hook.held.push(res);
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }),
    );
    config(`hook:\n  type: webhook\n  url: ${hook.url}/hook`);
    const f = checklist({ tell: 'message: rollback-notice\nchannels: [hook]' });
    const first = start(['run', f, '-p', 'version=3.1.0', '--non-interactive', '--json']);
    await until(() => hook.received.length === 1);
    first.child.kill('SIGKILL');
    const id = sessionOf((await first.done).stdout);

    term = new Tmux(`${process.execPath} ${BIN} --repo ${repo.dir} resume ${id}`, {
      cwd: repo.dir,
      env: { COCKPIT_OPERATOR: 'tester', NO_COLOR: '1' },
      width: 160,
      height: 30,
    });
    // The detail pane's text, its wrapped rows joined (the question is longer than a row).
    const pane = (screen: string) =>
      screen
        .split('\n')
        .map((row) => row.slice(row.indexOf('│') + 1))
        .join(' ')
        .replace(/\s+/g, ' ');
    // The resume runs on at once; the step asks before anything is sent.
    const screen = pane(await term.waitFor((s) => pane(s).includes('may have been delivered'), 'the question', 30_000));
    expect(screen).toContain("'Rollback: v3.1.0' to hook was being sent when the cockpit stopped");
    expect(screen).toContain('it may have been delivered. Send it again?');
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.received).toHaveLength(1);
    term.send('Enter');
    // Then the message is shown as it will be sent again (↵ sends it, e edits it): still nothing sent.
    await term.waitFor((s) => s.includes("step 'tell' sends 'rollback-notice'"), 'the message shown', 30_000);
    expect(hook.received).toHaveLength(1);
    term.send('Enter');
    await term.waitForText('[DONE]', 30_000);
    expect(hook.received).toHaveLength(2);
    term.send('q');
    expect(await term.waitForExit()).toBe(0);
    const evs = await events(id);
    expect(evs.filter((e) => e.type === 'step.confirmed').at(-1)).toMatchObject({ actor: 'tester', data: { by: 'tester', via: 'prompt' } });
  }, 90_000);

  it('--plain prints the message before sending it; e takes a new text line by line, y sends the edit, recorded as edited', async () => {
    const slack = await track(slackReceiver());
    config(slackChannel('chat'));
    const f = checklist({ tell: 'message: deployment-started\nchannels: [chat]' });
    term = new Tmux(`${process.execPath} ${BIN} --repo ${repo.dir} run ${f} -p version=2.1.0 -p target=production --plain`, {
      cwd: repo.dir,
      env: { COCKPIT_OPERATOR: 'tester', NO_COLOR: '1', ...slackEnv(slack) },
      width: 160,
      height: 30,
    });
    let screen = await term.waitForText('send it [y]es / [e]dit / [s]kip / [a]bort / [q]uit for now:', 30_000);
    expect(screen).toContain('Deployment started: v2.1.0 to production');
    expect(screen).toContain("→ chat (slack): chat message 'Deployment started: v2.1.0 to production' with the text below");
    expect(screen).toContain('| Deployment of release v2.1.0 to production has started. Operator: tester.');
    expect(slack.received).toHaveLength(0);
    term.type('e');
    term.send('Enter');
    await term.waitForText('a line with a lone "." ends it');
    for (const line of ['Deploying v2.1.0 now.', 'ETA 20 min.', '.']) {
      term.type(line);
      term.send('Enter');
    }
    screen = await term.waitForText('Deployment started: v2.1.0 to production (edited by tester)');
    expect(screen).toMatch(/\| Deploying v2\.1\.0 now\.\n\s+\| ETA 20 min\./);
    await term.waitFor((s) => (s.match(/send it \[y\]es/g) ?? []).length === 2, 'the question again');
    term.type('y');
    term.send('Enter');
    expect(await term.waitForExit(30_000)).toBe(0);
    expect(slack.violations).toEqual([]);
    expect(slack.received.map((q) => q.body.blocks[1].text.text)).toEqual(['Deploying v2.1.0 now.\nETA 20 min.']);
    const runs = JSON.parse((await run(['audit', 'list', '--json'])).stdout) as Array<{ id: string }>;
    const sending = of(await events(runs[0].id), 'notify.sending');
    expect(sending).toEqual([
      expect.objectContaining({ channel: 'chat', text: 'Deploying v2.1.0 now.\nETA 20 min.', edited: true, editedBy: 'tester' }),
    ]);
    // audit show says it was edited, and by whom.
    const shown = await run(['audit', 'show', runs[0].id]);
    expect(shown.stdout).toContain('edited by tester: "Deploying v2.1.0 now.');
  }, 90_000);
});
