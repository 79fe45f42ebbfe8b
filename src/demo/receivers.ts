/**
 * The demo's chat and status page (a DemoService): one process, dist/demo-receivers.js (./receivers-main.ts), on a
 * free loopback port, serving a Slack-compatible incoming webhook and the Statuspage manage API for the sandbox's
 * page (history.ts, DEMO_STATUSPAGE). The sandbox's cockpit.config.yaml names the channels (`chat`, `statuspage`);
 * their URLs and the key, which change at every start, are this service's `localConfig` (cockpit.local.yaml).
 *
 * What it received is in `<stateDir>/receivers/`: messages.jsonl (time, channel, text) and statuspage.json (the
 * components and incidents); `cockpit demo --messages` prints them (./messages.ts).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { FailedError } from '../core/errors.js';
import { packageRoot } from '../paths.js';
import { DEMO_STATUSPAGE } from './history.js';
import { SLACK_PATH_PREFIX } from './receivers-core.js';
import { demoProcess, type DemoContext, type DemoService, type StartedService } from './service.js';

/** The receivers' folder under the demo's state folder. */
export const receiversDir = (stateDir: string) => path.join(stateDir, 'receivers');
export const MESSAGES_FILE = 'messages.jsonl';
export const STATUSPAGE_FILE = 'statuspage.json';

const READY_WITHIN_MS = 10_000;

function get(url: string, timeoutMs = 2000): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
  });
}

const logTail = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' / ');
  } catch {
    return '';
  }
};

export const receiversService: DemoService = {
  name: 'receivers',
  async start(ctx: DemoContext): Promise<StartedService> {
    const t0 = performance.now();
    const dir = receiversDir(ctx.stateDir);
    mkdirSync(dir, { recursive: true });
    const ready = path.join(dir, 'server.json');
    rmSync(ready, { force: true });
    const bundle = path.join(packageRoot(), 'dist', 'demo-receivers.js');
    if (!existsSync(bundle)) throw new FailedError(`the cockpit's demo-receivers.js is missing from dist/: build it with npm run build`);
    // The webhook's token and the status page's key: new at each start, told to the process in its environment
    // (not its command line, which ps shows), to the cockpit in cockpit.local.yaml, recorded nowhere else.
    const token = randomBytes(12).toString('hex');
    const apiKey = `demo-sp-${randomBytes(12).toString('hex')}`;
    const log = path.join(dir, 'receivers.log');
    const fd = openSync(log, 'a');
    const child = spawn(
      process.execPath,
      [
        bundle,
        '--state',
        dir,
        '--parent',
        String(ctx.parentPid),
        '--page',
        DEMO_STATUSPAGE.page,
        ...DEMO_STATUSPAGE.components.flatMap((c) => ['--component', `${c.id}=${c.name}`]),
      ],
      {
        cwd: dir,
        detached: true,
        stdio: ['ignore', 'ignore', fd],
        env: { ...process.env, DEMO_RECEIVER_TOKEN: token, DEMO_RECEIVER_KEY: apiKey },
      },
    );
    closeSync(fd);
    let exited: string | null = null;
    child.once('exit', (code, signal) => (exited = signal ?? `code ${code}`));
    child.once('error', (e) => (exited = e.message));
    child.unref();
    const pid = child.pid;
    if (!pid) throw new FailedError(`the demo's chat and status page did not start: ${logTail(log)}`);
    let port = 0;
    for (const until = Date.now() + READY_WITHIN_MS; Date.now() < until && !exited;) {
      try {
        const s = JSON.parse(readFileSync(ready, 'utf8')) as { pid: number; port: number };
        if (s.pid === pid) {
          port = s.port;
          break;
        }
      } catch {
        // Not written yet.
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!port) {
      if (!exited) process.kill(pid, 'SIGKILL');
      throw new FailedError(
        `the demo's chat and status page ${exited ? `exited (${exited})` : `did not listen within ${READY_WITHIN_MS / 1000} s`}: ${logTail(log)} (${log})`,
      );
    }
    const url = `http://127.0.0.1:${port}`;
    ctx.log(`Chat and status page on ${url} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return {
      name: 'receivers',
      processes: [demoProcess('receivers', pid)],
      urls: { 'chat and status page': `${url}/` },
      localConfig: {
        notify: {
          chat: { url: `${url}${SLACK_PATH_PREFIX}${token}` },
          statuspage: { url: `${url}/v1`, apiKey },
        },
      },
      detail: { url, dir },
    };
  },
  async check(s: StartedService): Promise<true | string> {
    const url = s.detail?.url;
    if (typeof url !== 'string') return 'no URL recorded';
    const r = await get(`${url}/health`);
    if ('error' in r) return `the chat and status page do not answer on ${url}: ${r.error}`;
    return r.status === 200 ? true : `the chat and status page answer HTTP ${r.status} on ${url}/health`;
  },
};
