/**
 * The types of a TypeScript/JavaScript migration (`migrations/<YYYYMMDDHHMMSS>_<slug>.ts|.mts|.js|.mjs`): the
 * cockpit's public migration API. Types only — nothing here runs — so a migration can import it with
 * `import type`, which is erased when the cockpit compiles the file (it never has to resolve at run time):
 *
 *   import type { MigrationBuilder } from 'release-cockpit/migrate.js';
 *
 *   export function upgrade(m: MigrationBuilder): void {
 *     m.sql('ALTER TABLE listings ADD COLUMN note text');
 *   }
 *   export function downgrade(m: MigrationBuilder): void {
 *     m.sql('ALTER TABLE listings DROP COLUMN note');
 *   }
 *
 * In a .js migration, as a JSDoc type: `/** @param {import('release-cockpit/migrate.js').MigrationBuilder} m *\/`.
 * (`release-cockpit/migrate.js` is the package's `migrate.d.ts`, which re-exports this module.)
 */

/** A value `sql`/`query` can take for `$1`, `$2`…. */
export type SqlValue =
  string | number | bigint | boolean | Date | Buffer | null | undefined | readonly SqlValue[] | { readonly [key: string]: unknown };

/** A row `query` returns: column name → value, as the `pg` driver gives it. */
export type Row = Record<string, unknown>;

/**
 * What `upgrade(m)` and `downgrade(m)` are given: they record the SQL to run with `m.sql`. Until a migration
 * calls `m.query`, its statements are known without a database, so `cockpit migrate upgrade --sql` prints them,
 * `lint` checks them and the file's checksum pins them. A migration that calls `m.query` is data-dependent:
 * its statements are only known when it runs.
 */
export interface MigrationBuilder {
  /**
   * Record SQL to run, in order: one statement, or several separated by `;` (split like a .sql file's). With
   * `values`, `$1`, `$2`… outside quotes are replaced by the values as SQL literals (quoted and escaped), so the
   * statement that runs — and that `--sql` prints — is complete text. `BEGIN`/`COMMIT` are refused: the migration
   * runs in its own transaction unless it exports `noTransaction = true`.
   */
  sql(text: string, values?: readonly SqlValue[]): void;
  /**
   * READ the database now and return the rows (a SELECT; `$1`… are bound parameters). Everything recorded with
   * `m.sql` before it has run first (in the migration's transaction), so it sees those changes. Calling it makes
   * the migration data-dependent: `upgrade --sql` says its SQL cannot be shown without running it, and lint can
   * check nothing of it. Prefer SQL that does the work in the database (INSERT … SELECT, UPDATE … FROM, a DO
   * block) where you can. Never write with it: writes go through `m.sql`, so they are recorded.
   */
  query<R extends Row = Row>(text: string, values?: readonly SqlValue[]): Promise<R[]>;
  /** `value` as an SQL literal (`'it''s'`, `42`, `NULL`, `TRUE`…), for building statements from values read. */
  literal(value: SqlValue): string;
  /** `name` as an SQL identifier, double-quoted when it needs to be (`listings`, `"Tenant 1"`). */
  ident(name: string): string;
}

/** `upgrade` or `downgrade`: records the statements of one direction; sync or async. */
export type MigrationFunction = (m: MigrationBuilder) => void | Promise<void>;

/** What a migration module exports. */
export interface MigrationModule {
  upgrade: MigrationFunction;
  /** Required by the release policy (lint error `missing-downgrade` without it). */
  downgrade?: MigrationFunction;
  /** `true`: no transaction — each statement runs on its own (for CREATE INDEX CONCURRENTLY). */
  noTransaction?: boolean;
}
