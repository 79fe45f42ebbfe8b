// The deploy step kinds (build, deploy, smoke with env/target, switch, rollback) for real: the demo sandbox (a real git
// repository with its scripts/deploy.sh, scripts/build.sh and cockpit.config.yaml's deploy: section) and its
// blue/green target (the Property app as one process per colour behind HAProxy, on free loopback ports), driven by
// the real cockpit bin as a child process. The deploy script's own record (.cockpit/bluegreen/<env>/actions.log: one
// line per app started and per switch of traffic) counts what was done, so a crash and a resume can be shown to
// deploy and switch exactly once. Traffic during a switch comes from a bounded loop of keep-alive clients.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSandbox } from '../../src/demo/sandbox.js';
import { BIN } from '../helpers/cli.js';
import { loadLoop } from '../helpers/load.js';

const haveHaproxy = spawnSync('haproxy', ['-v']).status === 0;
if (!haveHaproxy && process.env.CI === 'true') throw new Error('haproxy is required in CI (.ci/run installs it) but is not on the PATH');
const skipReason = haveHaproxy ? '' : ' (skipped: haproxy is not installed; apt-get install haproxy)';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
type Ev = { seq: number; type: string; stepId: string | null; data: Record<string, any> };

/** `cockpit --repo <repo> …` as an async child (the load loop and the kills run in this process meanwhile). */
function cockpit(repo: string, args: string[]): Promise<Run> & { pid: number } {
  const child = spawn(process.execPath, [BIN, '--repo', repo, ...args], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1', COCKPIT_OPERATOR: 'tester' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return Object.assign(done, { pid: child.pid! });
}

async function ok(repo: string, args: string[]): Promise<string> {
  const r = await cockpit(repo, args);
  expect(r.code, `cockpit ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The session a run printed (`session 20261206-054600-30f9 · …`). */
const sessionOf = (stdout: string): string => {
  const id = /session (\d{8}-\d{6}-[0-9a-f]{4})/.exec(stdout)?.[1];
  expect(id, stdout).toBeDefined();
  return id!;
};
const eventsOf = async (repo: string, id: string): Promise<Ev[]> =>
  (JSON.parse(await ok(repo, ['audit', 'show', id, '--format', 'json'])) as { events: Ev[] }).events;
const ofType = (events: Ev[], type: string) => events.filter((e) => e.type === type);

const PROD = `id: prod
title: Production deploy
params:
  version: {type: semver, required: true}
steps:
  - {id: build, title: Build, kind: build, env: production, version: "\${version}"}
  - {id: deploy, title: Deploy to the idle colour, kind: deploy, env: production, version: "\${version}"}
  - {id: smoke-new, title: Smoke the new colour, kind: smoke, env: production, target: colour}
  - {id: switch, title: Switch traffic, kind: switch, env: production}
  - {id: smoke-live, title: Smoke the live URL, kind: smoke, env: production, target: live}
`;
// The new colour is checked on a route it does not serve (GET /api/payments: 404): the smoke before the switch fails.
const PROD_BAD = PROD.replace('id: prod\n', 'id: prod-bad\n').replace(
  'target: colour}',
  'target: colour, checks: [{name: payments, path: /api/payments}]}',
);
const ROLLBACK = `id: rb
title: Roll production back
steps:
  - {id: rollback, title: Roll back, kind: rollback, env: production}
  - {id: smoke-live, title: Smoke the live URL, kind: smoke, env: production, target: live}
`;
const STAGING = `id: stage
title: Staging deploy
params:
  version: {type: semver, required: true}
steps:
  - {id: deploy, title: Deploy, kind: deploy, env: staging, version: "\${version}"}
  - {id: switch, title: Switch traffic, kind: switch, env: staging}
  - {id: smoke-live, title: Smoke, kind: smoke, env: staging, target: live}
`;

describe.skipIf(!haveHaproxy)(`the deploy step kinds on the demo's blue/green target${skipReason}`, () => {
  let root = '';
  let repo = '';
  const state = (env: string) => path.join(repo, '.cockpit', 'bluegreen', env);
  /** The deploy script's own record of its effects. */
  const actions = (env = 'production'): Array<Record<string, any>> => {
    const file = path.join(state(env), 'actions.log');
    return existsSync(file)
      ? readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
      : [];
  };
  const script = (...args: string[]) =>
    spawnSync(path.join(repo, 'scripts', 'deploy.sh'), args, { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  const status = (env = 'production') => JSON.parse(script('status', '--env', env, '--json').stdout);
  /** One GET on a new connection: the version the URL serves now. */
  const servedAt = (url: string) =>
    new Promise<string | undefined>((resolve, reject) =>
      http
        .get(`${url}/version`, { agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['x-app-version'] as string | undefined));
        })
        .on('error', reject),
    );
  /** Runs the cockpit while 8 keep-alive clients load the live URL; the loop's tally. */
  async function underLoad(args: string[]) {
    const load = loadLoop(status().url);
    await new Promise((r) => setTimeout(r, 200));
    const out = await ok(repo, args);
    await new Promise((r) => setTimeout(r, 200));
    return { out, ...(await load.finish()) };
  }

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'deploy-steps-'));
    repo = path.join(root, 'sandbox');
    ensureSandbox(repo, false);
    for (const [id, text] of Object.entries({ prod: PROD, 'prod-bad': PROD_BAD, rb: ROLLBACK, stage: STAGING }))
      writeFileSync(path.join(repo, 'checklists', `${id}.yaml`), text);
  });
  afterAll(() => {
    if (!repo) return;
    const pids: number[] = [];
    const stopped: Array<number | null> = [];
    for (const env of ['production', 'staging']) {
      if (!existsSync(path.join(state(env), 'state.json'))) continue;
      const st = status(env);
      pids.push(...[st.proxy.pid, st.colours.blue.pid, st.colours.green.pid].filter((p): p is number => !!p));
      stopped.push(script('stop', '--env', env).status);
    }
    const running = pids.filter((pid) => existsSync(`/proc/${pid}`) && !/ Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')));
    // Whatever the script's stop did, nothing this test started is left behind.
    for (const pid of running) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
    expect(stopped.every((c) => c === 0)).toBe(true);
    expect(running, 'still running after the script stopped them').toEqual([]);
  });

  it('a dry run names the configured script and what only the run can know', async () => {
    const out = await ok(repo, ['run', 'prod', '-p', 'version=1.1.0', '--dry-run']);
    expect(out).toContain('./scripts/build.sh 1.1.0');
    expect(out).toContain('./scripts/deploy.sh deploy 1.1.0 --env production --colour <idle colour, asked at run time>');
    expect(out).toContain('./scripts/deploy.sh switch <the colour this session deployed to, asked at run time> --env production');
    expect(out).toContain('the old colour keeps running for 30m');
    expect(out).toContain("production's live URL (as status --json reports it): health: GET /health");
  });

  it('deploys to production end to end: build, deploy to the idle colour, smoke it, switch with no failed request, smoke live', async () => {
    // The first deploy: nothing is live, the colour deployed goes live.
    await ok(repo, ['run', 'prod', '-p', 'version=1.0.0', '--non-interactive']);
    expect(status()).toMatchObject({ live: 'blue', colours: { blue: { version: '1.0.0', healthy: true } } });

    const run = await underLoad(['run', 'prod', '-p', 'version=1.1.0', '--non-interactive']);
    console.log(`deploy 1.0.0 → 1.1.0: ${run.sent} requests by 8 keep-alive clients, ${run.failed} failed`);
    expect(run.sent).toBeGreaterThan(100);
    expect(run.failed, run.errors.slice(0, 5).join('; ')).toBe(0);
    expect(run.versions.get('1.1.0')).toBeGreaterThan(0);
    expect(run.out).toContain('switched production from blue to green (1.1.0); blue (1.0.0) keeps running for 30m');
    const st = status();
    expect(st).toMatchObject({ live: 'green', colours: { blue: { version: '1.0.0' }, green: { version: '1.1.0', healthy: true } } });
    expect(await servedAt(st.url)).toBe('1.1.0');

    const events = await eventsOf(repo, sessionOf(run.out));
    const built = ofType(events, 'deploy.built')[0].data;
    expect(built).toMatchObject({ env: 'production', version: '1.1.0', artifact: '.cockpit/artifacts/property-1.1.0.tar.gz' });
    expect(built.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(path.join(repo, built.artifact)))
        .digest('hex'),
    );
    expect(ofType(events, 'deploy.deployed')[0].data).toEqual({
      env: 'production',
      version: '1.1.0',
      strategy: 'blue-green',
      colour: 'green',
      liveBefore: 'blue',
      versionBefore: '1.0.0',
      via: 'script',
    });
    const sw = ofType(events, 'deploy.switched')[0];
    expect(sw.data).toMatchObject({ from: 'blue', to: 'green', version: '1.1.0', keepPrevious: '30m', via: 'script' });
    expect(sw.data.keepPreviousUntil - (sw as unknown as { time: number }).time).toBeCloseTo(30 * 60_000, -4);
    // The new colour was checked on its own URL before the switch, the live URL after it.
    const smoked = ofType(events, 'smoke.check');
    expect(smoked.filter((e) => e.stepId === 'smoke-new').every((e) => e.data.url.startsWith(st.colours.green.url))).toBe(true);
    expect(smoked.filter((e) => e.stepId === 'smoke-live').every((e) => e.data.url.startsWith(st.url))).toBe(true);
    expect(smoked.every((e) => e.data.verdict === 'pass')).toBe(true);
    // audit show tells it in words.
    const shown = await ok(repo, ['audit', 'show', sessionOf(run.out)]);
    expect(shown).toContain(
      `step 'build': built 1.1.0 for production: artifact .cockpit/artifacts/property-1.1.0.tar.gz (sha256 ${built.sha256})`,
    );
    expect(shown).toContain("step 'deploy': deployed 1.1.0 to production green; blue at 1.0.0 stays live");
    expect(shown).toMatch(
      /step 'switch': switched production from blue to green \(1\.1\.0\); blue kept until \d{4}-\d\d-\d\dT[\d:.]+Z for a switch back/,
    );
  });

  it('a smoke check failing before the switch stops the deploy: the live colour is untouched, still the old version', async () => {
    const r = await cockpit(repo, ['run', 'prod-bad', '-p', 'version=1.2.0', '--non-interactive']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('Nothing after this step ran (no switch)');
    const st = status();
    expect(st).toMatchObject({ live: 'green', colours: { green: { version: '1.1.0' }, blue: { version: '1.2.0' } } });
    for (let i = 0; i < 3; i++) expect(await servedAt(st.url)).toBe('1.1.0');
    const events = await eventsOf(repo, sessionOf(r.stdout));
    expect(ofType(events, 'step.failed').map((e) => e.stepId)).toEqual(['smoke-new']);
    expect(ofType(events, 'deploy.switched')).toEqual([]);
    expect(actions().filter((a) => a.action === 'switch' && a.version === '1.2.0')).toEqual([]);
  });

  it('SIGKILLed during the deploy, then resumed: one deploy and one switch in the script’s own record', async () => {
    const run = cockpit(repo, ['run', 'prod', '-p', 'version=1.3.0', '--non-interactive']);
    // Killed once the script has started the new app (its health wait is next).
    const until = Date.now() + 30_000;
    while (!actions().some((a) => a.action === 'start' && a.version === '1.3.0') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 5));
    process.kill(run.pid, 'SIGKILL');
    const killed = await run;
    expect(killed.stdout).not.toContain('● done');
    const id = sessionOf(killed.stdout);
    const resumed = await ok(repo, ['resume', id, '--non-interactive']);
    expect(resumed).toContain('● done');
    const events = await eventsOf(repo, id);
    expect(ofType(events, 'step.interrupted').map((e) => e.stepId)).toEqual(['deploy']);
    expect(ofType(events, 'step.probed').map((e) => e.stepId)).toEqual(['deploy']);
    const mine = actions().filter((a) => a.version === '1.3.0');
    expect(
      mine.filter((a) => a.action === 'start'),
      JSON.stringify(mine),
    ).toHaveLength(1);
    expect(
      mine.filter((a) => a.action === 'switch'),
      JSON.stringify(mine),
    ).toHaveLength(1);
    expect(ofType(events, 'deploy.deployed')).toHaveLength(1);
    expect(status()).toMatchObject({ live: 'blue', colours: { blue: { version: '1.3.0', healthy: true } } });
  });

  it('SIGKILLed during the switch, then resumed: the probe asks status, and traffic switched once', async () => {
    const run = cockpit(repo, ['run', 'prod', '-p', 'version=1.4.0', '--non-interactive']);
    const stateFile = path.join(state('production'), 'state.json');
    // Killed once the script has marked the switch as started (the runtime command is next, or sent).
    const until = Date.now() + 60_000;
    while (!readFileSync(stateFile, 'utf8').includes('"switching"') && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
    process.kill(run.pid, 'SIGKILL');
    const id = sessionOf((await run).stdout);
    const resumed = await ok(repo, ['resume', id, '--non-interactive']);
    expect(resumed).toContain('● done');
    const events = await eventsOf(repo, id);
    expect(ofType(events, 'step.interrupted').map((e) => e.stepId)).toEqual(['switch']);
    expect(ofType(events, 'step.probed')[0]).toMatchObject({ stepId: 'switch' });
    const mine = actions().filter((a) => a.version === '1.4.0');
    expect(
      mine.filter((a) => a.action === 'start'),
      JSON.stringify(mine),
    ).toHaveLength(1);
    expect(
      mine.filter((a) => a.action === 'switch'),
      JSON.stringify(mine),
    ).toHaveLength(1);
    expect(ofType(events, 'deploy.switched')).toHaveLength(1);
    const st = status();
    expect(st).toMatchObject({ live: 'green', colours: { green: { version: '1.4.0', healthy: true } } });
    expect(await servedAt(st.url)).toBe('1.4.0');
  });

  it('rolls back by switching back while the old colour runs the last stable version, with no failed request', async () => {
    const starts = actions().filter((a) => a.action === 'start').length;
    const run = await underLoad(['run', 'rb', '--non-interactive']);
    console.log(`rollback by switching back: ${run.sent} requests, ${run.failed} failed`);
    expect(run.failed, run.errors.slice(0, 5).join('; ')).toBe(0);
    expect(run.sent).toBeGreaterThan(50);
    const events = await eventsOf(repo, sessionOf(run.out));
    // No deploy history yet: the release tag before what runs (the sandbox's v1.3.0; production runs 1.4.0).
    expect(ofType(events, 'deploy.rollback')[0].data).toMatchObject({
      version: '1.3.0',
      source: 'tag',
      how: 'switch-back',
      colour: 'blue',
      liveBefore: 'green',
    });
    expect(ofType(events, 'deploy.rollback')[0].data.why).toContain('v1.3.0');
    // deploy.production.smoke's `${version}` is the version rolled back to (the checklist has no version parameter).
    expect(ofType(events, 'smoke.check').find((e) => e.data.name === 'version')?.data).toMatchObject({ verdict: 'pass' });
    expect(actions().filter((a) => a.action === 'start')).toHaveLength(starts); // nothing was deployed
    const st = status();
    expect(st).toMatchObject({ live: 'blue', colours: { blue: { version: '1.3.0' }, green: { version: '1.4.0', healthy: true } } });
    expect(await servedAt(st.url)).toBe('1.3.0');
  });

  it('rolls back by redeploying when the old colour is gone, with no failed request', async () => {
    expect(script('switch', 'green', '--env', 'production').status).toBe(0);
    const blue = status().colours.blue.pid as number;
    process.kill(blue, 'SIGKILL');
    await expect.poll(() => status().colours.blue.running, { timeout: 10_000 }).toBe(false);
    const run = await underLoad(['run', 'rb', '--non-interactive']);
    console.log(`rollback by redeploying: ${run.sent} requests, ${run.failed} failed`);
    expect(run.failed, run.errors.slice(0, 5).join('; ')).toBe(0);
    const events = await eventsOf(repo, sessionOf(run.out));
    expect(ofType(events, 'deploy.rollback')[0].data).toMatchObject({ version: '1.3.0', how: 'redeploy', colour: 'blue' });
    expect(ofType(events, 'deploy.rollback')[0].data.why).toContain('so it is deployed again');
    expect(
      actions()
        .filter((a) => a.action === 'start')
        .at(-1),
    ).toMatchObject({ version: '1.3.0', colour: 'blue' });
    const st = status();
    expect(st).toMatchObject({ live: 'blue', colours: { blue: { version: '1.3.0', healthy: true } } });
    expect(await servedAt(st.url)).toBe('1.3.0');
  });

  it('staging is in-place: its deploy makes the version live, and the switch step has nothing to switch', async () => {
    await ok(repo, ['run', 'stage', '-p', 'version=1.0.0', '--non-interactive']);
    const out = await ok(repo, ['run', 'stage', '-p', 'version=1.1.0', '--non-interactive']);
    expect(out).toContain('deployed 1.1.0 to staging in place (was 1.0.0)');
    expect(out).toMatch(/nothing to check: staging is in-place/);
    const st = status('staging');
    expect(st).toMatchObject({ strategy: 'in-place', version: '1.1.0', healthy: true });
    expect(await servedAt(st.url)).toBe('1.1.0');
    const events = await eventsOf(repo, sessionOf(out));
    expect(ofType(events, 'deploy.deployed')[0].data).toMatchObject({ strategy: 'in-place', colour: null, versionBefore: '1.0.0' });
  });
});

/** A container tool this machine cannot build with: docker without an answering daemon (or not installed), or no podman. */
function noContainerTool(): 'docker' | 'podman' | undefined {
  if (spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 30_000 }).status !== 0) return 'docker';
  return spawnSync('podman', ['--version']).error ? 'podman' : undefined;
}

describe('a deploy script that lies or prints garbage, and a build that needs a missing Docker', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-liar-'));
    spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
    mkdirSync(path.join(dir, 'scripts'));
    mkdirSync(path.join(dir, 'checklists'));
    // status prints what STATUS says; deploy "succeeds" without doing anything.
    writeFileSync(
      path.join(dir, 'scripts', 'liar.sh'),
      '#!/bin/sh\ncase "$1" in status) cat "$(dirname "$0")/status.txt";; *) echo done;; esac\n',
    );
    chmodSync(path.join(dir, 'scripts', 'liar.sh'), 0o755);
    const missing = noContainerTool();
    writeFileSync(
      path.join(dir, 'cockpit.config.yaml'),
      `deploy:\n  production:\n    command: ./scripts/liar.sh\n${missing ? `    build: [${missing}, build, .]\n` : ''}`,
    );
    writeFileSync(
      path.join(dir, 'checklists', 'd.yaml'),
      'id: d\ntitle: D\nsteps:\n  - {id: deploy, title: Deploy, kind: deploy, env: production, version: 2.0.0}\n',
    );
    writeFileSync(
      path.join(dir, 'checklists', 'b.yaml'),
      'id: b\ntitle: B\nsteps:\n  - {id: build, title: Build, kind: build, env: production, version: 2.0.0}\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const status = (text: string) => writeFileSync(path.join(dir, 'scripts', 'status.txt'), text);

  it('garbage from status is a failure naming the script', async () => {
    status('all good!\n');
    const r = await cockpit(dir, ['run', 'd', '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      './scripts/liar.sh status --env production --json did not give a blue-green status: it printed no JSON object',
    );
  });

  it('a deploy the script claims and its status denies is a failure, not a pass', async () => {
    const colour = { version: '1.0.0', healthy: true, url: 'http://127.0.0.1:9' };
    status(JSON.stringify({ live: 'blue', colours: { blue: colour, green: { ...colour, version: null, healthy: false } } }) + '\n');
    const r = await cockpit(dir, ['run', 'd', '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(
      './scripts/liar.sh deploy exited 0, but its status says green runs nothing (unhealthy), not 2.0.0 healthy: not taken as deployed',
    );
  });

  it.skipIf(!noContainerTool())(
    'a build that needs Docker where there is none fails saying so, and never pretends (skipped where docker answers and podman is installed)',
    async () => {
      const r = await cockpit(dir, ['run', 'b', '--non-interactive']);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toMatch(
        /the build command needs (docker|podman) .*(is not installed on this machine|no docker daemon answers on this machine)/,
      );
      expect(r.stdout).not.toContain('built 2.0.0');
    },
  );
});
