// A small deploy target for the checklist tests: a real deploy script (`scripts/deploy.sh`, a node program on the
// cockpit's deploy script contract) that keeps its environments in a state file, and real HTTP servers, one per
// colour and one for the live URL (of every environment), on free loopback ports, that answer with what the state
// says runs there. The servers run in a child process of their own (a test that runs the cockpit with spawnSync
// blocks its own event loop), stopped by its pid. Every call of the script is appended to a log, so a test can tell
// what ran and what did not.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const TARGET_DIR = '.target';

/** The script: deploy / switch / rollback / status, on `.target/state.json`; every call logged to `.target/calls.log`. */
const DEPLOY_MJS = `import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const dir = fileURLToPath(new URL('../${TARGET_DIR}/', import.meta.url));
mkdirSync(dir, { recursive: true });
const [cmd, arg, ...rest] = process.argv.slice(2);
appendFileSync(dir + 'calls.log', process.argv.slice(2).join(' ') + '\\n');
const flag = (name) => { const i = [arg, ...rest].indexOf(name); return i >= 0 ? [arg, ...rest][i + 1] : undefined; };
const env = flag('--env');
if (!env) { console.error('deploy.sh: --env is required'); process.exit(2); }
const urls = JSON.parse(readFileSync(dir + 'urls.json', 'utf8'));
const statePath = dir + 'state.json';
const all = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {};
const s = (all[env] ??= { live: null, colours: { blue: null, green: null } });
const save = () => writeFileSync(statePath, JSON.stringify(all));
const idle = () => (s.live === 'blue' ? 'green' : 'blue');
if (process.env.TARGET_FAIL === cmd) { console.error('deploy.sh: ' + cmd + ' failed (TARGET_FAIL)'); process.exit(1); }
switch (cmd) {
  case 'deploy': {
    const colour = flag('--colour') ?? (urls.strategy?.[env] === 'in-place' ? 'blue' : idle());
    s.colours[colour] = arg;
    if (urls.strategy?.[env] === 'in-place') s.live = colour;
    save();
    console.log('deployed ' + arg + ' to ' + env + ' (' + colour + ')');
    break;
  }
  case 'switch':
    s.live = arg; save(); console.log(env + ': ' + arg + ' is live'); break;
  case 'rollback': {
    const c = idle(); // the previous colour: a switch back when it runs the version, else a deploy there first
    s.colours[c] = arg; s.live = c; save(); console.log(env + ': rolled back to ' + arg + ' on ' + c); break;
  }
  case 'status': {
    const col = (c) => ({ version: s.colours[c], healthy: s.colours[c] !== null, url: urls.colours[c] });
    const live = s.live ? s.colours[s.live] : null;
    console.log(JSON.stringify({ live: s.live, url: urls.live, colours: { blue: col('blue'), green: col('green') }, version: live, healthy: live !== null }));
    break;
  }
  default: console.error('deploy.sh: unknown command ' + cmd); process.exit(2);
}
`;

/** The servers: blue, green and live, each answering with the newest version the state puts there (503: none). */
const SERVE_MJS = `import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
const statePath = fileURLToPath(new URL('./state.json', import.meta.url));
const state = () => (existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {});
const versionOn = (which) => {
  for (const env of Object.values(state())) {
    const colour = which === 'live' ? env.live : which;
    if (colour && env.colours[colour]) return env.colours[colour];
  }
  return null;
};
const serve = (which) =>
  new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const version = versionOn(which);
      if (!version) return void res.writeHead(503).end('nothing deployed here');
      res.writeHead(200, { 'content-type': 'application/json', 'x-app-version': version });
      res.end(JSON.stringify({ status: 'ok', version, path: req.url }));
    });
    server.listen(0, '127.0.0.1', () => resolve('http://127.0.0.1:' + server.address().port));
  });
const [blue, green, live] = await Promise.all([serve('blue'), serve('green'), serve('live')]);
console.log(JSON.stringify({ blue, green, live }));
`;

export interface DeployTarget {
  live: string;
  colours: { blue: string; green: string };
  /** The config's `deploy:` section for these environments (YAML text, indented under `deploy:`). */
  config(envs: Record<string, 'in-place' | 'blue-green'>): string;
  /** The script's calls so far, one argv line each. */
  calls(): string[];
  close(): Promise<void>;
}

/** Writes the script into the repository (`write` as tempRepo's) and starts the servers; `close` stops them. */
export async function startDeployTarget(repoDir: string, write: (rel: string, text: string) => string): Promise<DeployTarget> {
  write(`${TARGET_DIR}/serve.mjs`, SERVE_MJS);
  const child = spawn(process.execPath, [path.join(repoDir, TARGET_DIR, 'serve.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the deploy target's servers exited (${code}) before they listened`)));
  });
  const { blue, green, live } = JSON.parse(first) as { blue: string; green: string; live: string };
  const strategies: Record<string, string> = {};
  const writeUrls = () => write(`${TARGET_DIR}/urls.json`, JSON.stringify({ live, colours: { blue, green }, strategy: strategies }));
  write('scripts/deploy-target.mjs', DEPLOY_MJS);
  write('scripts/deploy.sh', '#!/bin/sh\nexec node "$(dirname "$0")/deploy-target.mjs" "$@"\n');
  chmodSync(path.join(repoDir, 'scripts', 'deploy.sh'), 0o755);
  writeUrls();
  return {
    live,
    colours: { blue, green },
    config(envs) {
      Object.assign(strategies, envs);
      writeUrls();
      return Object.entries(envs)
        .map(([env, strategy]) =>
          [
            `  ${env}:`,
            `    strategy: ${strategy}`,
            `    url: ${live}`,
            ...(strategy === 'blue-green' ? [`    colours: {blue: ${blue}, green: ${green}}`] : []),
            `    smoke:`,
            `      - {name: health, path: /health, json: {path: status, equals: ok}}`,
          ].join('\n'),
        )
        .join('\n');
    },
    calls() {
      const log = path.join(repoDir, TARGET_DIR, 'calls.log');
      return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    },
    async close() {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}
