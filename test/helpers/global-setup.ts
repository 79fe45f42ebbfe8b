import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { postgresAvailable, startPostgres, type PostgresHandle } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the run's PostgreSQL server, or null when none is available (see pgWhy). */
    pgUrl: string | null;
    /** Why pgUrl is null ('' when it is set). */
    pgWhy: string;
    /** Prefix of every database made in this run (so teardown can drop them on an external TEST_DATABASE_URL server). */
    pgDbPrefix: string;
  }
}

/**
 * Runs once per `vitest run`:
 *  1. builds the bundle — tests that start `bin/cockpit.js` as a child process need it built from the current source;
 *  2. starts ONE throwaway PostgreSQL cluster (or attaches to TEST_DATABASE_URL) and provides its URL as `pgUrl`.
 * The returned function is the teardown.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });

  const pg = await startPostgresForRun();
  project.provide('pgUrl', pg.handle?.url ?? null);
  project.provide('pgWhy', pg.why);
  project.provide('pgDbPrefix', pg.handle?.dbPrefix ?? '');

  return async () => {
    await pg.handle?.stop();
  };
}

async function startPostgresForRun(): Promise<{ handle: PostgresHandle | null; why: string }> {
  const ci = process.env.CI === 'true';
  const avail = postgresAvailable();
  if (!avail.ok) {
    if (ci) throw new Error(`PostgreSQL is required in CI but not available: ${avail.why}`);
    warn(avail.why);
    return { handle: null, why: avail.why };
  }
  const t0 = performance.now();
  try {
    const handle = await startPostgres();
    const ms = Math.round(performance.now() - t0);
    const what = process.env.TEST_DATABASE_URL ? 'attached to TEST_DATABASE_URL' : 'started throwaway PostgreSQL cluster';
    console.log(`[postgres] ${what} in ${ms} ms (${handle.url})`);
    return { handle, why: '' };
  } catch (err) {
    const why = `PostgreSQL failed to start: ${(err as Error).message}`;
    if (ci) throw new Error(why, { cause: err });
    warn(why);
    return { handle: null, why: why.split('\n')[0] };
  }
}

function warn(why: string): void {
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n!! PostgreSQL tests will be SKIPPED: ${why}\n!! Fix the cause above, install the PostgreSQL server binaries, or set TEST_DATABASE_URL. With CI=true this is an error.\n${bar}\n`,
  );
}
