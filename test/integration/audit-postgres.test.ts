import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresAuditStore } from '../../src/audit/postgres.js';
import { bundleSha } from '../../src/core/checklist/bundle.js';
import { cockpit, cockpitAsync, jsonLines, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

const pgInfo = pgTest();

const CHECKLIST = `id: team
title: Team deploy
params:
  environment: {type: enum, choices: [staging, production], default: staging}
steps:
  - id: one
    title: One
    kind: run
    run: echo one >> ran.log; echo "output of one"
  - id: slow
    title: Slow
    kind: run
    run: echo slow >> ran.log; echo working; sleep "$(cat slow-seconds 2>/dev/null || echo 2)"
  - id: ok
    title: Confirm
    kind: confirm
`;

describe.skipIf(!pgInfo.url)(`the shared team store on PostgreSQL${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let url: string;
  beforeEach(async () => {
    repo = tempRepo({ team: CHECKLIST });
    url = await freshDatabase('audit');
  });
  afterEach(() => repo.cleanup());

  const c = (...args: string[]) => cockpit(['--repo', repo.dir, '--audit-url', url, ...args], { cwd: repo.dir });

  it('runs, lists, shows and verifies sessions with --audit-url postgres://…, schema migrated on open', async () => {
    const r = c('run', 'team', '--non-interactive', '--yes', 'all', '--json');
    expect(r.code, r.stderr).toBe(0);
    const printed = jsonLines(r.stdout);
    const list = JSON.parse(c('audit', 'list', '--json').stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ checklist: 'team', status: 'succeeded', operator: 'tester' });
    const shown = JSON.parse(c('audit', 'show', list[0].id, '--format', 'json').stdout);
    expect(shown.events.map((e: { hash: string }) => e.hash)).toEqual(printed.map((e) => e.hash));
    const v = c('audit', 'verify');
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(`1 session(s), ${printed.length} event(s) verified`);
    // nothing was written to a local SQLite file
    expect(c('audit', 'list').stdout).not.toMatch(/no sessions/);
    expect(cockpit(['--repo', repo.dir, 'audit', 'list']).stdout).toMatch(/no sessions yet/);
  });

  it('a session SIGKILLed mid-step resumes from the shared store', async () => {
    const child = cockpitAsync(['--repo', repo.dir, '--audit-url', url, 'run', 'team', '--non-interactive', '--yes', 'all', '--json'], {
      cwd: repo.dir,
    });
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('"working')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.on('exit', r));
    const id = JSON.parse(c('audit', 'list', '--json').stdout)[0].id;
    expect(JSON.parse(c('audit', 'list', '--json').stdout)[0].status).toBe('crashed (resumable)');
    const r = c('resume', id, '--non-interactive', '--yes', 'all', '--json');
    expect(r.code, r.stderr).toBe(0);
    const ev = jsonLines(r.stdout);
    expect(ev[1]).toMatchObject({ type: 'step.interrupted', stepId: 'slow' });
    expect(c('audit', 'verify', id).code).toBe(0);
  });

  it('an edited event in the shared store is caught by verify', async () => {
    expect(c('run', 'team', '--non-interactive', '--yes', 'all').code).toBe(0);
    const id = JSON.parse(c('audit', 'list', '--json').stdout)[0].id;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      `UPDATE events SET data = replace(data, 'output of one', 'output of 1') WHERE session_id = $1 AND type = 'step.output'`,
      [id],
    );
    const { rows } = await client.query(`SELECT seq FROM events WHERE session_id = $1 AND type = 'step.output' ORDER BY seq LIMIT 1`, [id]);
    await client.end();
    const v = c('audit', 'verify');
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`session ${id}, event #${rows[0].seq}: event #${rows[0].seq} (step.output) was edited`);
  });

  it('two writers appending to one session at once cannot fork its chain', async () => {
    const [a, b] = await Promise.all([PostgresAuditStore.open(url), PostgresAuditStore.open(url)]);
    const sources = { x: 'id: x\n' };
    await a.createSession(
      {
        id: 's-race',
        checklistId: 'x',
        checklistTitle: 'X',
        checklistText: sources.x,
        checklistSources: sources,
        checklistSha256: bundleSha(sources),
        params: {},
        environment: null,
        operator: 'o',
        host: 'h',
        startedAt: 1,
      },
      {
        type: 'session.started',
        data: {
          checklist: { id: 'x', title: 'X', sha256: bundleSha(sources) },
          origin: { file: 'x', byId: true },
          params: {},
          environment: null,
          operator: 'o',
          host: 'h',
          pid: 1,
          mode: 'non-interactive',
          version: '0',
          plan: [],
          scopes: {},
        },
      },
    );
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++)
      writes.push(
        (i % 2 ? a : b).append('s-race', [
          { type: 'note.added', data: { text: `note ${i}` } },
          { type: 'note.added', data: { text: `more ${i}` } },
        ]),
      );
    await Promise.all(writes);
    const events = await a.readEvents('s-race');
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 81 }, (_, i) => i + 1));
    const report = await b.verify('s-race');
    expect(report.problems).toEqual([]);
    expect(report.events).toBe(81);
    await Promise.all([a.close(), b.close()]);
  });

  it('a production deploy holds the environment lock for the whole team', async () => {
    repo.write('slow-seconds', '30'); // held until this test stops it, however slow the machine
    const child = cockpitAsync(
      [
        '--repo',
        repo.dir,
        '--audit-url',
        url,
        'run',
        'team',
        '-p',
        'environment=production',
        '--non-interactive',
        '--yes',
        'all',
        '--json',
      ],
      { cwd: repo.dir },
    );
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('"working') && resolve()));
    const other = c('run', 'team', '-p', 'environment=production', '--non-interactive', '--yes', 'all');
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /environment 'production' is in use by session \S+, run by tester@\S+, pid \d+, since \d\d:\d\d:\d\d UTC \(run team\)/,
    );
    // The holder's parameters are not the second operator's business (a secret one would be shown).
    expect(other.stderr).not.toContain('environment=production');
    // staging is free
    repo.write('slow-seconds', '0');
    expect(c('run', 'team', '--non-interactive', '--yes', 'all').code).toBe(0);
    // once the holder stops (SIGTERM: a clean stop), production is free again
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;
    expect(c('run', 'team', '-p', 'environment=production', '--non-interactive', '--yes', 'all').code).toBe(0);
  });

  it('a server that cannot be reached is a clear error, exit 1', () => {
    const r = cockpit(['--repo', repo.dir, '--audit-url', 'postgres://nobody:hunter2@127.0.0.1:1/none', 'audit', 'list'], {
      cwd: repo.dir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot open the audit log postgres:\/\/nobody:\[REDACTED\]@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
    expect(r.stderr).not.toContain('hunter2');
  });
});
