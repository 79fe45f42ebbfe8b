import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockpit, jsonLines, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// One database per environment (database.environments in cockpit.config.yaml): `--env` and the steps' `env:` act on
// their environment's database only, against a real PostgreSQL with two databases, through the real cockpit.

const pgInfo = pgTest();
const GIT_ENV = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' };
const MIGRATION = '-- listings\n-- migrate:up\nCREATE TABLE listings (id bigint primary key);\n-- migrate:down\nDROP TABLE listings;\n';

async function sql(url: string, text: string): Promise<pg.QueryResultRow[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

async function applied(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const has = await c.query("SELECT to_regclass('cockpit_schema_migrations') AS t");
    if (!has.rows[0].t) return [];
    return (await c.query<{ id: string }>('SELECT id FROM cockpit_schema_migrations ORDER BY id')).rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

describe.skipIf(!pgInfo.url)(`per-environment databases${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let staging = '';
  let production = '';
  // The production URL comes from the environment ({env: PROD_DATABASE_URL}); DATABASE_URL names a third database
  // that no command with --env may touch.
  let other = '';
  const env = () => ({ ...GIT_ENV, PROD_DATABASE_URL: production, DATABASE_URL: other });
  const run = (args: string[], extra: Record<string, string> = {}) =>
    cockpit(['--repo', repo.dir, ...args], { cwd: repo.dir, env: { ...env(), ...extra }, timeout: 120_000 });

  beforeAll(async () => {
    [staging, production, other] = await Promise.all([freshDatabase('env_staging'), freshDatabase('env_prod'), freshDatabase('env_other')]);
    repo = tempRepo();
    repo.write('.gitignore', '.cockpit/\n');
    repo.write(
      'cockpit.config.yaml',
      `database:\n  environments:\n    staging: {url: "${staging}"}\n    production: {url: {env: PROD_DATABASE_URL}}\n`,
    );
    repo.write('migrations/20260101000000_listings.sql', MIGRATION);
    const git = (...args: string[]) =>
      expect(spawnSync('git', args, { cwd: repo.dir, env: { ...process.env, ...GIT_ENV } }).status).toBe(0);
    git('add', '-A');
    git('commit', '-qm', 'feat: listings');
  });
  afterAll(() => repo?.cleanup());

  it('cockpit migrate upgrade --env staging changes only the staging database, and says which', async () => {
    const r = run(['migrate', 'upgrade', '--env', 'staging']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/upgrading the staging database [^ ]+\/[^ ]*env_staging[^ ]*: 1 migration\(s\)/);
    expect(await applied(staging)).toEqual(['20260101000000']);
    expect(await applied(production)).toEqual([]);
    expect(await applied(other)).toEqual([]);
    // Status of production: its own database, where the migration is pending.
    const s = run(['migrate', 'status', '--env', 'production']);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(s.stdout).toMatch(/database .*env_prod.* \(production\)/);
    expect(s.stdout).toContain('20260101000000');
    // The recorded session keeps the environment as a parameter.
    const list = JSON.parse(run(['audit', 'list', '--json']).stdout) as Array<{ id: string }>;
    expect(list).toHaveLength(1);
    const shown = run(['audit', 'show', list[0].id, '--format', 'json']).stdout;
    expect(shown).toContain('"env":"staging"');
  });

  it('refuses an environment the config does not list, naming those it does, and touches nothing', async () => {
    const before = run(['audit', 'list', '--json']).stdout;
    const r = run(['migrate', 'upgrade', '--env', 'qa']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "no database for environment 'qa': database.environments in cockpit.config.yaml names only 'staging', 'production'",
    );
    expect(await applied(other)).toEqual([]);
    expect(await applied(production)).toEqual([]);
    // Refused before anything was recorded.
    expect(run(['audit', 'list', '--json']).stdout).toBe(before);
    // An unset {env: NAME} gives no database (never another one): what needs one says which variable to set,
    // what needs none (lint) still runs.
    const unset = run(['migrate', 'status', '--env', 'production'], { PROD_DATABASE_URL: '' });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain(
      'database.environments.production.url in cockpit.config.yaml reads PROD_DATABASE_URL from the environment, which is not set',
    );
    const lint = run(['migrate', 'lint', '--env', 'production'], { PROD_DATABASE_URL: '' });
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
  });

  it("the migration checklist with environment=production migrates production's database only; its dry run names it", async () => {
    const dry = run(['run', 'migration', '-p', 'environment=production', '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain('cockpit migrate upgrade --on-failure revert-run --env production');
    const stagingBefore = await applied(staging);
    const r = run(['run', 'migration', '-p', 'environment=production', '--non-interactive', '--yes', 'all', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events.find((e) => e.type === 'step.passed' && e.stepId === 'apply')).toBeTruthy();
    // The step's output says which environment's database it changed.
    expect(
      events.some(
        (e) => e.type === 'step.output' && e.stepId === 'apply' && /upgrading the production database .*env_prod/.test(e.data.text),
      ),
    ).toBe(true);
    expect(await applied(production)).toEqual(['20260101000000']);
    expect(await applied(staging)).toEqual(stagingBefore);
    expect(await applied(other)).toEqual([]);
  });

  it("the deploys' dry runs name their environment's database: deploy-staging's migrations staging, deploy-production's backup and migrations production", () => {
    const dry = run(['run', 'deploy-staging', '-p', 'version=1.0.0', '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toContain('cockpit migrate upgrade --on-failure revert-run --env staging');
    const dryProd = run(['run', 'deploy-production', '-p', 'version=1.0.0', '--dry-run']);
    expect(dryProd.code, dryProd.stdout + dryProd.stderr).toBe(0);
    expect(dryProd.stdout).toContain('cockpit db backup --env production');
    expect(dryProd.stdout).toContain('cockpit migrate upgrade --on-failure revert-run --env production');
  });

  it("db backup and db restore --env: each environment's own database; restore latest is the newest backup of that one", async () => {
    await sql(staging, 'INSERT INTO listings VALUES (1), (2)');
    await sql(production, 'INSERT INTO listings VALUES (10)');
    const b1 = run(['db', 'backup', '--env', 'staging']);
    expect(b1.code, b1.stdout + b1.stderr).toBe(0);
    expect(b1.stdout).toMatch(/restore it with: .*db restore \d{8}T\d{6}Z --env staging/);
    // The production backup is the newer one; the staging restore still takes staging's.
    await new Promise((r) => setTimeout(r, 1100));
    const b2 = run(['db', 'backup', '--env', 'production']);
    expect(b2.code, b2.stdout + b2.stderr).toBe(0);
    await sql(staging, 'DELETE FROM listings');
    await sql(production, 'INSERT INTO listings VALUES (11)');
    const r = run(['db', 'restore', 'latest', '--env', 'staging', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await sql(staging, 'SELECT id FROM listings ORDER BY id')).map((x) => Number(x.id))).toEqual([1, 2]);
    // Production was not touched: the row written after its backup is still there.
    expect((await sql(production, 'SELECT id FROM listings ORDER BY id')).map((x) => Number(x.id))).toEqual([10, 11]);
    const refused = run(['db', 'backup', '--env', 'qa']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("no database for environment 'qa'");
  });
});
