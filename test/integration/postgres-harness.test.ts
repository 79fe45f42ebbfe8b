import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { freshDatabase, pgTest } from '../helpers/pg.js';

const info = pgTest();

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe.skipIf(!info.url)(`postgres test harness${info.skipReason}`, () => {
  it('connects to a real PostgreSQL server', async () => {
    const version = await withClient(info.url!, async (c) => (await c.query<{ version: string }>('select version()')).rows[0].version);
    expect(version).toMatch(/^PostgreSQL \d+/);
  });

  it('gives each caller a fresh, empty database it can create tables in', async () => {
    const url = await freshDatabase('harness create');
    const dbName = new URL(url).pathname.slice(1);
    expect(dbName).toMatch(/^[a-z][a-z0-9_]{0,62}$/);
    expect(dbName).toContain('harness_create');

    await withClient(url, async (c) => {
      expect((await c.query<{ db: string }>('select current_database() as db')).rows[0].db).toBe(dbName);
      const tables = await c.query(`select 1 from information_schema.tables where table_schema = 'public'`);
      expect(tables.rowCount).toBe(0);

      await c.query('create table releases (id serial primary key, name text not null)');
      await c.query(`insert into releases (name) values ('v1.0.0'), ('v1.1.0')`);
      const rows = await c.query<{ name: string }>('select name from releases order by id');
      expect(rows.rows.map((r) => r.name)).toEqual(['v1.0.0', 'v1.1.0']);
    });
  });

  it('keeps two fresh databases isolated from each other', async () => {
    const [a, b] = await Promise.all([freshDatabase('iso'), freshDatabase('iso')]);
    expect(a).not.toBe(b);

    await withClient(a, (c) => c.query(`create table only_in_a (v text); insert into only_in_a values ('a')`));
    await withClient(b, async (c) => {
      const found = await c.query(`select to_regclass('public.only_in_a') as t`);
      expect(found.rows[0].t).toBeNull();
      await c.query('create table only_in_a (v int)'); // same name, different database: no clash
      expect((await c.query('select count(*)::int as n from only_in_a')).rows[0].n).toBe(0);
    });
    await withClient(a, async (c) => {
      expect((await c.query('select v from only_in_a')).rows).toEqual([{ v: 'a' }]);
    });
  });
});
