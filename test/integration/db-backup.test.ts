import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyRestoreErrors, type BackupManifest } from '../../src/adapters/pg-backup.js';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';
import { findPostgresBinDir } from '../helpers/postgres.js';

// `cockpit db backup | backups | restore` as a user runs them: real child processes, a real PostgreSQL, the real
// pg_dump and pg_restore.

const pgInfo = pgTest();

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/** Every row of the application's tables, in order: what "the data came back exactly" is compared on. */
const everything = async (url: string) => ({
  users: await query(url, 'SELECT * FROM users ORDER BY id'),
  orders: await query(url, 'SELECT * FROM orders ORDER BY id'),
});

describe.skipIf(!pgInfo.url)(`cockpit db backup and restore on PostgreSQL${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let url: string;
  const db = (args: string[], env: Record<string, string> = {}) =>
    cockpit(['--repo', repo.dir, 'db', ...args, '--database-url', url], { cwd: repo.dir, env: { COCKPIT_OPERATOR: 'alice', ...env } });
  const backups = (...args: string[]) => cockpit(['--repo', repo.dir, 'db', 'backups', ...args], { cwd: repo.dir });
  const manifests = () => JSON.parse(backups('--json').stdout) as BackupManifest[];

  beforeAll(async () => {
    repo = tempRepo();
    url = await freshDatabase('backup');
    await query(
      url,
      // amcheck: so that the restore's pg_amcheck runs for real (without it, it says it skipped).
      `CREATE EXTENSION amcheck;
       CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL, nick text);
       CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int REFERENCES users(id), amount numeric(10,2), note text);
       CREATE INDEX orders_user ON orders (user_id);
       INSERT INTO users (email, nick) SELECT 'u' || g || '@example.com', CASE WHEN g % 7 = 0 THEN NULL ELSE 'ñick ' || g || ' 🚀' END FROM generate_series(1, 200) g;
       INSERT INTO orders (user_id, amount, note) SELECT 1 + g % 200, g * 1.25, repeat('x', g % 50) FROM generate_series(1, 500) g;`,
    );
  }, 60_000);
  afterAll(() => repo?.cleanup());

  it('takes a backup with a manifest that describes the dump; restore brings every row back exactly and checks it', async () => {
    const before = await everything(url);
    const b = db(['backup']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/snapshot of 127\.0\.0\.1:\d+\/\S+: 2 table\(s\), 700 row\(s\)/);
    expect(b.stdout).toMatch(/backup (\d{8}T\d{6}Z) taken: 2 table\(s\), migration \(none\)/);
    expect(b.stdout).toMatch(/restore it with: cockpit db restore \d{8}T\d{6}Z\n/);
    const [m] = manifests();
    expect(m.tables).toEqual({ 'public.orders': 500, 'public.users': 200 });
    expect(m.toc['TABLE']).toBe(2);
    expect(m.toc['TABLE DATA']).toBe(2);
    const listed = backups();
    expect(listed.stdout).toContain(m.id);

    // The damage a restore is for: rows deleted and changed, a table dropped.
    await query(url, `DELETE FROM orders WHERE id % 3 = 0; UPDATE users SET nick = 'broken'; DROP TABLE orders;`);

    const refused = db(['restore', 'latest']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`restoring backup ${m.id} destroys the current data of`);
    expect(refused.stderr).toContain('pass --yes to confirm');

    const r = db(['restore', 'latest', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`backup ${m.id}: the dump matches its manifest`);
    expect(r.stdout).toMatch(/✔ row counts: 2 table\(s\) as in the backup/);
    expect(r.stdout).toContain('✔ pg_amcheck: tables and B-tree indexes consistent');
    expect(r.stdout).toMatch(/restored backup \S+ in .*: integrity verified/);
    expect(await everything(url)).toEqual(before);

    // Both were recorded as command-line sessions.
    const list = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout) as Array<{
      checklist: string;
      status: string;
    }>;
    expect(list.filter((s) => s.status === 'succeeded').map((s) => s.checklist)).toEqual(
      expect.arrayContaining(['cockpit-db-backup', 'cockpit-db-restore']),
    );
  }, 120_000);

  it('as checklist steps: a backup, the damage, a restore of it, recorded; the data comes back', async () => {
    // The server's own psql (the machine may have no psql on PATH).
    const psql = path.join(findPostgresBinDir()!, 'psql');
    repo.write(
      'checklists/dr.yaml',
      'id: dr\ntitle: Drill\nsteps:\n  - {id: backup, title: Back up, kind: backup}\n' +
        `  - {id: damage, title: Damage, kind: run, run: "${psql} \\"$DATABASE_URL\\" -qc 'DELETE FROM orders'"}\n` +
        '  - {id: restore, title: Restore the latest backup, kind: restore, backup: latest, jobs: 2}\n',
    );
    const before = await everything(url);
    const r = cockpit(['--repo', repo.dir, 'run', 'dr', '--non-interactive'], { cwd: repo.dir, env: { DATABASE_URL: url } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backup \d{8}T\d{6}Z taken: 2 table\(s\)/);
    expect(r.stdout).toContain('✔ row counts: 2 table(s) as in the backup');
    expect(await everything(url)).toEqual(before);
    const plan = cockpit(['--repo', repo.dir, 'run', 'dr', '--dry-run'], { cwd: repo.dir, env: { DATABASE_URL: url } });
    expect(plan.stdout).toContain('cockpit db restore latest --jobs 2 (replaces the database');
  }, 120_000);

  it('two backups in the same second are two backups (the second waits for the next second)', () => {
    const before = manifests().length;
    const [a, b] = [db(['backup', '--json']), db(['backup', '--json'])];
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ids = manifests().map((m) => m.id);
    expect(ids.length).toBe(before + 2);
    expect(new Set(ids).size).toBe(ids.length);
  }, 120_000);

  it('a manifest whose counts the restored data does not match fails integrity (exit 1), naming the table', async () => {
    expect(db(['backup']).code).toBe(0);
    const [m] = manifests();
    const file = path.join(repo.dir, '.cockpit', 'backups', `${m.id}.json`);
    writeFileSync(file, JSON.stringify({ ...m, tables: { ...m.tables, 'public.users': m.tables['public.users'] + 5 } }));
    const r = db(['restore', m.id, '--yes', '--json']);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      type: string;
      ok: boolean;
      checks: Array<{ name: string; ok: boolean; detail: string }>;
    };
    expect(result.type).toBe('restore.result');
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.name === 'row counts')).toMatchObject({
      ok: false,
      detail: 'public.users has 200 row(s), the backup 205',
    });
  }, 120_000);

  it('refuses a changed dump before touching anything, another database, and an unknown backup', async () => {
    expect(db(['backup']).code).toBe(0);
    const [m] = manifests();
    await query(url, `UPDATE users SET nick = 'after the backup' WHERE id = 1`);
    appendFileSync(path.join(repo.dir, '.cockpit', 'backups', m.file), 'x');
    const r = db(['restore', m.id, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not match its manifest .* it was changed or damaged, nothing was restored/);
    expect((await query<{ nick: string }>(url, 'SELECT nick FROM users WHERE id = 1'))[0].nick).toBe('after the backup');

    const other = await freshDatabase('other');
    const elsewhere = cockpit(['--repo', repo.dir, 'db', 'restore', m.id, '--yes', '--database-url', other], { cwd: repo.dir });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/backup \S+ was taken of \S+; refusing to restore it over \S+other\S*/);

    const unknown = db(['restore', '20200101T000000Z', '--yes']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no backup 20200101T000000Z in .* \(newest: /);
    expect(readFileSync(path.join(repo.dir, '.cockpit', 'backups', `${m.id}.json`), 'utf8')).toContain(m.sha256);
  }, 120_000);
});

describe('pg_restore errors: harmless ones tolerated, the rest counted', () => {
  it('tells ownership of public and of extensions from a real failure', () => {
    const stderr = [
      'pg_restore: while PROCESSING TOC:',
      'pg_restore: from TOC entry 5; 2615 2200 SCHEMA public postgres',
      'pg_restore: error: could not execute query: ERROR:  must be owner of schema public',
      'Command was: COMMENT ON SCHEMA public IS NULL;',
      'pg_restore: error: could not execute query: ERROR:  role "app_owner" does not exist',
      'Command was: ALTER TABLE public.users OWNER TO app_owner;',
      'pg_restore: warning: errors ignored on restore: 2',
    ].join('\n');
    const r = classifyRestoreErrors(stderr);
    expect(r.harmless).toEqual(['could not execute query: ERROR:  must be owner of schema public']);
    expect(r.errors).toEqual(['could not execute query: ERROR:  role "app_owner" does not exist']);
  });
});
