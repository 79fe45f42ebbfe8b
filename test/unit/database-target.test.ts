import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/cli/config.js';
import {
  DatabaseEnvironmentError,
  databaseIdentity,
  resolveDatabase,
  resolveScratchDatabase,
  type DatabaseQuery,
} from '../../src/core/database-target.js';
import { CockpitError } from '../../src/core/errors.js';
import { parseChecklist } from '../../src/core/checklist/load.js';
import { formatDiagnostic } from '../../src/core/checklist/types.js';
import { STEP_KINDS, stepKindMap } from '../../src/steps/index.js';

const STAGING = 'postgres://app@db-staging:5432/property_staging';
const PROD = 'postgres://app@db-prod:5432/property';
const ONE = 'postgres://app@db:5432/property';
const FROM_ENV = 'postgres://app:s3cret@db-env:5432/from_env';

const q = (over: Partial<DatabaseQuery>): DatabaseQuery => ({ configFile: 'cockpit.config.yaml', env: {}, ...over });
const both = { environments: { staging: { url: STAGING }, production: { url: PROD } }, url: PROD };

describe('which database a command acts on (resolveDatabase)', () => {
  it("an environment's own URL when the config lists environments", () => {
    const r = resolveDatabase(q({ environment: 'staging', settings: both, env: { DATABASE_URL: ONE } }));
    expect(r).toMatchObject({ url: STAGING, environment: 'staging' });
    expect(r.source).toBe('database.environments.staging.url in cockpit.config.yaml');
    expect(resolveDatabase(q({ environment: 'production', settings: both })).url).toBe(PROD);
  });

  it('--database-url wins over everything, also over the environment', () => {
    const r = resolveDatabase(q({ flagUrl: ONE, environment: 'staging', settings: both, env: { DATABASE_URL: FROM_ENV } }));
    expect(r).toMatchObject({ url: ONE, source: '--database-url', environment: 'staging' });
  });

  it('no environment named: database.url, else DATABASE_URL (as before)', () => {
    expect(resolveDatabase(q({ settings: both, env: { DATABASE_URL: ONE } })).url).toBe(PROD);
    const r = resolveDatabase(q({ settings: { environments: both.environments }, env: { DATABASE_URL: ONE } }));
    expect(r).toMatchObject({ url: ONE, source: 'DATABASE_URL' });
    const none = resolveDatabase(q({ settings: { environments: both.environments } }));
    expect(none.url).toBeUndefined();
    // Nothing found: the message names the environments there are to pick from.
    expect(none.missing).toContain('--env (staging, production)');
  });

  it('a config without environments keeps its one database for every environment named', () => {
    expect(resolveDatabase(q({ environment: 'staging', settings: { url: ONE } })).url).toBe(ONE);
    expect(resolveDatabase(q({ environment: 'production', env: { DATABASE_URL: FROM_ENV } })).url).toBe(FROM_ENV);
    const none = resolveDatabase(q({ environment: 'staging' }));
    expect(none.url).toBeUndefined();
    expect(none.missing).toContain('database.environments.staging.url or database.url in cockpit.config.yaml');
  });

  it('refuses an environment the config does not list, naming those it does, rather than using another database', () => {
    const go = () => resolveDatabase(q({ environment: 'qa', settings: both, env: { DATABASE_URL: ONE } }));
    expect(go).toThrow(DatabaseEnvironmentError);
    expect(go).toThrow("no database for environment 'qa': database.environments in cockpit.config.yaml names only 'staging', 'production'");
    // Even with --database-url: a misspelt environment is not recorded as if it were one.
    expect(() => resolveDatabase(q({ flagUrl: ONE, environment: 'prod', settings: both }))).toThrow(/names only 'staging', 'production'/);
    // Bad input: exit 2, like every usage error.
    try {
      go();
    } catch (e) {
      expect(e).toBeInstanceOf(CockpitError);
      expect((e as CockpitError).exitCode).toBe(2);
    }
  });

  it('refuses a name that is no environment name (it reaches argv and messages)', () => {
    expect(() => resolveDatabase(q({ environment: '--all', settings: { url: ONE } }))).toThrow(/expected an environment name/);
    expect(() => resolveDatabase(q({ environment: '', settings: { url: ONE } }))).toThrow(/expected an environment name/);
  });

  it('{env: NAME} reads the URL from the environment; unset gives none (never another database), naming the variable', () => {
    const settings = { environments: { staging: { url: { env: 'STAGING_DB' } }, production: { url: PROD } } };
    const r = resolveDatabase(q({ environment: 'staging', settings, env: { STAGING_DB: FROM_ENV } }));
    expect(r.url).toBe(FROM_ENV);
    expect(r.source).toBe('STAGING_DB (database.environments.staging.url in cockpit.config.yaml)');
    expect(r.source).not.toContain('s3cret');
    // Unset: no URL (lint and check need none), and what asks for one names the variable.
    const unset = resolveDatabase(q({ environment: 'staging', settings, env: { DATABASE_URL: ONE } }));
    expect(unset.url).toBeUndefined();
    expect(unset.missing).toBe(
      'database.environments.staging.url in cockpit.config.yaml reads STAGING_DB from the environment, which is not set',
    );
    expect(() => resolveScratchDatabase(q({ settings: { scratchUrl: { env: 'SCRATCH' } } }))).toThrow(
      'database.scratchUrl in cockpit.config.yaml reads SCRATCH from the environment, which is not set',
    );
    // Another environment's unset variable does not matter.
    expect(resolveDatabase(q({ environment: 'production', settings })).url).toBe(PROD);
    expect(resolveDatabase(q({ settings: { url: { env: 'APP_DB' } }, env: { APP_DB: ONE } })).url).toBe(ONE);
  });

  it("the scratch database: --scratch-url > the environment's > database.scratchUrl > none", () => {
    const settings = {
      scratchUrl: 'postgres://app@db/scratch',
      environments: { staging: { url: STAGING, scratchUrl: 'postgres://app@db-staging/scratch' }, production: { url: PROD } },
    };
    expect(resolveScratchDatabase(q({ environment: 'staging', settings }))?.url).toBe('postgres://app@db-staging/scratch');
    expect(resolveScratchDatabase(q({ environment: 'production', settings }))?.url).toBe('postgres://app@db/scratch');
    expect(resolveScratchDatabase(q({ environment: 'staging', settings, flagScratchUrl: ONE }))).toEqual({
      url: ONE,
      source: '--scratch-url',
    });
    expect(resolveScratchDatabase(q({ environment: 'staging', settings: { url: ONE } }))).toBeUndefined();
    expect(() => resolveScratchDatabase(q({ environment: 'qa', settings }))).toThrow(DatabaseEnvironmentError);
  });

  it('says a database as host:port/name, without user or password', () => {
    expect(databaseIdentity(FROM_ENV)).toBe('db-env:5432/from_env');
    expect(databaseIdentity('postgres://u@h/')).toBe('h:5432/postgres');
  });
});

describe('database.environments in cockpit.config.yaml', () => {
  it('takes a URL or {env: NAME} per environment, with an optional scratchUrl', () => {
    const r = configSchema.safeParse({
      database: {
        url: { env: 'DATABASE_URL' },
        environments: { staging: { url: STAGING, scratchUrl: { env: 'STAGING_SCRATCH' } }, production: { url: { env: 'PROD_DB' } } },
      },
    });
    expect(r.success).toBe(true);
  });

  it('refuses an environment without url, an unknown key, and a name that is no environment name', () => {
    expect(configSchema.safeParse({ database: { environments: { staging: {} } } }).success).toBe(false);
    expect(configSchema.safeParse({ database: { environments: { staging: { url: STAGING, uri: STAGING } } } }).success).toBe(false);
    expect(configSchema.safeParse({ database: { environments: { 'my env': { url: STAGING } } } }).success).toBe(false);
    expect(configSchema.safeParse({ database: { environments: { staging: { url: { env: 'not a name' } } } } }).success).toBe(false);
  });
});

describe("the migrate, backup and restore steps' env:", () => {
  const checklist = (...steps: string[]) =>
    [
      'id: a',
      'title: A',
      'params:',
      '  environment: {type: enum, choices: [staging, production], default: staging}',
      'steps:',
      ...steps,
      '',
    ].join('\n');
  const parse = (text: string) => parseChecklist({ id: 'a', file: 'a.yaml', text }, STEP_KINDS);

  it('describes the command with --env, the template filled in (what the dry run shows)', () => {
    const r = parse(
      checklist(
        '  - {id: up, title: Up, kind: migrate, action: upgrade, env: "${environment}"}',
        '  - {id: bk, title: Backup, kind: backup, env: production}',
        '  - {id: rs, title: Restore, kind: restore, backup: latest, env: "${environment}"}',
      ),
    );
    expect(r.diagnostics).toEqual([]);
    const describe = (kind: string, spec: Record<string, unknown>, params: Record<string, string> = {}) =>
      stepKindMap.get(kind)!.describe({ spec } as never, params);
    expect(describe('migrate', { action: 'upgrade', env: '${environment}' }, { environment: 'production' })).toBe(
      'cockpit migrate upgrade --on-failure revert-run --env production',
    );
    expect(describe('backup', { env: 'production' })).toMatch(/^cockpit db backup --env production \(/);
    expect(describe('restore', { backup: 'latest', env: '${environment}' }, { environment: 'staging' })).toMatch(
      /^cockpit db restore latest --env staging --jobs 2/,
    );
    // Without env: the one database, as before.
    expect(describe('migrate', { action: 'status' })).toBe('cockpit migrate status');
    expect(describe('backup', {})).toMatch(/^cockpit db backup \(/);
  });

  it('refuses a written env: that is no environment name, and a template naming no parameter', () => {
    const bad = parse(checklist('  - {id: bk, title: Backup, kind: backup, env: "prod uction"}'));
    expect(bad.diagnostics.map(formatDiagnostic).join('\n')).toMatch(/'prod uction' is not an environment name/);
    const unknown = parse(checklist('  - {id: up, title: Up, kind: migrate, action: upgrade, env: "${stage}"}'));
    expect(unknown.diagnostics.map(formatDiagnostic).join('\n')).toMatch(/'\$\{stage\}' names no parameter of this checklist/);
  });
});
