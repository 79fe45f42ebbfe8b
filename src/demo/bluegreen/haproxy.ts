// HAProxy as the blue/green switch: one frontend on a loopback port, a backend per colour (one server each, health
// checked on /health), and the live colour chosen per request from a map (`use_backend` through `map()`), so a
// switch is one runtime command (`set map … live be_green`): no reload, no moment where both colours or neither
// take new requests. The map file is rewritten after each switch, so a restarted HAProxy comes back on the colour
// that was live (runtime changes are otherwise lost on reload). Spoken to over its admin socket from Node.
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const COLOURS = ['blue', 'green'] as const;
export type Colour = (typeof COLOURS)[number];

export interface ProxyPaths {
  dir: string;
  config: string;
  socket: string;
  pidFile: string;
  map: string;
}

export function proxyPaths(dir: string): ProxyPaths {
  return {
    dir,
    config: path.join(dir, 'haproxy.cfg'),
    socket: path.join(dir, 'haproxy.sock'),
    pidFile: path.join(dir, 'haproxy.pid'),
    map: path.join(dir, 'live.map'),
  };
}

export function haproxyBinary(): string | null {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  return r.status === 0 ? 'haproxy' : null;
}

/**
 * The configuration: `ports` are each colour's app port (null: not deployed; the server points at port 1 and is
 * down by its health check until a deploy sets its address; `disabled` would hold it in a maintenance that
 * `set server … state ready` does not lift).
 */
export function haproxyConfig(p: ProxyPaths, publicPort: number, ports: Record<Colour, number | null>): string {
  const lines = [
    'global',
    `  stats socket ${p.socket} mode 600 level admin`,
    `  pidfile ${p.pidFile}`,
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 10s',
    // A request that meets a connection the app closed at that instant is sent again, to the same colour.
    '  retries 3',
    '  retry-on conn-failure empty-response',
    '',
    'frontend public',
    `  bind 127.0.0.1:${publicPort}`,
    `  use_backend %[str(live),map(${p.map},be_none)]`,
    '',
  ];
  for (const c of COLOURS) {
    const port = ports[c];
    lines.push(
      `backend be_${c}`,
      '  option httpchk GET /health',
      `  server app 127.0.0.1:${port ?? 1} check inter 250ms fall 2 rise 1`,
      '',
    );
  }
  lines.push('backend be_none', '  http-request return status 503 content-type text/plain string "no colour is live"', '');
  return lines.join('\n');
}

/** `haproxy -c`: the configuration is valid (the message of the first error otherwise). */
export function checkConfig(p: ProxyPaths): void {
  try {
    execFileSync('haproxy', ['-c', '-q', '-f', p.config], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`haproxy rejected ${p.config}: ${err.stderr?.toString().trim() || err.message}`);
  }
}

/** One command on the admin socket; resolves with HAProxy's answer. */
export function runtime(socket: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let out = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`haproxy runtime API: no answer to "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (d: string) => (out += d));
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`haproxy runtime API (${socket}): ${e.message}`));
    });
    conn.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** A command whose answer should be empty (or a plain acknowledgement); anything else is HAProxy's error. */
export async function runtimeOk(socket: string, command: string): Promise<void> {
  const answer = (await runtime(socket, command)).trim();
  // `set server … addr` acknowledges with "IP changed from …", "port changed from …" or "no need to change …".
  if (answer && !/^(done|ok)\.?$|changed from|no need to change/i.test(answer)) throw new Error(`haproxy refused "${command}": ${answer}`);
}

/** The colour the map sends traffic to, as HAProxy holds it now (null: none). */
export async function liveFromRuntime(p: ProxyPaths): Promise<Colour | null> {
  const answer = await runtime(p.socket, `show map ${p.map}`);
  for (const line of answer.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 3 && parts[1] === 'live') return colourOfBackend(parts[2]);
  }
  return null;
}

export function colourOfBackend(backend: string): Colour | null {
  const c = backend.replace(/^be_/, '');
  return (COLOURS as readonly string[]).includes(c) ? (c as Colour) : null;
}

export interface ServerState {
  /** srv_op_state: 0 stopped (down), 1 starting, 2 running (up), 3 stopping. */
  opState: number;
  /** srv_admin_state: 0 ready, a non-zero flag set for maintenance or drain. */
  adminState: number;
  addr: string;
  port: number;
}

/** `show servers state` for a colour's backend, parsed by the header's field names. */
export async function serverState(p: ProxyPaths, colour: Colour): Promise<ServerState | null> {
  const answer = await runtime(p.socket, `show servers state be_${colour}`);
  const lines = answer.split('\n').filter((l) => l.trim());
  const header = lines.find((l) => l.startsWith('# be_id'));
  const row = lines.find((l) => !l.startsWith('#') && l.split(/\s+/)[1] === `be_${colour}`);
  if (!header || !row) return null;
  const names = header.slice(2).trim().split(/\s+/);
  const values = row.trim().split(/\s+/);
  const field = (n: string) => values[names.indexOf(n)];
  return {
    opState: Number(field('srv_op_state')),
    adminState: Number(field('srv_admin_state')),
    addr: field('srv_addr'),
    port: Number(field('srv_port')),
  };
}
