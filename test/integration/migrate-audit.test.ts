import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// A migration run straight from the command line changes a shared database: the audit log must say who ran what,
// with which overrides and why, what it printed and how it ended, and never the database password.

const pgInfo = pgTest();

describe.skipIf(!pgInfo.url)(`cockpit migrate from the command line, in the audit log${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let url: string;
  const env = { COCKPIT_OPERATOR: 'alice', COCKPIT_SESSION: '' };
  const run = (...args: string[]) => cockpit(['--repo', repo.dir, 'migrate', ...args, '--database-url', url], { cwd: repo.dir, env });
  const audit = (...args: string[]) => cockpit(['--repo', repo.dir, 'audit', ...args], { cwd: repo.dir, env });
  const sessions = () => JSON.parse(audit('list', '--json').stdout || '[]') as Array<{ id: string; checklist: string; status: string }>;
  const output = (events: Array<{ type: string; data: { text?: string } }>) =>
    events
      .filter((e) => e.type === 'step.output')
      .map((e) => e.data.text)
      .join('');
  const write = (name: string, text: string) => {
    mkdirSync(path.join(repo.dir, 'migrations'), { recursive: true });
    writeFileSync(path.join(repo.dir, 'migrations', name), text);
  };

  beforeEach(async () => {
    repo = tempRepo();
    // A password in the URL (the test cluster trusts loopback, so any password connects): it must not reach the log.
    const u = new URL(await freshDatabase('migrate_audit'));
    u.password = 's3cr3t-pw';
    url = u.toString();
  });
  afterEach(() => repo.cleanup());

  it('an upgrade with an override is a session: the flags, the reason, the output, succeeded; the password nowhere', () => {
    write(
      '20260101000000_listings.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE listings (id bigint primary key, city text);\n-- migrate:down\nDROP TABLE listings;\n",
    );
    write(
      '20260101000100_drop_city.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nALTER TABLE listings DROP COLUMN city;\n-- migrate:down\nALTER TABLE listings ADD COLUMN city text;\n",
    );
    const up = run('upgrade', '--allow-unsafe', 'city is unused since v1.2 (checked in logs)');
    expect(up.code, up.stderr).toBe(0);
    const list = sessions();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ checklist: 'cockpit-migrate-upgrade', status: 'succeeded' });
    const json = audit('show', list[0].id, '--format', 'json').stdout;
    const log = JSON.parse(json) as {
      session: { operator: string; notes: Array<{ text: string }> };
      events: Array<{ type: string; data: { text?: string } }>;
    };
    expect(log.session.operator).toBe('alice');
    expect(log.session.notes.map((n) => n.text)).toContain(
      'lint errors may be overridden (--allow-unsafe): city is unused since v1.2 (checked in logs)',
    );
    const printed = output(log.events);
    expect(printed).toMatch(/✖ error drop-column/);
    expect(printed).toMatch(/lint errors overridden by alice: city is unused since v1.2/);
    expect(printed).toMatch(/✔ 20260101000100 applied in/);
    expect(json).not.toContain('s3cr3t-pw');
    const verify = audit('verify');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('a failed upgrade ends the session as failed with the error; it cannot be resumed, and says why', () => {
    write(
      '20260101000000_broken.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE t (id int);\nSELECT no_such_function();\n-- migrate:down\nDROP TABLE t;\n",
    );
    const up = run('upgrade');
    expect(up.code).toBe(1);
    const [s] = sessions();
    expect(s).toMatchObject({ checklist: 'cockpit-migrate-upgrade', status: 'failed' });
    const show = audit('show', s.id).stdout;
    expect(show).toMatch(/step 'run' FAILED/);
    expect(show).toMatch(/statement 3 of 3 .* failed: function no_such_function\(\) does not exist/);
    const resume = cockpit(['--repo', repo.dir, 'resume', s.id, '--non-interactive'], { cwd: repo.dir, env });
    expect(resume.code).not.toBe(0);
    expect(resume.stderr).toMatch(/already finished \(failed\); there is nothing to resume/);
  });

  it('a command refused at once (bad flags) records nothing; --sql and status, which change nothing, record nothing', () => {
    write(
      '20260101000000_listings.sql',
      "-- migrate:up\nSET lock_timeout = '5s';\nCREATE TABLE listings (id bigint primary key);\n-- migrate:down\nDROP TABLE listings;\n",
    );
    expect(run('downgrade', '--steps', 'zero').code).toBe(2);
    expect(run('upgrade', '--sql').code).toBe(0);
    expect(run('status').code).toBe(0);
    expect(sessions()).toHaveLength(0);
    expect(run('upgrade').code).toBe(0);
    expect(run('downgrade', '-1').code).toBe(0);
    expect(
      sessions()
        .map((s) => `${s.checklist} ${s.status}`)
        .sort(),
    ).toEqual(['cockpit-migrate-downgrade succeeded', 'cockpit-migrate-upgrade succeeded']);
  });
});
