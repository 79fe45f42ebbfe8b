/**
 * A throwaway PostgreSQL server for the test suite (real server, no mocks).
 *
 * - `TEST_DATABASE_URL` set → that server is used as is; nothing is started.
 * - otherwise → a private cluster is initialised in a temp dir (initdb) and started
 *   with pg_ctl on a free 127.0.0.1 port, durability switched off; `stop()` kills it
 *   (`-m immediate`) and deletes the dir.
 *
 * When running as root the cluster belongs to the `postgres` system user (initdb and
 * the server refuse to run as root), so every server command goes through
 * `runuser -u postgres --`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { cleanPgEnv, findPostgresBinDir, freePort, isRoot, serverBinaries, serverCommand } from '../../src/adapters/pg-server.js';

export interface PostgresHandle {
  /** Admin URL (database `postgres`) of the server. */
  url: string;
  /** Stop the server we started and remove its files; for an external server, drop the databases we made. Idempotent. */
  stop(): Promise<void>;
  /** Create a new, uniquely named database and return its URL. `name` is used as a (sanitised) prefix. */
  createDatabase(name?: string): Promise<string>;
  /**
   * Every database made for this run (by createDatabase, or by test workers via `uniqueDatabaseName(name, dbPrefix)`)
   * is named `<dbPrefix>_…`, so that stop() can drop them all on an external server.
   */
  dbPrefix: string;
}

const PG_MAX_IDENTIFIER = 63;
const START_ATTEMPTS = 3;

// ───────────────────────────── discovery ─────────────────────────────
// The binaries, the root → postgres user switch, PG*-free env and free ports are shared with the demo's database
// (src/adapters/pg-server.ts).

export { findPostgresBinDir, freePort };

/** Whether `startPostgres()` has a chance: TEST_DATABASE_URL is set, or the server binaries (and, as root, a `postgres` user) exist. */
export function postgresAvailable(): { ok: true } | { ok: false; why: string } {
  if (process.env.TEST_DATABASE_URL) return { ok: true };
  const found = serverBinaries();
  return found.ok ? { ok: true } : { ok: false, why: `${found.why} and TEST_DATABASE_URL is not set` };
}

// ───────────────────────────── processes ─────────────────────────────

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

const cleanEnv = cleanPgEnv;

function run(cmd: string, args: string[], opts: { cwd: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[harness] killed after ${opts.timeoutMs} ms`;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

function describeCommand(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function failure(what: string, cmd: string, args: string[], r: RunResult, extra = ''): Error {
  const status = r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
  return new Error(
    `${what} failed (${status})\n  command: ${describeCommand(cmd, args)}\n  output:\n${indent(r.output.trim() || '(none)')}${extra}`,
  );
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function logTail(logFile: string, lines = 30): string {
  try {
    const all = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch (err) {
    return `(no server log at ${logFile}: ${(err as Error).message})`;
  }
}

// ───────────────────────────── databases ─────────────────────────────

let dbCounter = 0;

/** A fresh per-run prefix for database names: `rc` + 6 hex digits. */
export function newRunPrefix(): string {
  return `rc${randomBytes(3).toString('hex')}`;
}

/**
 * A unique, safe ([a-z0-9_], ≤ 63 chars, starts with a letter) database name: `<runPrefix>_<name>_<unique>`.
 * `name` is a readable hint and is sanitised; `runPrefix` must already be safe (see newRunPrefix).
 */
export function uniqueDatabaseName(name = 'test', runPrefix = ''): string {
  let safe =
    name
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'test';
  if (runPrefix) {
    assertSafeName(runPrefix);
    safe = `${runPrefix}_${safe}`;
  }
  if (!/^[a-z]/.test(safe)) safe = `t_${safe}`;
  const suffix = `_${process.pid.toString(36)}_${(++dbCounter).toString(36)}_${randomBytes(4).toString('hex')}`;
  return safe.slice(0, PG_MAX_IDENTIFIER - suffix.length) + suffix;
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function assertSafeName(name: string): void {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe database name ${JSON.stringify(name)}`);
}

/** Create database `name` (must be safe) on the server at `adminUrl`; returns its URL. */
export async function createDatabaseOn(adminUrl: string, name: string): Promise<string> {
  assertSafeName(name);
  const client = new pg.Client({ connectionString: adminUrl });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE "${name}"`);
  } catch (err) {
    throw new Error(`creating test database "${name}" on ${redact(adminUrl)} failed: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
  return withDatabase(adminUrl, name);
}

/**
 * Drop the databases `names` plus every database named `<prefix>_…` (force-disconnecting their sessions).
 * Errors are collected and thrown together at the end.
 */
export async function dropDatabasesOn(adminUrl: string, names: string[], prefix = ''): Promise<void> {
  if (names.length === 0 && !prefix) return;
  const client = new pg.Client({ connectionString: adminUrl });
  const errors: string[] = [];
  try {
    await client.connect();
    const all = new Set(names);
    if (prefix) {
      assertSafeName(prefix);
      const r = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${prefix}\\_%`]);
      for (const row of r.rows) all.add(row.datname);
    }
    for (const name of all) {
      assertSafeName(name);
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`); // PostgreSQL ≥ 13
      } catch {
        try {
          await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
            name,
          ]);
          await client.query(`DROP DATABASE IF EXISTS "${name}"`);
        } catch (err) {
          errors.push(`${name}: ${(err as Error).message}`);
        }
      }
    }
  } catch (err) {
    errors.push(`connect: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
  if (errors.length) throw new Error(`dropping test databases on ${redact(adminUrl)} failed:\n  ${errors.join('\n  ')}`);
}

/** The URL without its password, for error messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

// ───────────────────────────── start / stop ─────────────────────────────

/**
 * A detached `sh` that waits for this process to die and then stops the cluster and removes its dir. It covers what
 * neither stop() nor an 'exit' hook can: vitest killed by SIGTERM/SIGKILL (postmaster is daemonised by pg_ctl and
 * would otherwise keep running). Cheap: one sh + `sleep 1` loop. Killed by stop().
 */
function startReaper([cmd, args]: [string, string[]], dir: string): ChildProcess | null {
  const script = 'parent=$1; dir=$2; shift 2; while kill -0 "$parent" 2>/dev/null; do sleep 1; done; "$@" >/dev/null 2>&1; rm -rf "$dir"';
  try {
    const child = spawn('/bin/sh', ['-c', script, 'cockpit-pg-reaper', String(process.pid), dir, cmd, ...args], {
      cwd: dir,
      env: cleanEnv(),
      detached: true,
      stdio: 'ignore',
    });
    child.on('error', () => {}); // best effort
    child.unref();
    return child;
  } catch {
    return null;
  }
}

/** Start (or attach to) a PostgreSQL server for tests. See the module comment. */
export async function startPostgres(): Promise<PostgresHandle> {
  const external = process.env.TEST_DATABASE_URL;
  return external ? attachExternal(external) : startLocalCluster();
}

async function attachExternal(url: string): Promise<PostgresHandle> {
  // Fail now, with a clear message, rather than in the first test.
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`cannot connect to TEST_DATABASE_URL (${redact(url)}): ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
  const created: string[] = [];
  const dbPrefix = newRunPrefix();
  return {
    url,
    dbPrefix,
    async createDatabase(name?: string) {
      const db = uniqueDatabaseName(name, dbPrefix);
      const dbUrl = await createDatabaseOn(url, db);
      created.push(db);
      return dbUrl;
    },
    async stop() {
      // Also catches databases the test workers created with this run's prefix.
      await dropDatabasesOn(url, created.splice(0), dbPrefix);
    },
  };
}

async function startLocalCluster(): Promise<PostgresHandle> {
  const avail = postgresAvailable();
  if (!avail.ok) throw new Error(`cannot start PostgreSQL: ${avail.why}`);
  const bin = findPostgresBinDir()!;

  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'log');
  let running = false;

  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const stopSync = () => {
    // Last resort if the process exits without stop(): a daemonised postmaster would otherwise outlive us.
    if (running) {
      const [cmd, args] = serverCommand(bin, 'pg_ctl', ['-D', dataDir, 'stop', '-m', 'immediate', '-w']);
      spawnSync(cmd, args, { cwd: dir, env: cleanEnv(), stdio: 'ignore', timeout: 15_000 });
      running = false;
    }
    removeDir();
  };

  try {
    if (isRoot()) {
      const r = spawnSync('chown', ['-R', 'postgres:postgres', dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`chown -R postgres:postgres ${dir} failed: ${(r.stderr || r.error?.message || '').trim()}`);
      const probe = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir], { stdio: 'ignore' });
      if (probe.status !== 0) {
        throw new Error(
          `the "postgres" user cannot write ${dir}; is a parent of os.tmpdir() (${os.tmpdir()}) closed to other users? Set TMPDIR to e.g. /tmp`,
        );
      }
    }

    // --no-locale: a C-locale cluster starts regardless of which locales the machine has generated (LANG may name a missing one).
    const initArgs = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'];
    {
      const [cmd, args] = serverCommand(bin, 'initdb', initArgs);
      const r = await run(cmd, args, { cwd: dir, timeoutMs: 120_000 });
      if (r.code !== 0) throw failure('initdb (creating the test cluster)', cmd, args, r);
    }

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const serverOpts = [
        `-p ${port}`,
        `-k '${dir}'`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
      ].join(' ');
      const [cmd, args] = serverCommand(bin, 'pg_ctl', ['-D', dataDir, '-o', serverOpts, '-l', logFile, '-t', '60', '-w', 'start']);
      const r = await run(cmd, args, { cwd: dir, timeoutMs: 90_000 });
      if (r.code === 0) break;
      const tail = logTail(logFile);
      const portTaken = /could not bind|address already in use|could not create any TCP\/IP sockets/i.test(tail);
      if (portTaken && attempt < START_ATTEMPTS) continue; // someone grabbed the port between probe and bind
      // pg_ctl may have left a half-started postmaster (e.g. after its -t timeout).
      running = true;
      throw failure(
        `pg_ctl start (port ${port}, attempt ${attempt}/${START_ATTEMPTS})`,
        cmd,
        args,
        r,
        `\n  server log, last lines (the cluster dir is removed):\n${indent(tail)}`,
      );
    }
    running = true;
    process.once('exit', stopSync);
    const reaper = startReaper(serverCommand(bin, 'pg_ctl', ['-D', dataDir, 'stop', '-m', 'immediate', '-w']), dir);

    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    let stopped = false;
    const dbPrefix = newRunPrefix();
    return {
      url,
      dbPrefix,
      createDatabase: (name?: string) => createDatabaseOn(url, uniqueDatabaseName(name, dbPrefix)),
      async stop() {
        if (stopped) return;
        stopped = true;
        process.removeListener('exit', stopSync);
        reaper?.kill('SIGKILL');
        const [cmd, args] = serverCommand(bin, 'pg_ctl', ['-D', dataDir, 'stop', '-m', 'immediate', '-w', '-t', '30']);
        const r = await run(cmd, args, { cwd: dir, timeoutMs: 45_000 });
        running = false;
        const stillUp = existsSync(path.join(dataDir, 'postmaster.pid'));
        if (r.code !== 0 && stillUp) {
          throw failure(
            'pg_ctl stop (test cluster)',
            cmd,
            args,
            r,
            `\n  cluster left in place for inspection: ${dir}\n  server log, last lines:\n${indent(logTail(logFile))}`,
          );
        }
        removeDir();
      },
    };
  } catch (err) {
    try {
      stopSync();
    } catch {
      /* keep the original error */
    }
    throw err;
  }
}
