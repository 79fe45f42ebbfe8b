import { getTableColumns, getTableName, type Table } from 'drizzle-orm';
import { getTableConfig as pgTableConfig } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig } from 'drizzle-orm/sqlite-core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { NewSessionRow, RawEventRow, RawSessionRow } from '../../src/audit/rows.js';
import * as pg from '../../src/audit/schema-pg.js';
import * as sqlite from '../../src/audit/schema.js';
import type { LockRow } from '../../src/audit/store.js';

/**
 * The audit tables are written twice, once per dialect (schema.ts, schema-pg.ts); the stores read and write one
 * row type for both (rows.ts, store.ts, taken from the SQLite schema). The types are checked by `tsc` (this file is
 * in the project), the columns at run time.
 */

/** What a column is in either dialect: its name in the database, nullability, key, default and JS type. */
function columns(table: Table) {
  return Object.entries(getTableColumns(table)).map(([key, c]) => ({
    key,
    name: c.name,
    notNull: c.notNull,
    primary: c.primary,
    hasDefault: c.hasDefault,
    dataType: c.dataType,
  }));
}

const pairs = [
  ['sessions', sqlite.sessions, pg.sessions],
  ['events', sqlite.events, pg.events],
  ['locks', sqlite.locks, pg.locks],
] as const;

describe('the SQLite and Postgres audit schemas', () => {
  it('have the same row types, read and written', () => {
    expectTypeOf<typeof pg.sessions.$inferSelect>().toEqualTypeOf<typeof sqlite.sessions.$inferSelect>();
    expectTypeOf<typeof pg.sessions.$inferInsert>().toEqualTypeOf<typeof sqlite.sessions.$inferInsert>();
    expectTypeOf<typeof pg.events.$inferSelect>().toEqualTypeOf<typeof sqlite.events.$inferSelect>();
    expectTypeOf<typeof pg.events.$inferInsert>().toEqualTypeOf<typeof sqlite.events.$inferInsert>();
    expectTypeOf<typeof pg.locks.$inferSelect>().toEqualTypeOf<typeof sqlite.locks.$inferSelect>();
    expectTypeOf<typeof pg.locks.$inferInsert>().toEqualTypeOf<typeof sqlite.locks.$inferInsert>();
  });

  it('read and write the rows the stores use', () => {
    expectTypeOf<RawSessionRow>().toEqualTypeOf<typeof pg.sessions.$inferSelect>();
    expectTypeOf<NewSessionRow>().toEqualTypeOf<typeof pg.sessions.$inferInsert>();
    expectTypeOf<RawEventRow>().toEqualTypeOf<typeof pg.events.$inferSelect>();
    expectTypeOf<LockRow>().toEqualTypeOf<typeof pg.locks.$inferSelect>();
    expectTypeOf<LockRow>().toExtend<typeof pg.locks.$inferInsert>();
    expectTypeOf<LockRow>().toExtend<typeof sqlite.locks.$inferInsert>();
  });

  it.each(pairs)('%s: same table name, columns, keys and indexes', (name, lite, post) => {
    expect(getTableName(lite)).toBe(name);
    expect(getTableName(post)).toBe(name);
    expect(columns(post)).toEqual(columns(lite));
    const l = sqliteTableConfig(lite);
    const p = pgTableConfig(post);
    expect(p.primaryKeys.map((k) => k.columns.map((c) => c.name))).toEqual(l.primaryKeys.map((k) => k.columns.map((c) => c.name)));
    expect(p.indexes.map((i) => i.config.name)).toEqual(l.indexes.map((i) => i.config.name));
  });
});
