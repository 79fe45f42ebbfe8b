import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// `cockpit migrate …` as a user runs it: a real child process against a real PostgreSQL.

const pgInfo = pgTest();

describe('cockpit migrate without a database', () => {
  it('says where the database URL comes from (exit 2)', () => {
    const repo = tempRepo();
    try {
      const r = cockpit(['--repo', repo.dir, 'migrate', 'status'], { cwd: repo.dir, env: { DATABASE_URL: '' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /no database to migrate: pass --database-url postgres:\/\/…, set database\.url in cockpit\.config\.yaml, or DATABASE_URL/,
      );
    } finally {
      repo.cleanup();
    }
  });
});

describe('cockpit migrate lint (no database needed)', () => {
  let repo: ReturnType<typeof tempRepo>;
  beforeEach(() => {
    repo = tempRepo();
  });
  afterEach(() => repo.cleanup());
  const lint = () => cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir });
  const GOOD =
    "-- migrate:up\nSET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nick text;\n-- migrate:down\nALTER TABLE users DROP COLUMN nick;\n";

  it('zero migrations is not a pass in disguise: it says there was nothing to check', () => {
    const r = lint();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('no migrations in migrations: nothing to check\n');
  });

  it('an unloadable file is an error finding of its own, naming file and reason; the other files are still linted', () => {
    repo.write('migrations/20240101000000_ok.sql', GOOD);
    repo.write('migrations/20240102000000_broken.sql', 'ALTER TABLE users DROP COLUMN x;\n');
    repo.write('migrations/20240103000000_char.sql', GOOD.replace('nick text', 'code char(2)'));
    const r = lint();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /✖ error unreadable-file \(20240102000000_broken\.sql\): 20240102000000_broken\.sql could not be loaded.*no '-- migrate:up' section/,
    );
    expect(r.stdout).toMatch(/▲ warning char-type \(20240103000000_char\.sql:3\): column code of users is char\(2\)/);
    expect(r.stdout).toContain('2 migration(s) checked, 1 file(s) not loaded: 1 error(s), 1 warning(s)');
  });

  it("database.lint in cockpit.config.yaml sets a rule's severity or turns it off; a misspelt rule is refused", () => {
    repo.write(
      'migrations/20240101000000_drop_idx.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nDROP INDEX idx_users_a;\n-- migrate:down\nSELECT 1;\n",
    );
    let r = lint();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ error drop-index-not-concurrent');
    repo.write('cockpit.config.yaml', 'database:\n  lint:\n    drop-index-not-concurrent: warning\n');
    r = lint();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('▲ warning drop-index-not-concurrent');
    repo.write('cockpit.config.yaml', 'database:\n  lint:\n    drop-index-not-concurrent: "off"\n');
    r = lint();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 migration(s) checked: 0 error(s), 0 warning(s)');
    repo.write('cockpit.config.yaml', 'database:\n  lint:\n    drop-index-not-concurent: warning\n');
    r = lint();
    expect(r.code).toBe(2);
  });

  it('lints for the configured PostgreSQL: SET NOT NULL after a validated CHECK is safe on 12+, a table scan on 11', () => {
    repo.write(
      'migrations/20240101000000_email_nn.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n-- migrate:down\nALTER TABLE users ALTER COLUMN email DROP NOT NULL;\n",
    );
    let r = lint();
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('(for PostgreSQL 12+, assumed: set database.postgresVersion for an older server)');
    repo.write('cockpit.config.yaml', 'database:\n  postgresVersion: 11\n');
    r = lint();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✖ error set-not-null .*on PostgreSQL 11, even after a validated CHECK \(email IS NOT NULL\)/);
    expect(r.stdout).toContain('1 error(s), 0 warning(s) (for PostgreSQL 11)');
    repo.write('cockpit.config.yaml', 'database:\n  postgresVersion: 10\n');
    expect(lint().code).toBe(2);
  });
});

describe('migrate lint with nothing to lint', () => {
  it('says so: lint and verify on the command line, as JSON, and as steps that had nothing to check (○, not ✔)', () => {
    const repo = tempRepo({
      db:
        'id: db\ntitle: Migrate\nsteps:\n  - {id: lint, title: Lint the migrations, kind: migrate, action: lint}\n' +
        '  - {id: verify, title: Verify the rollbacks, kind: migrate, action: verify}\n  - {id: apply, title: Apply, kind: migrate, action: upgrade}\n',
    });
    try {
      const plain = cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir });
      expect(plain.code).toBe(0);
      expect(plain.stdout).toBe('no migrations in migrations: nothing to check\n');
      const json = cockpit(['--repo', repo.dir, 'migrate', 'lint', '--json'], { cwd: repo.dir });
      expect(JSON.parse(json.stdout)).toEqual({ type: 'lint.result', dir: 'migrations', checked: 0, unloaded: 0, errors: 0, warnings: 0 });
      // No database is needed to find there is nothing to verify or apply (a hotfix in a repository without
      // migrations must not stop for want of a database server).
      const noDb = { DATABASE_URL: '' };
      const verify = cockpit(['--repo', repo.dir, 'migrate', 'verify', '--json'], { cwd: repo.dir, env: noDb });
      expect(verify.code, verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout)).toEqual({ type: 'verify.result', dir: 'migrations', checked: 0, held: 0, failed: 0, unchecked: 0 });
      const up = cockpit(['--repo', repo.dir, 'migrate', 'upgrade'], { cwd: repo.dir, env: noDb });
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toBe('no migrations in migrations and no database configured: nothing to do\n');
      const step = cockpit(['--repo', repo.dir, 'run', 'db', '--non-interactive'], { cwd: repo.dir, env: noDb });
      expect(step.code, step.stderr).toBe(0);
      // The lint, the verify and the upgrade checked nothing: none is drawn as a pass.
      expect(step.stdout.match(/○ nothing to check: no migrations in migrations/g)).toHaveLength(3);
      expect(step.stdout).not.toMatch(/✔/);
      // With a database configured, an upgrade does connect (its history may name files that are gone).
      const withDb = cockpit(['--repo', repo.dir, 'migrate', 'upgrade'], {
        cwd: repo.dir,
        env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' },
      });
      expect(withDb.code).not.toBe(0);
    } finally {
      repo.cleanup();
    }
  });
});

describe.skipIf(!pgInfo.url)(`cockpit migrate on PostgreSQL${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let url: string;
  const run = (...args: string[]) =>
    cockpit(['--repo', repo.dir, 'migrate', ...args, '--database-url', url], { cwd: repo.dir, env: { COCKPIT_OPERATOR: 'alice' } });
  /** The first column of every row a query returns, on the test's database. */
  const column = async (sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows.map((r) => Object.values(r)[0] as string);
    } finally {
      await c.end();
    }
  };
  const tables = () => column("select table_name from information_schema.tables where table_schema = 'public' order by 1");
  const write = (name: string, text: string) => writeFileSync(path.join(repo.dir, 'migrations', name), text);

  beforeEach(async () => {
    repo = tempRepo();
    url = await freshDatabase('migrate_cli');
  });
  afterEach(() => repo.cleanup());

  it('create writes a migration to fill in; lint refuses it until it has a downgrade', () => {
    const c = cockpit(['--repo', repo.dir, 'migrate', 'create', 'Add listings table'], { cwd: repo.dir });
    expect(c.code).toBe(0);
    const [file] = readdirSync(path.join(repo.dir, 'migrations'));
    expect(file).toMatch(/^\d{14}_add_listings_table\.sql$/);
    expect(c.stdout).toContain(`created migrations/${file}`);
    const text = readFileSync(path.join(repo.dir, 'migrations', file), 'utf8');
    expect(text).toMatch(/-- migrate:up[\s\S]*-- migrate:down/);
    writeFileSync(
      path.join(repo.dir, 'migrations', file),
      '-- migrate:up\nCREATE TABLE listings (id bigint primary key, city text);\n-- migrate:down\n',
    );
    let l = cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir });
    expect(l.code).toBe(1);
    expect(l.stdout).toMatch(/✖ error missing-downgrade/);
    writeFileSync(
      path.join(repo.dir, 'migrations', file),
      '-- migrate:up\nCREATE TABLE listings (id bigint primary key, city text);\n-- migrate:down\nDROP TABLE listings;\n',
    );
    l = cockpit(['--repo', repo.dir, 'migrate', 'lint'], { cwd: repo.dir });
    expect(l.stdout).toMatch(/1 migration\(s\) checked: 0 error\(s\)/);
    expect(l.code).toBe(0);
  });

  it('upgrade --sql prints what would run and changes nothing; upgrade applies; status; downgrade -1 reverts', async () => {
    cockpit(['--repo', repo.dir, 'migrate', 'create', 'listings'], { cwd: repo.dir });
    const [file] = readdirSync(path.join(repo.dir, 'migrations'));
    write(
      file,
      "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE listings (id bigint primary key, city text);\n-- migrate:down\nDROP TABLE listings;\n",
    );
    const sql = run('upgrade', '--sql');
    expect(sql.code).toBe(0);
    expect(sql.stdout).toMatch(/BEGIN;[\s\S]*CREATE TABLE listings[\s\S]*cockpit_schema_migrations[\s\S]*COMMIT;/);
    expect(await tables()).not.toContain('listings');
    const up = run('upgrade');
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/✔ \d{14} applied in/);
    expect(await tables()).toContain('listings');
    const st = run('status');
    expect(st.stdout).toMatch(/✔ \d{14} listings {2}applied .* by alice in/);
    expect(st.stdout).not.toMatch(/postgres:\/\/[^@\s]*:[^*@\s]+@/);
    const down = run('downgrade', '-1');
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/✔ \d{14} reverted/);
    expect(await tables()).not.toContain('listings');
  });

  it('lint errors block an upgrade (nothing runs) unless overridden with a reason', async () => {
    cockpit(['--repo', repo.dir, 'migrate', 'create', 'listings'], { cwd: repo.dir });
    const [first] = readdirSync(path.join(repo.dir, 'migrations'));
    write(first, '-- migrate:up\nCREATE TABLE listings (id bigint primary key, city text);\n-- migrate:down\nDROP TABLE listings;\n');
    expect(run('upgrade').code).toBe(0);
    write(
      '29990101000000_drop_city.sql',
      '-- migrate:up\nALTER TABLE listings DROP COLUMN city;\n-- migrate:down\nALTER TABLE listings ADD COLUMN city text;\n',
    );
    const blocked = run('upgrade');
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/drop-column .*city/);
    expect(blocked.stderr).toMatch(/nothing was run/);
    const cols = () => column("select column_name from information_schema.columns where table_name = 'listings' order by 1");
    expect(await cols()).toEqual(['city', 'id']);
    const forced = run('upgrade', '--allow-unsafe', 'the app stopped reading city in 2.3');
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/lint errors overridden by alice: the app stopped reading city in 2\.3/);
    expect(await cols()).toEqual(['id']);
  });
  it('--json: one typed event per line (plan, each migration, lint, result), stdout nothing else; recorded in words', async () => {
    mkdirSync(path.join(repo.dir, 'migrations'));
    write(
      '20260101000000_listings.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE listings (id bigint primary key, city text);\n-- migrate:down\nDROP TABLE listings;\n",
    );
    write(
      '20260102000000_drop_city.sql',
      '-- migrate:up\nALTER TABLE listings DROP COLUMN city;\n-- migrate:down\nALTER TABLE listings ADD COLUMN city text;\n',
    );
    const events = (stdout: string) =>
      stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
    // Refused by lint: the findings and the refusal, as events; nothing ran.
    const refused = run('upgrade', '--json');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('');
    const r1 = events(refused.stdout);
    expect(r1.map((e) => e.type)).toEqual(['lint.findings', 'lint.refused']);
    expect(r1[0]).toMatchObject({ id: '20260102000000' });
    expect((r1[0] as unknown as { findings: Array<{ rule: string; severity: string }> }).findings).toContainEqual(
      expect.objectContaining({ rule: 'drop-column', severity: 'error' }),
    );
    expect(await tables()).toEqual([]);
    // Overridden: the override, the plan, each migration started and finished, the result.
    const up = run('upgrade', '--json', '--allow-unsafe', 'city is unused since 2.3');
    expect(up.code).toBe(0);
    const r2 = events(up.stdout);
    expect(r2.map((e) => e.type).filter((t) => t !== 'lock.acquired')).toEqual([
      'lint.findings',
      'lint.overridden',
      'migrate.plan',
      'migration.started',
      'migration.finished',
      'migration.started',
      'migration.finished',
      'migrate.result',
    ]);
    expect(r2.find((e) => e.type === 'migrate.plan')).toMatchObject({
      direction: 'up',
      migrations: [{ id: '20260101000000' }, { id: '20260102000000' }],
    });
    expect(r2.at(-1)).toMatchObject({ type: 'migrate.result', ok: true, applied: [{ id: '20260101000000' }, { id: '20260102000000' }] });
    const down = run('downgrade', '--json', '--steps', '2');
    expect(down.code).toBe(0);
    const r3 = events(down.stdout);
    expect(r3.find((e) => e.type === 'migrate.plan')).toMatchObject({
      direction: 'down',
      migrations: [{ id: '20260102000000' }, { id: '20260101000000' }],
    });
    expect(r3.at(-1)).toMatchObject({ type: 'migrate.result', direction: 'down', ok: true });
    // The audit log keeps what a person reads, not the JSON.
    const list = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout) as Array<{ id: string }>;
    const log = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'show', list[0].id, '--format', 'json'], { cwd: repo.dir }).stdout) as {
      events: Array<{ type: string; data: { text?: string } }>;
    };
    const output = log.events
      .filter((e) => e.type === 'step.output')
      .map((e) => e.data.text)
      .join('');
    expect(output).toMatch(/✔ 20260102000000 reverted in/);
    expect(output).toMatch(/2 migration\(s\) reverted/);
    expect(output).not.toMatch(/"type":/);
    // --sql prints SQL, not events: the two together are refused as bad input.
    const both = run('upgrade', '--json', '--sql');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--sql prints the SQL, --json prints events/);
  });
});

describe.skipIf(!pgInfo.url)(`the migrate step kind${pgInfo.skipReason}`, () => {
  it('runs cockpit migrate as a recorded step; a failing migration is reverted with what the run applied, and the step fails', async () => {
    const repo = tempRepo({
      db: `id: db
title: Migrate
steps:
  - id: apply
    title: Apply the migrations
    kind: migrate
    action: upgrade
`,
    });
    try {
      const url = await freshDatabase('migrate_step');
      const env = { DATABASE_URL: url, COCKPIT_OPERATOR: 'alice' };
      repo.write(
        'migrations/20260101000000_listings.sql',
        "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE listings (id bigint primary key);\n-- migrate:down\nDROP TABLE listings;\n",
      );
      repo.write(
        'migrations/20260102000000_broken.sql',
        "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE bookings (id bigint primary key);\nSELECT no_such_function();\n-- migrate:down\nDROP TABLE bookings;\n",
      );
      const r = cockpit(['--repo', repo.dir, 'run', 'db', '--non-interactive'], { cwd: repo.dir, env });
      expect(r.code).toBe(1);
      // The step's reason comes from the command's typed events: the migration and statement that failed.
      expect(r.stderr).toMatch(
        /step 'apply' .*failed: cockpit migrate upgrade: 20260102000000 broken: statement 3 of 3 \(20260102000000_broken\.sql:4\) failed: .*no_such_function/,
      );
      const id = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout)[0].id;
      const show = cockpit(['--repo', repo.dir, 'audit', 'show', id], { cwd: repo.dir }).stdout;
      expect(show).toMatch(/20260101000000 applied/);
      expect(show).toMatch(/20260102000000 broken: statement 3 of 3 .* failed: .*no_such_function/);
      expect(show).toMatch(/this run's migrations were reverted \(newest first\): 20260101000000/);
      expect(show).not.toContain(url.replace(/^postgres:\/\//, ''));
      // The events are kept in words, as the command prints them: no JSON in the log a person replays.
      expect(show).not.toMatch(/"type":/);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const t = (
          await c.query(
            "select table_name from information_schema.tables where table_schema = 'public' and table_name in ('listings', 'bookings')",
          )
        ).rows;
        expect(t).toEqual([]);
      } finally {
        await c.end();
      }
    } finally {
      repo.cleanup();
    }
  });
});

describe.skipIf(!pgInfo.url)(`a backfill as a checklist step${pgInfo.skipReason}`, () => {
  it('runs in batches, its progress recorded in the audit log', async () => {
    const repo = tempRepo({
      fill: `id: fill
title: Backfill
steps:
  - id: cents
    title: Fill price_cents
    kind: migrate
    action: backfill
    name: price_cents
`,
    });
    try {
      const url = await freshDatabase('backfill_step');
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query('CREATE TABLE listings (id bigint primary key, price numeric, price_cents bigint)');
        await c.query('INSERT INTO listings SELECT g, g * 1.5, NULL FROM generate_series(1, 2500) g');
      } finally {
        await c.end();
      }
      repo.write(
        'migrations/backfills/price_cents.yaml',
        'table: listings\nkey: id\nset: "price_cents = round(price * 100)"\nwhere: "price_cents IS NULL"\nbatchSize: 1000\n',
      );
      const r = cockpit(['--repo', repo.dir, 'run', 'fill', '--non-interactive'], { cwd: repo.dir, env: { DATABASE_URL: url } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const id = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout)[0].id;
      const events = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'show', id, '--format', 'json'], { cwd: repo.dir }).stdout);
      const output = (Array.isArray(events) ? events : events.events)
        .filter((e: { type: string }) => e.type === 'step.output')
        .map((e: { data: { text: string } }) => e.data.text)
        .join('');
      // One progress line per batch (3 batches of at most 1000), then the summary, all in the audit log.
      expect(output.split('\n').filter((l: string) => /batch/i.test(l)).length).toBeGreaterThanOrEqual(3);
      expect(output).toMatch(/2,?500/);
      const d = new pg.Client({ connectionString: url });
      await d.connect();
      try {
        expect((await d.query('SELECT count(*)::int AS n FROM listings WHERE price_cents IS NULL')).rows[0].n).toBe(0);
      } finally {
        await d.end();
      }
    } finally {
      repo.cleanup();
    }
  });
});
