/**
 * Running a PostgreSQL server of this machine: finding its binaries (initdb, pg_ctl, postgres), the command line of
 * a server tool (as the `postgres` system user when we are root: initdb and the server refuse to run as root), an
 * environment without the developer's PG* variables, and a free loopback port. Shared by the demo's database
 * (src/demo/postgres.ts) and the test suite's throwaway server (test/helpers/postgres.ts).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';

function hasServerBinaries(dir: string): boolean {
  return ['initdb', 'pg_ctl', 'postgres'].every((b) => {
    try {
      accessSync(path.join(dir, b), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Directory holding initdb/pg_ctl/postgres, or null. `pg_config --bindir` first, then the newest /usr/lib/postgresql/<v>/bin. */
export function findPostgresBinDir(): string | null {
  const r = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0) {
    const dir = r.stdout.trim();
    if (dir && hasServerBinaries(dir)) return dir;
  }
  const base = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(base).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    return null;
  }
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const v of versions) {
    const dir = path.join(base, v, 'bin');
    if (hasServerBinaries(dir)) return dir;
  }
  return null;
}

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

function postgresUserExists(): boolean {
  return spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status === 0;
}

function runuserExists(): boolean {
  return spawnSync('runuser', ['--help'], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether a local server can be started here: the binaries exist (the machine's, or those in `bin`) and, as root, a
 * `postgres` user and runuser.
 */
export function serverBinaries(bin: string | null = findPostgresBinDir()): { ok: true; bin: string } | { ok: false; why: string } {
  if (!bin)
    return {
      ok: false,
      why: 'PostgreSQL server binaries not found (no usable `pg_config --bindir`, nothing in /usr/lib/postgresql/*/bin)',
    };
  if (isRoot()) {
    if (!postgresUserExists())
      return {
        ok: false,
        why: `running as root but there is no "postgres" system user to own the cluster (initdb refuses to run as root); binaries: ${bin}`,
      };
    if (!runuserExists())
      return { ok: false, why: 'running as root but `runuser` is not available to drop privileges to the "postgres" user' };
  }
  return { ok: true, bin };
}

/** Child env without PG* variables from the developer's shell (PGDATA, PGPORT, PGHOST… would change what pg_ctl does). */
export function cleanPgEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return env;
}

/** Command line for a server tool, dropping to the postgres user when we are root. */
export function serverCommand(bin: string, tool: string, args: string[]): [string, string[]] {
  const exe = path.join(bin, tool);
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
}

export { freePort } from './free-port.js';

/** The server's log said its port was taken between our probe and its bind: try another. */
export const PORT_TAKEN = /could not bind|address already in use|could not create any TCP\/IP sockets/i;
