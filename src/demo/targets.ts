// The demo's deploy targets: the released Property app (v1.3.0) on staging and production, deployed by the sandbox's
// own scripts/deploy.sh (the blue/green driver of src/demo/bluegreen/deploy.ts), as the environments are before the
// story's release. Staging is in-place: 1.3.0 is live. Production is blue-green: its first deploy goes live on blue;
// green is left idle with nothing on it, so the v1.4.0 deploy lands on green while blue keeps running 1.3.0, which is
// what a rollback switches back to (no 1.3.0 on green is needed for that, and it would cost one more app process).
//
// The apps inherit the environment deploy.sh runs with: DATABASE_URL when the demo's PostgreSQL started (the same
// variable then reaches the deploys the cockpit runs, since the supervisor puts it in the cockpit's environment).
import { writeScenario } from './bluegreen/scenario.js';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { FailedError } from '../core/errors.js';
import type { DemoContext, DemoProcess, DemoService, StartedService } from './service.js';

export const RELEASED_VERSION = '1.3.0';
export const ENVIRONMENTS = ['staging', 'production'] as const;

interface Status {
  live: 'blue' | 'green' | null;
  version: string | null;
  url: string | null;
  proxy: { running: boolean; pid: number | null };
  colours: Record<'blue' | 'green', { version: string | null; running: boolean; pid: number | null; url: string | null }>;
}

/** scripts/deploy.sh <args…> in the sandbox, its output appended to `log`; resolves with its stdout. */
function deploySh(
  dir: string,
  args: string[],
  log: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const fd = openSync(log, 'a');
    const child = spawn(path.join(dir, 'scripts', 'deploy.sh'), args, {
      cwd: dir,
      // deploy.sh runs `node`: the one running the cockpit first on the PATH.
      env: { ...process.env, ...env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', fd],
      // In a process group of its own: a Ctrl-C in the terminal reaches the cockpit, which lets a deploy under way
      // finish (and be recorded) before it stops the services, instead of killing it halfway with its processes up.
      detached: true,
    });
    if (!child.stdout) throw new FailedError('scripts/deploy.sh: no output pipe');
    closeSync(fd);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => resolve({ code: null, out: e.message }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function status(dir: string, env: string, log: string): Promise<Status> {
  const r = await deploySh(dir, ['status', '--env', env, '--json'], log);
  if (r.code !== 0) throw new FailedError(`scripts/deploy.sh status --env ${env} failed (exit ${r.code})`);
  return JSON.parse(r.out) as Status;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 3000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
    req.on('error', reject);
  });
}

const logOf = (ctx: DemoContext) => path.join(ctx.stateDir, 'targets', 'targets.log');

export function targetsService(): DemoService {
  let haproxyMissing: boolean | undefined;
  const missing = () => (haproxyMissing ??= spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status !== 0);
  return {
    name: 'targets',
    // Without HAProxy the demo goes on without its targets (the release, the database, the chat work; a deploy step
    // says what to install); a deploy that fails with HAProxy installed still stops the demo, with its log.
    get optional() {
      return missing();
    },
    async start(ctx: DemoContext): Promise<StartedService> {
      if (missing())
        throw new FailedError(
          'HAProxy is not installed, and the deploy targets run behind it: install it (Debian/Ubuntu: sudo apt-get install haproxy; macOS: brew install haproxy)',
        );
      const log = logOf(ctx);
      mkdirSync(path.dirname(log), { recursive: true });
      const env: Record<string, string> = { ...(ctx.started.postgres?.env ?? {}) };
      // The scenario's fault is in every version newer than the one the demo starts with (src/demo/bluegreen/scenario.ts).
      writeScenario(ctx.dir, ctx.scenario, RELEASED_VERSION);
      // What a cockpit killed while deploying left behind (the driver records its pids before it waits): stopped.
      await Promise.all(ENVIRONMENTS.map((e) => deploySh(ctx.dir, ['stop', '--env', e], log)));
      const t0 = Date.now();
      const deployed = await Promise.all(
        ENVIRONMENTS.map(async (e) => {
          const r = await deploySh(ctx.dir, ['deploy', RELEASED_VERSION, '--env', e], log, env);
          if (r.code !== 0)
            throw new FailedError(
              `scripts/deploy.sh deploy ${RELEASED_VERSION} --env ${e} failed (exit ${r.code}); see ${path.relative(ctx.dir, log)}`,
            );
          return status(ctx.dir, e, log);
        }),
      );
      const processes: DemoProcess[] = [];
      const urls: Record<string, string> = {};
      deployed.forEach((st, i) => {
        const e = ENVIRONMENTS[i];
        if (st.url) urls[e] = st.url;
        if (st.proxy.pid) processes.push({ name: `haproxy ${e}`, pid: st.proxy.pid });
        for (const c of ['blue', 'green'] as const) {
          const pid = st.colours[c].pid;
          if (pid) processes.push({ name: `app ${e} ${c}`, pid });
        }
      });
      ctx.log(
        `Property ${RELEASED_VERSION} on staging (${urls.staging}) and production (${urls.production}: blue live, green idle), ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      return { name: 'targets', processes, urls };
    },
    async check(s: StartedService): Promise<true | string> {
      for (const e of ENVIRONMENTS) {
        const url = s.urls?.[e];
        if (!url) return `${e} has no URL`;
        try {
          const r = await get(`${url}/version`);
          const v = JSON.parse(r.body) as { version?: string; colour?: string };
          if (r.status !== 200 || v.version !== RELEASED_VERSION) return `${e} answers ${r.status} with version ${v.version ?? 'none'}`;
          if (e === 'production' && v.colour !== 'blue') return `production serves ${v.colour ?? 'no colour'}, not blue`;
        } catch (err) {
          return `${e} (${url}) does not answer: ${(err as Error).message}`;
        }
      }
      return true;
    },
    async stop(ctx: DemoContext): Promise<void> {
      const log = logOf(ctx);
      mkdirSync(path.dirname(log), { recursive: true });
      await Promise.all(ENVIRONMENTS.map((e) => deploySh(ctx.dir, ['stop', '--env', e], log)));
    },
  };
}
