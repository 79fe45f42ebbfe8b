import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventHash } from '../../src/audit/hash.js';
import { type EventRow } from '../helpers/audit-rows.js';
import { cockpit, tempRepo } from '../helpers/cli.js';
import { freshDatabase, pgTest } from '../helpers/pg.js';

// The audit log proves it is complete, not only consistent: every session's head is anchored on git's
// refs/cockpit/audit (here and on the remote, the witness), and `audit verify` holds the store to those anchors.
// Each tamper below leaves a chain that is consistent on its own (the attacker recomputed what the chain covers):
// only the anchors give it away.

const pgInfo = pgTest();

const CHECKLIST = `id: t
title: Three steps
steps:
  - {id: a, title: A, kind: run, run: echo a}
  - {id: b, title: B, kind: run, run: echo b}
  - {id: c, title: C, kind: run, run: echo c}
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** Re-hash a session's events from `from` on, as an attacker with the database (and the code) can. */
function rechain(rows: EventRow[], from: number): EventRow[] {
  const out: EventRow[] = [];
  let prev = rows.find((r) => r.seq === from)!.prev_hash;
  for (const r of rows.filter((x) => x.seq >= from)) {
    const hash = eventHash(prev, {
      sessionId: r.session_id,
      seq: r.seq,
      time: r.time,
      type: r.type,
      stepId: r.step_id,
      actor: r.actor,
      data: JSON.parse(r.data),
    });
    out.push({ ...r, prev_hash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('audit anchors on refs/cockpit/audit (SQLite store)', () => {
  let repo: ReturnType<typeof tempRepo>;
  let origin: string;
  let ids: string[];
  const c = (...args: string[]) => cockpit(['--repo', repo.dir, ...args], { cwd: repo.dir });
  const db = () => new Database(path.join(repo.dir, '.cockpit', 'audit.db'));
  const verify = () => c('audit', 'verify');

  beforeEach(() => {
    repo = tempRepo({ t: CHECKLIST });
    origin = `${repo.dir}-origin.git`;
    git(repo.dir, 'init', '-q', '--bare', origin);
    git(repo.dir, 'remote', 'add', 'origin', origin);
    for (let i = 0; i < 2; i++) expect(c('run', 't', '--non-interactive').code).toBe(0);
    ids = (JSON.parse(c('audit', 'list', '--json').stdout) as Array<{ id: string }>).map((s) => s.id);
  });
  afterEach(() => {
    repo.cleanup();
    rmSync(origin, { recursive: true, force: true });
  });

  it('anchors every session here and on the remote, and verify says what it proved', () => {
    for (const id of ids) {
      expect(git(repo.dir, 'cat-file', '-p', `refs/cockpit/audit:${id}`)).toMatch(/^\d+ [0-9a-f]{64} sqlite:\.cockpit\/audit\.db$/);
      expect(git(origin, 'cat-file', '-p', `refs/cockpit/audit:${id}`)).toBe(git(repo.dir, 'cat-file', '-p', `refs/cockpit/audit:${id}`));
    }
    const v = verify();
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(
      /2 session\(s\), \d+ event\(s\) verified .*; 2 anchored on refs\/cockpit\/audit \(origin\), 0 not anchored; 0 signed/,
    );
  });

  it("moving to another store does not make the old store's sessions 'deleted'; deleting the store in use still does", () => {
    const other = path.join(repo.dir, 'team audit.db');
    const moved = (...args: string[]) => cockpit(['--repo', repo.dir, '--audit-url', other, ...args], { cwd: repo.dir });
    expect(moved('run', 't', '--non-interactive').code).toBe(0);
    const [newId] = (JSON.parse(moved('audit', 'list', '--json').stdout) as Array<{ id: string }>).map((s) => s.id);
    expect(git(repo.dir, 'cat-file', '-p', `refs/cockpit/audit:${newId}`)).toMatch(/ sqlite:team%20audit\.db$/);
    let v = moved('audit', 'verify');
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(
      /1 session\(s\).*1 anchored on refs\/cockpit\/audit \(origin\).*; 2 anchored for another store \(sqlite:\.cockpit\/audit\.db\), not checked here/,
    );
    // The first store is still held to its own anchors, and the new one to its.
    expect(verify().code).toBe(0);
    rmSync(other);
    v = moved('audit', 'verify');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(new RegExp(`session ${newId}: anchored in git .* missing from the store`));
  });

  it('a deleted audit database is caught: the anchored sessions are missing', () => {
    rmSync(path.join(repo.dir, '.cockpit'), { recursive: true, force: true });
    const v = verify();
    expect(v.code).toBe(1);
    for (const id of ids)
      expect(v.stdout).toMatch(new RegExp(`session ${id}: anchored in git .* but the session is missing from the store`));
  });

  it('an emptied database, and one whole session deleted, are caught', () => {
    const d = db();
    d.prepare('DELETE FROM events WHERE session_id = ?').run(ids[0]);
    d.prepare('DELETE FROM sessions WHERE id = ?').run(ids[0]);
    d.close();
    let v = verify();
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(new RegExp(`session ${ids[0]}: anchored in git .* missing from the store: it was deleted`));
    const e = db();
    e.exec('DELETE FROM events; DELETE FROM sessions;');
    e.close();
    v = verify();
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(new RegExp(`session ${ids[1]}: anchored in git`));
  });

  it('a tail cut off with the head moved back (a consistent shorter chain) is caught', () => {
    const d = db();
    const rows = d.prepare('SELECT * FROM events WHERE session_id = ? ORDER BY seq').all(ids[0]) as EventRow[];
    const keep = rows.at(-4)!;
    d.prepare('DELETE FROM events WHERE session_id = ? AND seq > ?').run(ids[0], keep.seq);
    d.prepare('UPDATE sessions SET last_seq = ?, last_hash = ?, outcome = NULL, ended_at = NULL WHERE id = ?').run(
      keep.seq,
      keep.hash,
      ids[0],
    );
    d.close();
    const v = verify();
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(
      new RegExp(`session ${ids[0]}, event #${keep.seq + 1}: events #${keep.seq + 1}–#${rows.at(-1)!.seq} are missing`),
    );
  });

  it('an edit with the chain recomputed is caught; rewriting the local anchor too is still caught by the remote', () => {
    const d = db();
    const rows = d.prepare('SELECT * FROM events WHERE session_id = ? ORDER BY seq').all(ids[0]) as EventRow[];
    const out = rows.find((r) => r.type === 'step.output')!;
    out.data = JSON.stringify({ stream: 'stdout', text: 'all fine\n' });
    const redone = rechain(rows, out.seq);
    const upd = d.prepare('UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE session_id = ? AND seq = ?');
    for (const r of redone) upd.run(r.data, r.prev_hash, r.hash, r.session_id, r.seq);
    d.prepare('UPDATE sessions SET last_hash = ? WHERE id = ?').run(redone.at(-1)!.hash, ids[0]);
    d.close();
    let v = verify();
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/is not the event anchored in git \(refs\/cockpit\/audit\): the chain was rewritten after it was anchored/);
    // The attacker has the repository too: the local anchor is rewritten to the new head (without the key to
    // the remote, which keeps its own).
    const last = redone.at(-1)!;
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], {
      cwd: repo.dir,
      input: `${last.seq} ${last.hash}\n`,
      encoding: 'utf8',
    }).trim();
    const entries = git(repo.dir, 'ls-tree', 'refs/cockpit/audit')
      .split('\n')
      .map((l) => (l.endsWith(`\t${ids[0]}`) ? `100644 blob ${blob}\t${ids[0]}` : l));
    const tree = execFileSync('git', ['mktree'], { cwd: repo.dir, input: entries.join('\n') + '\n', encoding: 'utf8' }).trim();
    const forged = execFileSync('git', ['-c', 'user.name=m', '-c', 'user.email=m@x', 'commit-tree', tree, '-m', 'forged'], {
      cwd: repo.dir,
      encoding: 'utf8',
    }).trim();
    git(repo.dir, 'update-ref', 'refs/cockpit/audit', forged);
    v = verify();
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/is not the event anchored in git/);
  });
});

const sshKeygen = spawnSync('sh', ['-c', 'command -v ssh-keygen'], { encoding: 'utf8' }).stdout.trim();
const noSsh = sshKeygen ? '' : ' (skipped: no ssh-keygen; .ci/run installs openssh-client)';

describe.skipIf(!sshKeygen)(`signed anchors${noSsh}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  const c = (...args: string[]) => cockpit(['--repo', repo.dir, ...args], { cwd: repo.dir });
  const key = (name: string) => {
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-f',
      path.join(repo.dir, '..', `${path.basename(repo.dir)}-${name}`),
      '-C',
      name,
    ]);
    return path.join(repo.dir, '..', `${path.basename(repo.dir)}-${name}`);
  };
  /** Point refs/cockpit/audit at a copy of its newest commit, made by someone else (signed with `signWith`, or not). */
  const forge = (signWith?: string) => {
    const tree = git(repo.dir, 'rev-parse', 'refs/cockpit/audit^{tree}');
    const sign = signWith ? ['-c', 'gpg.format=ssh', '-c', `user.signingKey=${signWith}`] : [];
    const commit = execFileSync(
      'git',
      [...sign, '-c', 'user.name=m', '-c', 'user.email=m@x', 'commit-tree', tree, ...(signWith ? ['-S'] : []), '-m', 'forged'],
      {
        cwd: repo.dir,
        encoding: 'utf8',
      },
    ).trim();
    git(repo.dir, 'update-ref', 'refs/cockpit/audit', commit);
  };

  beforeEach(() => {
    repo = tempRepo({ t: CHECKLIST });
    const signing = key('anchors');
    writeFileSync(path.join(repo.dir, 'allowed_signers'), `anchors ${readFileSync(`${signing}.pub`, 'utf8')}`);
    repo.write('cockpit.config.yaml', `audit:\n  signingKey: ${signing}\n  allowedSigners: allowed_signers\n`);
    expect(c('run', 't', '--non-interactive').code).toBe(0);
  });
  afterEach(() => {
    for (const name of ['anchors', 'other'])
      for (const ext of ['', '.pub']) rmSync(path.join(repo.dir, '..', `${path.basename(repo.dir)}-${name}${ext}`), { force: true });
    repo.cleanup();
  });

  it('signs every anchor with the configured key; verify checks it, and refuses a rewritten ref unsigned or signed by another key', () => {
    expect(git(repo.dir, 'cat-file', 'commit', 'refs/cockpit/audit')).toMatch(/^gpgsig -----BEGIN SSH SIGNATURE-----/m);
    let v = c('audit', 'verify');
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/1 anchored on refs\/cockpit\/audit, 0 not anchored \(no remote 'origin'\); 1 signed/);
    forge();
    v = c('audit', 'verify');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/✖ the anchors: refs\/cockpit\/audit \(\w+\) is not signed, though audit\.allowedSigners is set/);
    forge(key('other'));
    v = c('audit', 'verify');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/the signature of the newest anchor does not verify against/);
  });
});

describe.skipIf(!pgInfo.url)(`audit anchors on the PostgreSQL store${pgInfo.skipReason}`, () => {
  let repo: ReturnType<typeof tempRepo>;
  let url: string;
  const c = (...args: string[]) => cockpit(['--repo', repo.dir, '--audit-url', url, ...args], { cwd: repo.dir });

  beforeEach(async () => {
    url = await freshDatabase('anchors');
    repo = tempRepo({ t: CHECKLIST });
    expect(c('run', 't', '--non-interactive').code).toBe(0);
  });
  afterEach(() => repo.cleanup());

  it('each tamper class is caught on the team store too: an edit, a reorder, an event after the end, an edited title, a recomputed chain', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rowsOf = async (id: string) =>
      (await client.query<EventRow>('SELECT * FROM events WHERE session_id = $1 ORDER BY seq', [id])).rows;
    /** A new session, tampered with by `how`, then verify's line for it. */
    const tampered = async (how: (id: string, rows: EventRow[]) => Promise<void>) => {
      expect(c('run', 't', '--non-interactive').code).toBe(0);
      const [{ id }] = JSON.parse(c('audit', 'list', '--json').stdout) as Array<{ id: string }>;
      await how(id, await rowsOf(id));
      const v = c('audit', 'verify');
      expect(v.code).toBe(1);
      return v.stdout.split('\n').find((l) => l.includes(`session ${id}`)) ?? '';
    };
    try {
      const output = (rows: EventRow[]) => rows.find((r) => r.type === 'step.output')!;
      expect(
        await tampered(async (id, rows) => {
          await client.query('UPDATE events SET data = $1 WHERE session_id = $2 AND seq = $3', [
            '{"stream":"stdout","text":"fine\\n"}',
            id,
            output(rows).seq,
          ]);
        }),
      ).toMatch(/was edited: its hash does not match its contents/);
      expect(
        await tampered(async (id, rows) => {
          const [x, y] = rows.filter((r) => r.type === 'step.output').map((r) => r.seq);
          await client.query('UPDATE events SET seq = -1 WHERE session_id = $1 AND seq = $2', [id, x]);
          await client.query('UPDATE events SET seq = $1 WHERE session_id = $2 AND seq = $3', [x, id, y]);
          await client.query('UPDATE events SET seq = $1 WHERE session_id = $2 AND seq = -1', [y, id]);
        }),
      ).toMatch(/events were reordered, replaced or inserted/);
      expect(
        await tampered(async (id, rows) => {
          const last = rows.at(-1)!;
          const e = {
            sessionId: id,
            seq: last.seq + 1,
            time: Number(last.time) + 1,
            type: 'step.passed',
            stepId: 'a',
            actor: 'cockpit',
            data: { via: 'command' },
          };
          const hash = eventHash(last.hash, e);
          await client.query(
            'INSERT INTO events (session_id, seq, time, type, step_id, actor, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
            [id, e.seq, e.time, e.type, e.stepId, e.actor, JSON.stringify(e.data), last.hash, hash],
          );
          await client.query('UPDATE sessions SET last_seq = $1, last_hash = $2 WHERE id = $3', [e.seq, hash, id]);
        }),
      ).toMatch(/was recorded after the session finished/);
      expect(
        await tampered(async (id) => {
          await client.query("UPDATE sessions SET checklist_title = 'Harmless' WHERE id = $1", [id]);
        }),
      ).toMatch(/its checklist title does not match event #1/);
      expect(
        await tampered(async (id, rows) => {
          const out = output(rows);
          out.data = JSON.stringify({ stream: 'stdout', text: 'all fine\n' });
          const redone = rechain(
            rows.map((r) => ({ ...r, time: Number(r.time) })),
            out.seq,
          );
          for (const r of redone)
            await client.query('UPDATE events SET data = $1, prev_hash = $2, hash = $3 WHERE session_id = $4 AND seq = $5', [
              r.data,
              r.prev_hash,
              r.hash,
              id,
              r.seq,
            ]);
          await client.query('UPDATE sessions SET last_hash = $1 WHERE id = $2', [redone.at(-1)!.hash, id]);
        }),
      ).toMatch(/is not the event anchored in git/);
    } finally {
      await client.end();
    }
  });

  it('a deleted session and a cut tail are caught against the anchors (no remote: said so)', async () => {
    const [{ id }] = JSON.parse(c('audit', 'list', '--json').stdout) as Array<{ id: string }>;
    let v = c('audit', 'verify');
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/1 anchored on refs\/cockpit\/audit, 0 not anchored \(no remote 'origin'\); 0 signed/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = (await client.query<EventRow>('SELECT * FROM events WHERE session_id = $1 ORDER BY seq', [id])).rows;
      const keep = rows.at(-3)!;
      await client.query('DELETE FROM events WHERE session_id = $1 AND seq > $2', [id, keep.seq]);
      await client.query('UPDATE sessions SET last_seq = $1, last_hash = $2, outcome = NULL, ended_at = NULL WHERE id = $3', [
        keep.seq,
        keep.hash,
        id,
      ]);
      v = c('audit', 'verify');
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(/are missing: the log ends at #\d+ but #\d+ was anchored in git/);
      await client.query('DELETE FROM events WHERE session_id = $1', [id]);
      await client.query('DELETE FROM sessions WHERE id = $1', [id]);
      v = c('audit', 'verify');
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(/missing from the store: it was deleted/);
    } finally {
      await client.end();
    }
  });
});
