import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, cockpitAsync, tempRepo, type CliResult } from '../helpers/cli.js';

// A rollback recorded by the real bin: the rollback step, then a smoke check of the live URL (a real HTTP server on a
// free loopback port), then the team told. The recovery clock says when traffic was back on a healthy version
// ("mitigated after …") beside the whole recovery, in the run's own lines and in audit show (text, Markdown, JSON).

const ROLLBACK = `id: rollback-code
title: Rollback (test)
objective: {recovery: 15m, name: code rollback}
params:
  version: {type: semver, required: true}
  url: {type: string, required: true}
steps:
  - id: trigger-rollback
    title: Roll back
    kind: run
    run: sleep 1; echo "rolled back to $COCKPIT_PARAM_VERSION"
  - id: smoke-tests
    title: Smoke the live URL
    kind: smoke
    url: \${url}
    checks:
      - {name: up, path: /up, contains: OK}
  - id: notify
    title: Tell the team
    kind: run
    run: sleep 2; echo told
`;

type Ev = Record<string, any>;

let server: http.Server;
let url = '';
let repo: ReturnType<typeof tempRepo>;
let id = '';
let run: CliResult;

function runAsync(args: string[]): Promise<CliResult> {
  const child = cockpitAsync(['--repo', repo.dir, ...args], { cwd: repo.dir });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const show = (format: 'text' | 'md' | 'json') => {
  const r = cockpit(['--repo', repo.dir, 'audit', 'show', id, '--format', format], { cwd: repo.dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};

beforeAll(async () => {
  server = http.createServer((req, res) => res.end(req.url === '/up' ? 'OK' : 'no'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  repo = tempRepo({ 'rollback-code': ROLLBACK });
  // The server answers in this process: the cockpit runs as an async child.
  run = await runAsync(['run', 'rollback-code', '-p', 'version=1.1.0', '-p', `url=${url}`, '--non-interactive', '--yes', 'all']);
  id = /session (\d{8}-\d{6}-[0-9a-f]{4})/.exec(run.stdout)?.[1] ?? '';
}, 60_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  repo?.cleanup();
});

describe('the mitigation of a recorded rollback', () => {
  it('is the smoke step passing after the rollback step, before the session finished; the JSON says which and when', () => {
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const json = JSON.parse(show('json'));
    const rec = json.session.recovery;
    const smokePassed = json.events.find((e: Ev) => e.type === 'step.passed' && e.stepId === 'smoke-tests');
    expect(rec.mitigated).toEqual({
      at: smokePassed.time,
      afterMs: smokePassed.time - json.session.startedAt,
      step: 'smoke-tests',
      after: 'trigger-rollback',
    });
    // The team was told two seconds later: mitigated well before recovered.
    expect(rec.elapsedMs - rec.mitigated.afterMs).toBeGreaterThanOrEqual(2000);
    const said = `recovered in ${Math.floor(rec.elapsedMs / 1000)}s (objective 15m: met), mitigated after ${Math.floor(rec.mitigated.afterMs / 1000)}s`;
    expect(rec.text).toBe(said);
    // The run's last line said it as it finished.
    expect(run.stdout).toContain(said);
  });

  it('audit show says it in text (with the moment and the steps) and in Markdown', () => {
    const text = show('text');
    expect(text).toMatch(/Recovery: {4}recovered in \d+s \(objective 15m: met\), mitigated after \d+s\n/);
    expect(text).toMatch(
      /Mitigated: {3}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?Z, \d+s after the clock's start: step smoke-tests passed after trigger-rollback \(traffic back on a healthy version\)/,
    );
    expect(show('md')).toMatch(/\| Recovery \| recovered in \d+s \(objective 15m: met\), mitigated after \d+s \|/);
  });
});
