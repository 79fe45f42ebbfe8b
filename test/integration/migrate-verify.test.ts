import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffSnapshots, schemaSnapshot, withDatabase, type Snapshot } from '../../src/adapters/migrate/verify.js';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// `cockpit migrate verify` as a user runs it (a child process), against a real PostgreSQL.

const pgInfo = pgTest();

const LISTINGS = `-- migrate:up
CREATE TABLE listings (id bigserial PRIMARY KEY, city text NOT NULL);
-- migrate:down
DROP TABLE listings;
`;
const PRICE_GOOD = `-- migrate:up
ALTER TABLE listings ADD COLUMN price_cents bigint NOT NULL DEFAULT 0;
CREATE INDEX listings_city_idx ON listings (city);
CREATE TYPE listing_state AS ENUM ('draft', 'live');
CREATE FUNCTION listing_price(l listings) RETURNS bigint LANGUAGE sql AS 'SELECT l.price_cents';
-- migrate:down
DROP FUNCTION listing_price(listings);
DROP TYPE listing_state;
DROP INDEX listings_city_idx;
ALTER TABLE listings DROP COLUMN price_cents;
`;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const verifyDatabases = (admin: string) =>
  withClient(admin, async (c) =>
    (await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'cockpit\\_verify\\_%'")).rows.map(
      (r) => r.datname,
    ),
  );

describe.skipIf(!pgInfo.url)(`cockpit migrate verify on PostgreSQL${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let appUrl: string;
  const admin = pgInfo.url!;
  const verify = (...args: string[]) =>
    cockpit(['--repo', repo.dir, 'migrate', 'verify', ...args], { cwd: repo.dir, env: { COCKPIT_OPERATOR: 'alice', DATABASE_URL: '' } });
  const appTables = () =>
    withClient(appUrl, async (c) =>
      (await c.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'")).rows.map(
        (r) => r.t,
      ),
    );

  beforeEach(async () => {
    repo = tempRepo();
    appUrl = await freshDatabase('verify_app');
  });
  afterEach(() => repo.cleanup());

  it('a good pair of migrations verifies (exit 0); the scratch database is dropped; the application database is untouched', async () => {
    repo.write('migrations/20260101000000_listings.sql', LISTINGS);
    repo.write('migrations/20260102000000_price.sql', PRICE_GOOD);
    const r = verify('--database-url', appUrl);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/on a scratch database cockpit_verify_[0-9a-f]{12}, created for this run/);
    expect(r.stdout).toMatch(/the database \S*verify_app\S* itself is not touched/);
    expect(r.stdout).toMatch(/✔ 20260101000000 listings {2}\(up .*, down .*, up again .*\)/);
    expect(r.stdout).toMatch(/✔ 20260102000000 price/);
    expect(r.stdout).toMatch(/2 of 2 migration\(s\) verified/);
    const name = /scratch database (cockpit_verify_[0-9a-f]+) dropped/.exec(r.stdout)?.[1];
    expect(name).toBeTruthy();
    expect(await verifyDatabases(admin)).not.toContain(name);
    expect(await appTables()).toEqual([]); // no history table, no listings: nothing ran there
  });

  it('a downgrade that forgets an index and a column is reported with the exact differences (exit 1)', async () => {
    repo.write('migrations/20260101000000_listings.sql', LISTINGS);
    repo.write(
      'migrations/20260102000000_price.sql',
      '-- migrate:up\nALTER TABLE listings ADD COLUMN price_cents bigint NOT NULL DEFAULT 0;\nCREATE INDEX listings_city_idx ON listings (city);\n-- migrate:down\nSELECT 1;\n',
    );
    repo.write(
      'migrations/20260103000000_after.sql',
      '-- migrate:up\nCREATE TABLE bookings (id bigint PRIMARY KEY);\n-- migrate:down\nDROP TABLE bookings;\n',
    );
    const r = verify('--database-url', appUrl);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✔ 20260101000000 listings/);
    expect(r.stdout).toMatch(/✖ 20260102000000 price\n/);
    expect(r.stdout).toContain('column listings.price_cents: extra after downgrade (bigint NOT NULL DEFAULT 0)');
    expect(r.stdout).toContain(
      'index listings_city_idx: extra after downgrade (CREATE INDEX listings_city_idx ON public.listings USING btree (city))',
    );
    // re-applying after that "rollback" fails: the column is already there
    expect(r.stdout).toMatch(
      /re-upgrade failed: statement 1 of 2 \(20260102000000_price\.sql:2\): column "price_cents" of relation "listings" already exists/,
    );
    expect(r.stdout).toMatch(/20260103000000 after\n {6}not verified: 20260102000000 price could not be applied again after its downgrade/);
    expect(r.stdout).toMatch(/1 of 3 migration\(s\) verified.*; 1 failed; 1 not verified/);
    expect(r.stdout).not.toMatch(/postgres:\/\/[^@\s]*:[^*@\s]+@/);
    expect(await verifyDatabases(admin)).toEqual([]);
    expect(await appTables()).toEqual([]);
  });

  it('a downgrade that leaves a changed column type is a definition difference', async () => {
    repo.write('migrations/20260101000000_listings.sql', LISTINGS);
    repo.write(
      'migrations/20260102000000_widen.sql',
      '-- migrate:up\nALTER TABLE listings ALTER COLUMN city TYPE varchar(200);\n-- migrate:down\nALTER TABLE listings ALTER COLUMN city TYPE varchar(100);\n',
    );
    const r = verify('--database-url', appUrl);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('column listings.city: definition differs: text NOT NULL vs character varying(100) NOT NULL');
    expect(r.stdout).toMatch(/1 of 2 migration\(s\) verified/);
  });

  it('a downgrade that fails is reported; later migrations are still verified on top of it', async () => {
    repo.write('migrations/20260101000000_listings.sql', LISTINGS);
    repo.write(
      'migrations/20260102000000_broken_down.sql',
      '-- migrate:up\nCREATE TABLE hosts (id bigint PRIMARY KEY);\n-- migrate:down\nDROP TABLE no_such_table;\n',
    );
    repo.write('migrations/20260103000000_no_down.sql', '-- migrate:up\nCREATE TABLE guests (id bigint PRIMARY KEY);\n');
    repo.write(
      'migrations/20260104000000_after.sql',
      '-- migrate:up\nCREATE TABLE bookings (id bigint PRIMARY KEY);\n-- migrate:down\nDROP TABLE bookings;\n',
    );
    const r = verify('--database-url', appUrl);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /✖ 20260102000000 broken_down\n {6}downgrade failed: statement 1 of 1 \(20260102000000_broken_down\.sql:4\): table "no_such_table" does not exist \[42P01\] \(rolled back\)/,
    );
    expect(r.stdout).toMatch(/✖ 20260103000000 no_down\n {6}no rollback: the file has no '-- migrate:down' section/);
    expect(r.stdout).toMatch(/✔ 20260104000000 after/);
    expect(r.stdout).toMatch(/2 of 4 migration\(s\) verified.*; 2 failed/);
    expect(await verifyDatabases(admin)).toEqual([]);
  });

  it('--scratch-url: an empty database is used (and kept); a non-empty one is refused (exit 2)', async () => {
    repo.write('migrations/20260101000000_listings.sql', LISTINGS);
    const scratch = await freshDatabase('verify_scratch');
    const ok = verify('--scratch-url', scratch);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/on the empty scratch database \S*verify_scratch/);
    expect(ok.stdout).toMatch(/1 of 1 migration\(s\) verified/);
    // it now holds listings and the history table: verifying there again is refused
    const again = verify('--scratch-url', scratch, '--database-url', appUrl);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/the scratch database \S+ is not empty \(table .*listings/);
    expect(await appTables()).toEqual([]);
    const same = verify('--scratch-url', appUrl, '--database-url', appUrl);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/the scratch database is the application database/);
  });

  it('bad usage: no URL, or not postgres:// (exit 2)', () => {
    repo.write('migrations/20260101000000_listings.sql', LISTINGS);
    const none = verify();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no server to verify on/);
    const bad = verify('--database-url', 'mysql://u:secret@h/db');
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain('secret');
  });

  it('--help says the application database is not touched', () => {
    const h = cockpit(['migrate', 'verify', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/The application database is never touched/);
    expect(h.stdout).toMatch(/--scratch-url <url>/);
  });
});

describe.skipIf(!pgInfo.url)(`schemaSnapshot / diffSnapshots${pgInfo.skipReason}`, () => {
  it('is deterministic, leaves out the bookkeeping tables, and sees every kind of object', async () => {
    const url = await freshDatabase('verify_snapshot');
    const snap = (): Promise<Snapshot> => withClient(url, (c) => schemaSnapshot(c));
    await withClient(url, (c) =>
      c.query(`CREATE TABLE cockpit_schema_migrations (id text PRIMARY KEY);
               CREATE TABLE cockpit_backfills (id bigserial PRIMARY KEY, name text UNIQUE);
               CREATE SCHEMA billing;
               CREATE TABLE billing.invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric(10,2) CHECK (total >= 0));
               CREATE SEQUENCE billing.numbers START 100;
               CREATE VIEW billing.big AS SELECT id FROM billing.invoices WHERE total > 100;
               CREATE TYPE billing.state AS ENUM ('open', 'paid');
               CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
               CREATE TRIGGER invoices_touch BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION billing.touch();`),
    );
    const a = await snap();
    expect(await snap()).toEqual(a);
    const names = a.entries.map((e) => `${e.kind} ${e.name}`);
    expect(names.some((n) => n.includes('cockpit_'))).toBe(false);
    expect(names).toEqual(
      expect.arrayContaining([
        'schema billing',
        'table billing.invoices',
        'column billing.invoices.total',
        'index billing.invoices_pkey',
        'constraint billing.invoices.invoices_total_check',
        'sequence billing.numbers',
        'sequence billing.invoices_id_seq',
        'view billing.big',
        'enum billing.state',
        'function billing.touch()',
        'trigger billing.invoices.invoices_touch',
      ]),
    );
    await withClient(url, (c) =>
      c.query(`ALTER TYPE billing.state ADD VALUE 'void';
               CREATE OR REPLACE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN NEW.total := 0; RETURN NEW; END';
               DROP TABLE billing.invoices CASCADE;`),
    );
    const d = diffSnapshots(a, await snap(), 'downgrade');
    expect(d).toContain("enum billing.state: definition differs: 'open', 'paid' vs 'open', 'paid', 'void'");
    expect(
      d.some((l) =>
        /^function billing\.touch\(\): definition differs: function returns trigger language plpgsql body md5 [0-9a-f]{32} vs /.test(l),
      ),
    ).toBe(true);
    expect(d).toContain('table billing.invoices: missing after downgrade (table)');
    expect(d.some((l) => l.startsWith('column billing.invoices.'))).toBe(false); // covered by the table's line
    expect(d.some((l) => l.startsWith('view billing.big: missing after downgrade'))).toBe(true);
  });

  it('withDatabase swaps only the database', () => {
    expect(withDatabase('postgres://u:p@h:5433/app?sslmode=require', 'postgres')).toBe('postgres://u:p@h:5433/postgres?sslmode=require');
  });
});
