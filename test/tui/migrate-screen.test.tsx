import { render } from 'ink-testing-library';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeStores } from '../../src/cli/open-stores.js';
import { Workspace } from '../../src/cli/setup.js';
import { workspaceServices } from '../../src/cli/tui.js';
import { migrationServices } from '../../src/cli/migrate-screen.js';
import { progressAfter } from '../../src/tui/screens/MigrateScreen.js';
import { App } from '../../src/tui/App.js';
import { noColorTheme } from '../../src/tui/theme.js';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { frame, KEY, press, type, waitFor, type Rendered } from '../helpers/ink.js';
import { walk } from '../helpers/keys.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// The migration screen over a real PostgreSQL; upgrade, downgrade and the backfill run as real `cockpit migrate`
// child processes, recorded in the audit log as when typed.

const pgInfo = pgTest();

describe('the migration screen: progress from typed events', () => {
  it('counts the finished migrations of those the plan named, and a backfill by its rows of the estimated total', () => {
    const plan = progressAfter(null, {
      type: 'migrate.plan',
      direction: 'up',
      migrations: [
        { id: '20260101000000', name: 'a', noTransaction: false },
        { id: '20260101000100', name: 'b', noTransaction: false },
      ],
    });
    expect(plan).toEqual({ done: 0, of: 2, label: '0 of 2 migration(s) applied' });
    const one = progressAfter(plan, {
      type: 'migration.finished',
      id: '20260101000000',
      name: 'a',
      direction: 'up',
      durationMs: 5,
      revert: false,
    });
    expect(one).toEqual({ done: 1, of: 2, label: '1 of 2 migration(s) applied' });
    // A revert after a failure (revert-run) does not count as progress of the upgrade.
    expect(
      progressAfter(one, { type: 'migration.finished', id: '20260101000000', name: 'a', direction: 'down', durationMs: 5, revert: true }),
    ).toEqual(one);
    expect(
      progressAfter(null, {
        type: 'backfill.progress',
        name: 'fill',
        rowsDone: 3000,
        batchRows: 1000,
        batches: 3,
        total: 10000,
        ratePerSec: 80000,
        etaSec: 1,
        batchMs: 12,
        lastKey: '3000',
      }),
    ).toEqual({ done: 30, of: 100, label: '3,000 of ~10,000 rows · 80,000 rows/s · ETA 1.0s' });
  });
});

describe.skipIf(!pgInfo.url)(`the migration screen${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let url: string;
  let app: Rendered | null = null;

  beforeEach(async () => {
    url = await freshDatabase('migrate_screen');
    repo = tempRepo();
    repo.write('cockpit.config.yaml', `database:\n  url: ${url}\n`);
    repo.write(
      'migrations/20260101000000_listings.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE listings (id bigint primary key, city text, price int);\n-- migrate:down\nDROP TABLE listings;\n",
    );
    repo.write(
      'migrations/20260101000100_city_index.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nCREATE INDEX listings_city_idx ON listings (city);\n-- migrate:down\nDROP INDEX listings_city_idx;\n",
    );
    repo.write(
      'migrations/backfills/price_default.yaml',
      'table: listings\nkey: id\nset: price = 100\nwhere: price IS NULL\nbatchSize: 50\n',
    );
  });
  afterEach(async () => {
    app?.unmount();
    app = null;
    await closeStores();
    repo.cleanup();
  });

  let exited = false;
  function open(): Rendered {
    const ws = new Workspace({ repo: repo.dir });
    exited = false;
    app = render(
      <App
        services={{ ...workspaceServices(ws, () => undefined), migrations: migrationServices(ws, {}) }}
        initial={{ name: 'migrate' }}
        theme={noColorTheme}
        onExit={() => (exited = true)}
      />,
    );
    return app;
  }

  it('its keys: each hint is the keymap, each offered key acts (all pending; one applied); PgDn scrolls the SQL down, PgUp back up', async () => {
    const hooks = { exited: () => exited, reset: async () => undefined };
    const pending = await walk(
      {
        name: 'all pending',
        layers: ['migrate', 'global'],
        live: false,
        expect: /^MIGRATE\s+u upgrade\s+b backfill\s+\? help\s+q quit$/,
        reach: async () => {
          const a = open();
          return { app: a, frame: await waitFor(a, /2 pending/) };
        },
      },
      hooks,
    );
    expect(pending).toEqual(['u (upgrade)', 'b (backfill)', '? (help)', 'q (quit)']);
    expect(cockpit(['--repo', repo.dir, 'migrate', 'upgrade', '--allow-unsafe', 'test'], { cwd: repo.dir }).code).toBe(0);
    expect(cockpit(['--repo', repo.dir, 'migrate', 'downgrade', '--steps', '1'], { cwd: repo.dir }).code).toBe(0);
    await walk(
      {
        name: 'one applied, one pending',
        layers: ['migrate', 'global'],
        live: false,
        expect: /^MIGRATE\s+u upgrade\s+d downgrade\s+b backfill\s+\? help\s+q quit$/,
        reach: async () => {
          const a = open();
          return { app: a, frame: await waitFor(a, /1 applied · 1 pending/) };
        },
      },
      hooks,
    );
    // The SQL preview of a long pending migration: PgDn moves it down (its first lines go), PgUp brings them back.
    const selects = Array.from({ length: 40 }, (_, i) => `SELECT ${101 + i};`).join('\n');
    repo.write('migrations/20260101000200_many.sql', `-- migrate:up\n${selects}\n-- migrate:down\nSELECT 1;\n`);
    const a = open();
    await waitFor(a, /1 applied · 2 pending/);
    await press(a, 'G');
    let f = await waitFor(a, /› · 20260101000200 many/);
    expect(f).toContain('│ -- cockpit migrate upgrade');
    expect(f).not.toContain('SELECT 140;');
    await press(a, KEY.pgdn);
    f = await waitFor(a, (x) => !x.includes('│ -- cockpit migrate upgrade'));
    await press(a, KEY.pgdn, KEY.pgdn, KEY.pgdn, KEY.pgdn, KEY.pgdn, KEY.pgdn, KEY.pgdn);
    f = await waitFor(a, 'SELECT 140;');
    expect(f).not.toContain('SELECT 101;');
    // At the end PgDn stops; one PgUp per page brings the start back.
    for (let i = 0; i < 8 && !frame(a).includes('│ -- cockpit migrate upgrade'); i++) await press(a, KEY.pgup);
    expect(frame(a)).toContain('│ -- cockpit migrate upgrade');
  });

  it('shows pending migrations with their lint verdicts and SQL; an upgrade with a lint error needs a reason; progress; the result recorded', async () => {
    const a = open();
    let f = await waitFor(a, /2 pending/);
    expect(f).toMatch(/· 20260101000000 listings ✔ lint/);
    // The index built without CONCURRENTLY on an existing table: an error, with the safer way.
    expect(f).toMatch(/· 20260101000100 city_index ✖1/);
    expect(f).toMatch(/SQL an upgrade would send/);
    expect(f).toMatch(/BEGIN;/);
    await press(a, 'j');
    f = await waitFor(a, /index-not-concurrent/);
    expect(f).toMatch(/safer: .*CONCURRENTLY/);

    await press(a, 'u');
    await waitFor(a, /1 lint error\(s\) in the pending migrations\. Apply anyway/);
    await press(a, 'y');
    await waitFor(a, /Why is it safe\?/);
    await press(a, KEY.enter);
    await waitFor(a, /an override needs a reason/);
    await type(a, 'the table is empty, created in the same deploy');
    await press(a, KEY.enter);
    f = await waitFor(a, /upgrade: done/, 30_000);
    expect(f).toMatch(/2 of 2 migration\(s\) applied/);
    f = await waitFor(a, /2 applied · 0 pending/);
    expect(f).toMatch(/✔ 20260101000100 city_index/);
    // What is previewed and what d does agree: the newest applied is the one d reverts; another says so.
    expect(f).toMatch(/› ✔ 20260101000100 city_index/);
    expect(f).toContain('SQL d (downgrade) sends now: this is the newest applied');
    expect(f).toMatch(/DROP INDEX listings_city_idx/);
    await press(a, 'k');
    f = await waitFor(a, /› ✔ 20260101000000 listings/);
    expect(f.replace(/\s*│\s*/g, ' ')).toMatch(
      /SQL of its downgrade: d reverts the newest applied \(20260101000100 city_index\) first,\s+not this one/,
    );
    await press(a, 'd');
    await waitFor(a, /Downgrade 20260101000100 city_index \(the newest applied\)\?/);
    await press(a, 'n');

    // Recorded as a command-line session, with the reason.
    const list = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout) as Array<{
      id: string;
      checklist: string;
      status: string;
    }>;
    const s = list.find((x) => x.checklist === 'cockpit-migrate-upgrade');
    expect(s?.status).toBe('succeeded');
    expect(cockpit(['--repo', repo.dir, 'audit', 'show', s!.id, '--format', 'json'], { cwd: repo.dir }).stdout).toContain(
      'the table is empty, created in the same deploy',
    );

    // Downgrade the newest, asked first.
    await press(a, 'd');
    await waitFor(a, /Downgrade 20260101000100 city_index/);
    await press(a, 'y');
    await waitFor(a, /downgrade: done/, 30_000);
    await waitFor(a, /1 applied · 1 pending/);
  });

  it('runs a backfill with its progress bar to the end', async () => {
    expect(cockpit(['--repo', repo.dir, 'migrate', 'upgrade', '--to', '20260101000000'], { cwd: repo.dir }).code).toBe(0);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('INSERT INTO listings (id, city) SELECT g, $1 FROM generate_series(1, 400) g', ['Lyon']);
    const a = open();
    await waitFor(a, /1 applied · 1 pending/);
    await press(a, 'b');
    await waitFor(a, /Backfill to run \(price_default\)/);
    await type(a, 'nope');
    await press(a, KEY.enter);
    await waitFor(a, /no backfill 'nope'/);
    await press(a, 'b');
    await type(a, 'price_default');
    await press(a, KEY.enter);
    const f = await waitFor(a, /backfill price_default: done/, 30_000);
    expect(f).toMatch(/100%/);
    expect((await c.query('SELECT count(*)::int AS n FROM listings WHERE price = 100')).rows[0].n).toBe(400);
    await c.end();
  });
});
