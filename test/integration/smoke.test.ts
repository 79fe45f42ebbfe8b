import { existsSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cockpit, cockpitAsync, tempRepo, type CliResult } from '../helpers/cli.js';
import { frameProblem, Tmux } from '../helpers/tmux.js';

/**
 * The `smoke` step against real HTTP servers on loopback (free ports), run through `cockpit run … --non-interactive`
 * as an operator would: what the terminal shows, and what `audit show --format json` records. The servers run in
 * this process, so the cockpit runs as an async child (a synchronous spawn would stop them answering).
 */

const TOKEN = 'ghp_' + 'Zx9'.repeat(12);
const PASSWORD = 'hunter2-smoke';

interface Server {
  url: string;
  hits: Record<string, number>;
  close(): Promise<void>;
}

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, hit: number) => void): Promise<Server> {
  const hits: Record<string, number> = {};
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const key = req.url ?? '/';
    hits[key] = (hits[key] ?? 0) + 1;
    handler(req, res, hits[key]);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** The Property app as a smoke check sees it: /up, and /version answering `version`. */
const app = (version: string) => (req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url === '/up') return void res.end('OK');
  if (req.url === '/version') return json(res, 200, { data: { version }, status: 'ok' });
  json(res, 404, { error: 'not found' });
};

let servers: Server[] = [];
let repo: ReturnType<typeof tempRepo>;
beforeEach(() => {
  repo = tempRepo();
});
afterEach(async () => {
  repo.cleanup();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(handler: Parameters<typeof serve>[0]): Promise<Server> {
  const s = await serve(handler);
  servers.push(s);
  return s;
}

function run(args: string[]): Promise<CliResult & { ms: number }> {
  const t0 = Date.now();
  const child = cockpitAsync(['--repo', repo.dir, ...args], { cwd: repo.dir });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 })));
}

/** A deploy's tail: smoke the new colour, then switch (a file the test can see), so a failed smoke leaves the live colour as it was. */
function checklist(smoke: string): string {
  return repo.write(
    'checklists/deploy.yaml',
    `id: deploy
title: Deploy
params:
  version: {type: semver, required: true}
  url: {type: string, required: true}
steps:
  - id: smoke
    title: Smoke the new colour
    kind: smoke
    url: \${url}
${smoke
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
  - id: switch
    title: Switch traffic
    kind: run
    run: echo switched > switched
`,
  );
}

const sessionOf = (stdout: string) => /session (\d{8}-\d{6}-[0-9a-f]{4})/.exec(stdout)?.[1] ?? '';

async function auditEvents(id: string): Promise<Array<Record<string, any>>> {
  const r = await run(['audit', 'show', id, '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { events: Array<Record<string, any>> }).events;
}

const checks = (events: Array<Record<string, any>>) => events.filter((e) => e.type === 'smoke.check').map((e) => e.data);
const switched = () => existsSync(path.join(repo.dir, 'switched'));

describe('smoke checks against real HTTP servers', () => {
  it('a healthy colour passes every check, each recorded with its URL, status and latency, and the switch runs', async () => {
    const green = await start(app('1.2.3'));
    const f = checklist(`
checks:
  - {name: up, path: /up, contains: OK}
  - name: version
    path: /version
    json: {path: data.version, equals: '\${version}'}
    maxLatency: 2s
`);
    const r = await run(['run', f, '-p', 'version=1.2.3', '-p', `url=${green.url}`, '--non-interactive']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`✔ up\\s+HTTP 200 in \\d+ms · GET ${green.url}/up`));
    expect(r.stdout).toMatch(new RegExp(`✔ version\\s+HTTP 200 in \\d+ms · GET ${green.url}/version`));
    expect(switched()).toBe(true);
    const recorded = checks(await auditEvents(sessionOf(r.stdout)));
    expect(recorded.map((c) => [c.name, c.verdict, c.status, c.url, c.attempts])).toEqual([
      ['up', 'pass', 200, `${green.url}/up`, 1],
      ['version', 'pass', 200, `${green.url}/version`, 1],
    ]);
    for (const c of recorded) expect(c.latencyMs).toBeGreaterThanOrEqual(0);
    expect(recorded.some((c) => 'excerpt' in c)).toBe(false);
  });

  it('a colour that answers 500 twice then recovers passes on the third try; without retries it fails and nothing is switched', async () => {
    const flaky = await start((req, res, hit) => (hit <= 2 ? json(res, 500, { error: 'warming up' }) : app('1.2.3')(req, res)));
    const f = checklist(`
retries: 2
backoff: 50ms
checks:
  - {name: up, path: /up}
`);
    const r = await run(['run', f, '-p', 'version=1.2.3', '-p', `url=${flaky.url}`, '--non-interactive']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✔ up\s+HTTP 200 in \d+ms \(3 attempts\) · GET \S+\/up/);
    expect(flaky.hits['/up']).toBe(3);
    expect(checks(await auditEvents(sessionOf(r.stdout)))).toMatchObject([{ name: 'up', verdict: 'pass', attempts: 3 }]);

    // The same service, retries off: the first 500 is the verdict.
    flaky.hits['/up'] = 0;
    rmSync(path.join(repo.dir, 'switched'));
    const g = checklist(`
retries: 0
checks:
  - {name: up, path: /up}
`);
    const r2 = await run(['run', g, '-p', 'version=1.2.3', '-p', `url=${flaky.url}`, '--non-interactive']);
    expect(r2.code).toBe(1);
    expect(r2.stdout).toContain('✖ up');
    expect(r2.stdout).toContain('HTTP 500, expected 200');
    expect(r2.stdout).toContain('body: {"error":"warming up"}');
    expect(flaky.hits['/up']).toBe(1);
    expect(switched()).toBe(false);
  });

  it('a colour slower than the latency limit fails the check, and the live colour is not switched', async () => {
    const slow = await start((req, res) => setTimeout(() => app('1.2.3')(req, res), 700));
    const f = checklist(`
retries: 1
backoff: 50ms
checks:
  - {name: up, path: /up, maxLatency: 200ms}
`);
    const r = await run(['run', f, '-p', 'version=1.2.3', '-p', `url=${slow.url}`, '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✖ up\s+answered in \d+ms, over the limit of 200ms \(2 attempts\) · GET \S+\/up/);
    expect(r.stdout).toContain('smoke failed: 1 of 1 check(s) failed');
    expect(r.stdout).not.toContain('Switch traffic (run)');
    expect(switched()).toBe(false);
    const [c] = checks(await auditEvents(sessionOf(r.stdout)));
    expect(c).toMatchObject({ verdict: 'fail', status: 200, attempts: 2 });
    expect(c.latencyMs).toBeGreaterThanOrEqual(650);
  });

  it('a colour that never answers ends at the overall timeout as inconclusive, not as a pass, and the later checks are not judged', async () => {
    const hang = await start(() => {
      /* never answers */
    });
    const f = checklist(`
timeout: 1500ms
retries: 5
checks:
  - {name: up, path: /up}
  - {name: version, path: /version}
`);
    const r = await run(['run', f, '-p', 'version=1.2.3', '-p', `url=${hang.url}`, '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stdout).toMatch(/\? up\s+inconclusive: no answer within 1\.5s: the overall timeout \(1\.5s\) ran out · GET /);
    expect(r.stdout).toMatch(/\? version\s+inconclusive: not judged: the overall timeout \(1\.5s\) ran out · GET /);
    expect(r.stdout).toContain('smoke inconclusive: 2 of 2 check(s) could not be judged');
    expect(r.stdout).toContain('Inconclusive is not a pass: no promotion');
    expect(switched()).toBe(false);
    const recorded = checks(await auditEvents(sessionOf(r.stdout)));
    expect(recorded.map((c) => [c.name, c.verdict, c.status])).toEqual([
      ['up', 'inconclusive', null],
      ['version', 'inconclusive', null],
    ]);
  });

  it('a 503 from a dependency is inconclusive; a refused connection fails', async () => {
    const dep = await start((req, res) => json(res, 503, { error: 'database unavailable' }));
    const f = checklist(`
retries: 0
checks:
  - {name: orders, path: /orders}
`);
    const r = await run(['run', f, '-p', 'version=1.2.3', '-p', `url=${dep.url}`, '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('inconclusive: HTTP 503, expected 200: a proxy or a dependency could not answer');
    expect(r.stdout).toContain('smoke inconclusive');

    const gone = await start(app('1.2.3'));
    const url = gone.url;
    await gone.close();
    servers = servers.filter((s) => s !== gone);
    const r2 = await run(['run', f, '-p', 'version=1.2.3', '-p', `url=${url}`, '--non-interactive']);
    expect(r2.code).toBe(1);
    expect(r2.stdout).toMatch(/✖ orders\s+connection refused: nothing listens there · GET /);
    expect(r2.stdout).toContain('smoke failed');
  });

  it('a stop during a check that hangs ends at once; the resume runs the checks again without asking (they only read)', async () => {
    let fixed = false;
    const green = await start((req, res) => {
      if (fixed) app('1.2.3')(req, res);
    });
    const f = checklist(`
timeout: 30s
checks:
  - {name: up, path: /up}
`);
    const t0 = Date.now();
    const child = cockpitAsync(['--repo', repo.dir, 'run', f, '-p', 'version=1.2.3', '-p', `url=${green.url}`, '--non-interactive'], {
      cwd: repo.dir,
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    while (!green.hits['/up'] && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 25));
    expect(green.hits['/up']).toBe(1);
    const stopAt = Date.now();
    child.kill('SIGINT');
    expect(await closed).toBe(3);
    expect(Date.now() - stopAt).toBeLessThan(3000);
    expect(out).toContain('interrupted: stopped by the operator');
    expect(switched()).toBe(false);

    fixed = true;
    const r = await run(['resume', sessionOf(out), '--non-interactive']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✔ up\s+HTTP 200 in \d+ms · GET /);
    expect(switched()).toBe(true);
    expect(checks(await auditEvents(sessionOf(out))).map((c) => c.verdict)).toEqual(['pass']);
  });

  it('the wrong version fails the JSON check, saying what it found', async () => {
    const blue = await start(app('1.2.2'));
    const f = checklist(`
checks:
  - name: version
    path: /version
    json: {path: data.version, equals: '\${version}'}
`);
    const r = await run(['run', f, '-p', 'version=1.2.3', '-p', `url=${blue.url}`, '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('data.version is "1.2.2", expected "1.2.3"');
    // A wrong answer is not retried: one request.
    expect(blue.hits['/version']).toBe(1);
    expect(switched()).toBe(false);
    const [c] = checks(await auditEvents(sessionOf(r.stdout)));
    expect(c).toMatchObject({ verdict: 'fail', reason: 'data.version is "1.2.2", expected "1.2.3"', attempts: 1 });
    expect(c.excerpt).toContain('"version":"1.2.2"');
  });

  it('a body leaking a token, and credentials in the URL, reach neither the screen nor the audit log; control sequences are neutralised', async () => {
    const leaky = await start((req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`boom \x1b]0;owned\x07\x1b[2J token=${TOKEN} Authorization: Bearer ${TOKEN}\n`);
    });
    const withCreds = leaky.url.replace('http://', `http://deployer:${PASSWORD}@`);
    const f = checklist(`
retries: 0
checks:
  - {name: up, path: /up}
`);
    const r = await run(['run', f, '-p', 'version=1.2.3', '-p', `url=${withCreds}`, '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('body: boom');
    expect(r.stdout).toContain('[REDACTED]');
    for (const text of [r.stdout, r.stderr]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('\x1b]0;owned');
      expect(text).not.toContain('\x1b[2J');
    }
    const events = await auditEvents(sessionOf(r.stdout));
    const [c] = checks(events);
    expect(c.url).toBe(`${leaky.url.replace('http://', 'http://***@')}/up`);
    expect(c.excerpt).toContain('[REDACTED]');
    const all = JSON.stringify(events);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain('\\u001b]0;owned');
    // The audit file itself.
    expect(readFileSync(path.join(repo.dir, '.cockpit', 'audit.db')).includes(TOKEN)).toBe(false);
    // The basic auth reached the server: credentials are used, only never recorded.
    expect(leaky.hits['/up']).toBe(1);
  });
});

const tmuxOk = Tmux.available();
if (!tmuxOk.ok && process.env.CI === 'true') throw new Error(`CI needs a real terminal for these tests: ${tmuxOk.why}`);

describe.skipIf(!tmuxOk.ok)('the smoke step in a real terminal (tmux 110x30)', () => {
  let term: Tmux | null = null;
  afterEach(() => term?.kill());

  it('the detail pane lists each check; after the service is fixed, r runs the checks again and the switch follows', async () => {
    let version = '1.2.2';
    const green = await start((req, res) => app(version)(req, res));
    const f = checklist(`
retries: 0
checks:
  - {name: up, path: /up}
  - name: version
    path: /version
    json: {path: data.version, equals: '\${version}'}
`);
    term = new Tmux(`${process.execPath} ${BIN} --repo ${repo.dir} run ${f} -p version=1.2.3 -p url=${green.url}`, {
      cwd: repo.dir,
      env: { COCKPIT_OPERATOR: 'tester', NO_COLOR: '1' },
      width: 110,
      height: 30,
    });
    let screen = await term.settled(await term.waitForText('body: {"data":{"version":"1.2.2"}'));
    expect(frameProblem(screen, 110, 30)).toBeNull();
    expect(screen).toMatch(/✔ up\s+HTTP 200 in \d+ms · GET http:\/\/127\.0\.0\.1:\d+\/up/);
    expect(screen).toMatch(/✖ version\s+data\.version is "1\.2\.2", expected "1\.2\.3" · GET /);
    expect(screen).toContain('FAILED: smoke failed: 1 of 2 check(s) failed');
    expect(switched()).toBe(false);

    version = '1.2.3';
    term.send('r');
    screen = await term.settled(await term.waitForText('[DONE]'));
    expect(frameProblem(screen, 110, 30)).toBeNull();
    expect(screen).toMatch(/1 ✔ Smoke the new colour/);
    expect(screen).toMatch(/2 ✔ Switch traffic/);
    term.send('q');
    expect(await term.waitForExit()).toBe(0);
    expect(switched()).toBe(true);
    expect(green.hits['/version']).toBe(2);
  });
});

describe('a smoke step is checked when the checklist loads', () => {
  let dir: ReturnType<typeof tempRepo>;
  beforeAll(() => {
    dir = tempRepo();
  });
  afterAll(() => dir.cleanup());

  it('a bad duration is refused at its file:line:column (exit 2)', () => {
    dir.write(
      'checklists/bad.yaml',
      `id: bad
title: Bad
params:
  url: {type: string, required: true}
steps:
  - id: smoke
    title: Smoke
    kind: smoke
    url: \${url}
    timeout: 5 minutes
    checks:
      - {name: up, path: /up, maxLatency: 30d}
`,
    );
    const r = cockpit(['--repo', dir.dir, 'checklist', 'validate', 'checklists/bad.yaml'], { cwd: dir.dir });
    expect(r.code).toBe(2);
    const err = r.stdout + r.stderr;
    expect(err).toMatch(/bad\.yaml:10:14: step 'smoke': timeout: expected a duration like 30s/);
    expect(err).toMatch(/bad\.yaml:12:\d+: step 'smoke': checks\.0\.maxLatency: 30d is longer than the longest wait/);
  });

  it('a template naming no parameter, a duplicate check name and a URL that is not http are refused where they are written', () => {
    dir.write(
      'checklists/refs.yaml',
      `id: refs
title: Refs
steps:
  - id: smoke
    title: Smoke
    kind: smoke
    url: ftp://example.com
    checks:
      - {name: up, path: /up}
      - {name: up, path: '/v/\${nope}'}
`,
    );
    const r = cockpit(['--repo', dir.dir, 'checklist', 'validate', 'checklists/refs.yaml'], { cwd: dir.dir });
    expect(r.code).toBe(2);
    const err = r.stdout + r.stderr;
    expect(err).toMatch(/refs\.yaml:7:10: .*'ftp:\/\/example\.com' is not an http:\/\/ or https:\/\/ URL/);
    expect(err).toMatch(/refs\.yaml:10:\d+: .*'\$\{nope\}' names no parameter of this checklist/);
    expect(err).toMatch(/refs\.yaml:10:\d+: .*another check is already named 'up'/);
  });
});
