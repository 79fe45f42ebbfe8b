/**
 * PostgreSQL access for test files. The server is started once per run by global-setup.ts.
 *
 *   const pg = pgTest();
 *   describe.skipIf(!pg.url)(`store on postgres${pg.skipReason}`, () => {
 *     it('…', async () => {
 *       const url = await freshDatabase();   // empty database of its own
 *       …
 *     });
 *   });
 */
import { inject } from 'vitest';
import { createDatabaseOn, uniqueDatabaseName } from './postgres.js';

export interface PgTestInfo {
  /** Admin URL (database `postgres`) of the run's server, or null when there is none. */
  url: string | null;
  /** Why `url` is null, or '' when it is set. */
  why: string;
  /** ' (skipped: <why>)' when `url` is null, else '' — handy to append to a describe title. */
  skipReason: string;
}

/** What the global setup provided. Call it in a test file (top level or inside tests). */
export function pgTest(): PgTestInfo {
  const url = (inject('pgUrl') as string | null | undefined) ?? null;
  const why = url
    ? ''
    : (inject('pgWhy') as string | undefined) || 'pgUrl was not provided (is test/helpers/global-setup.ts configured as globalSetup?)';
  return { url, why, skipReason: url ? '' : ` (skipped: ${why})` };
}

/**
 * Create a new, empty database on the run's server and return its URL.
 * `name` is an optional readable prefix (sanitised to [a-z0-9_]); a unique suffix is always added.
 * Databases are not dropped one by one: the throwaway cluster is deleted at the end of the run (on an external
 * TEST_DATABASE_URL server, the global teardown drops every database carrying this run's prefix).
 */
export async function freshDatabase(name = 'test'): Promise<string> {
  const { url, why } = pgTest();
  if (!url) throw new Error(`freshDatabase(): no PostgreSQL for this run — ${why}`);
  return createDatabaseOn(url, uniqueDatabaseName(name, (inject('pgDbPrefix') as string | undefined) ?? ''));
}
