/**
 * Tamper-evidence of the audit log, end to end: real sessions written by the real CLI, then the SQLite file
 * is edited with a plain SQLite client (as an attacker with write access to the file would), then
 * `cockpit audit verify` must say so. Assertions are on what a user sees: exit code and output.
 */
import Database from 'better-sqlite3';
import { cpSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventHash, type HashedEvent } from '../../src/audit/hash.js';
import { bundleSha } from '../../src/core/checklist/bundle.js';
import type { AuditEvent } from '../../src/core/events.js';
import { appendForged, type EventRow } from '../helpers/audit-rows.js';
import { cockpit, tempRepo, type CliResult } from '../helpers/cli.js';

const CHECKLIST = `id: x
title: Tamper test
steps:
  - id: hello
    title: Say hello
    kind: run
    run: echo hello; echo secret=abc
    timeout: 30s
  - id: ok
    title: Confirm it
    kind: confirm
    prompt: "All good?"
  - id: bye
    title: Say bye
    kind: run
    run: echo bye
    timeout: 30s
`;

/*
 * Every session of this checklist is, in order:
 *  #1 session.started  #2 step.started  #3 step.spawned  #4 step.output (the "hello" text)  #5 step.passed
 *  #6 step.started  #7 step.confirmed  #8 step.passed  #9 step.started  #10 step.spawned  #11 step.output
 *  #12 step.passed  #13 session.finished
 * beforeAll checks that layout, so a change in the engine fails loudly here rather than in a confusing way below.
 */
const LAYOUT = [
  'session.started',
  'step.started',
  'step.spawned',
  'step.output',
  'step.passed',
  'step.started',
  'step.confirmed',
  'step.passed',
  'step.started',
  'step.spawned',
  'step.output',
  'step.passed',
  'session.finished',
];
const PER_SESSION = LAYOUT.length;

let base: { dir: string; cleanup(): void };
/** The first and the second session, in the order they ran. */
let s1: string;
let s2: string;

let repo: { dir: string; cleanup(): void };
let dbFile: string;

const listIds = (dir: string): string[] => {
  const r = cockpit(['--repo', dir, 'audit', 'list', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Array<{ id: string }>).map((s) => s.id);
};

const runChecklist = (dir: string) => {
  const r = cockpit(['--repo', dir, 'run', 'x', '--non-interactive', '--yes', 'all'], { cwd: dir });
  expect(r.code, r.stdout + r.stderr).toBe(0);
};

/** Open the audit file with a plain SQLite client, do something to it, close it. */
function tamper(fn: string | ((db: Database.Database) => void)): void {
  const db = new Database(dbFile);
  try {
    if (typeof fn === 'string') db.exec(fn);
    else fn(db);
  } finally {
    db.close();
  }
}

const verify = (...args: string[]): CliResult => cockpit(['--repo', repo.dir, 'audit', 'verify', ...args], { cwd: repo.dir });

/** The problem lines of a failed verify (one per session with problems). */
const problemLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('✖'));

function expectOneProblem(r: CliResult, sessionId: string, text: string | RegExp): string {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toBe('');
  const lines = problemLines(r.stdout);
  expect(lines, r.stdout).toHaveLength(1);
  expect(lines[0]).toContain(`session ${sessionId}`);
  if (typeof text === 'string') expect(lines[0]).toContain(text);
  else expect(lines[0]).toMatch(text);
  expect(r.stdout).toContain('audit log verification FAILED: 1 session(s) with problems');
  expect(r.stdout).not.toContain('intact');
  return lines[0];
}

beforeAll(() => {
  base = tempRepo({ x: CHECKLIST });
  runChecklist(base.dir);
  [s1] = listIds(base.dir);
  runChecklist(base.dir);
  s2 = listIds(base.dir).find((id) => id !== s1)!;
  expect(s1).toBeTruthy();
  expect(s2).toBeTruthy();
  // Fold any WAL into the main file so a copy of the folder is the whole log.
  const db = new Database(path.join(base.dir, '.cockpit', 'audit.db'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  for (const id of [s1, s2]) {
    const types = (db.prepare('SELECT type FROM events WHERE session_id = ? ORDER BY seq').all(id) as Array<{ type: string }>).map(
      (r) => r.type,
    );
    expect(types, `event layout of session ${id}`).toEqual(LAYOUT);
  }
  db.close();
});

afterAll(() => base?.cleanup());

beforeEach(() => {
  repo = tempRepo({ x: CHECKLIST });
  cpSync(path.join(base.dir, '.cockpit'), path.join(repo.dir, '.cockpit'), { recursive: true });
  dbFile = path.join(repo.dir, '.cockpit', 'audit.db');
});

afterEach(() => repo?.cleanup());

describe('audit verify on an untouched log', () => {
  it('says intact, with the number of sessions and events, and exits 0', () => {
    const r = verify();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`✔ audit log intact: 2 session(s), ${2 * PER_SESSION} event(s) verified in ${dbFile}`);
    expect(r.stderr).toBe('');
  });

  it('--json says ok with no problems', () => {
    const r = verify('--json');
    expect(r.code).toBe(0);
    // The log was copied into a repository that never anchored it: intact, and said to be unanchored.
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      sessions: 2,
      events: 2 * PER_SESSION,
      problems: [],
      anchored: 0,
      notAnchored: 2,
      witness: { remote: null, why: "no remote 'origin'", otherStores: {} },
      signed: 0,
    });
  });
});

describe('edited events', () => {
  it('changing the output text of an event names the session and the event, and says it was edited', () => {
    tamper(`UPDATE events SET data = replace(data, 'hello', 'HELLO, all fine') WHERE session_id = '${s1}' AND seq = 4`);
    const r = verify();
    expectOneProblem(r, s1, `session ${s1}, event #4: event #4 (step.output) was edited: its hash does not match its contents`);
    expect(r.stdout).not.toContain(s2);
    expect(r.stdout).toContain('2 checked');
  });

  it('changing the data of event #5 names event #5', () => {
    tamper(`UPDATE events SET data = json_set(data, '$.exitCode', 1) WHERE session_id = '${s1}' AND seq = 5`);
    expectOneProblem(verify(), s1, `session ${s1}, event #5: event #5 (step.passed) was edited: its hash does not match its contents`);
  });

  it('data that is no longer JSON is reported as edited', () => {
    tamper(`UPDATE events SET data = '{"stream":"stdout","text":' WHERE session_id = '${s1}' AND seq = 4`);
    expectOneProblem(verify(), s1, 'event #4: event #4 (step.output) was edited: its data is not valid JSON');
  });

  it.each([
    ['actor', 7, `actor = 'mallory'`, 'step.confirmed'],
    ['time', 12, `time = time - 3600000`, 'step.passed'],
    ['type', 8, `type = 'step.skipped'`, 'step.skipped'],
    ['step_id', 9, `step_id = 'ok'`, 'step.started'],
  ])('changing the %s of event #%i names that event', (_col, seq, set, shownType) => {
    tamper(`UPDATE events SET ${set} WHERE session_id = '${s2}' AND seq = ${seq}`);
    const r = verify();
    expectOneProblem(r, s2, `session ${s2}, event #${seq}: event #${seq} (${shownType}) was edited: its hash does not match its contents`);
    expect(r.stdout).not.toContain(s1);
  });
});

describe('deleted, reordered and inserted events', () => {
  it('deleting a middle event names the missing seq', () => {
    tamper(`DELETE FROM events WHERE session_id = '${s1}' AND seq = 6`);
    expectOneProblem(verify(), s1, `session ${s1}, event #6: event #6 is missing (deleted): the next stored event is #7`);
  });

  it('deleting the last events of a session (tail truncation) says events were deleted', () => {
    tamper(`DELETE FROM events WHERE session_id = '${s1}' AND seq >= 12`);
    expectOneProblem(verify(), s1, `event #12: events #12–#13 were deleted: the log ends at #11 but the session's head says #13`);
  });

  it('deleting only the very last event is caught too', () => {
    tamper(`DELETE FROM events WHERE session_id = '${s2}' AND seq = ${PER_SESSION}`);
    expectOneProblem(verify(), s2, `events #${PER_SESSION}–#${PER_SESSION} were deleted`);
  });

  it('deleting every event of a session is caught', () => {
    tamper(`DELETE FROM events WHERE session_id = '${s1}'`);
    expectOneProblem(verify(), s1, `events #1–#${PER_SESSION} were deleted: the log ends at #0`);
  });

  it('swapping the seq numbers of two adjacent events names the first of them', () => {
    tamper(`
      UPDATE events SET seq = -1 WHERE session_id = '${s1}' AND seq = 4;
      UPDATE events SET seq = 4 WHERE session_id = '${s1}' AND seq = 5;
      UPDATE events SET seq = 5 WHERE session_id = '${s1}' AND seq = -1;
    `);
    expectOneProblem(
      verify(),
      s1,
      `session ${s1}, event #4: event #4 (step.passed) does not follow event #3: events were reordered, replaced or inserted`,
    );
  });

  it('an event appended after session.finished, head moved along, is caught: a finished session takes only notes', () => {
    tamper((db) => {
      const last = db.prepare('SELECT * FROM events WHERE session_id = ? AND seq = ?').get(s1, PER_SESSION) as EventRow;
      const e: AuditEvent = {
        sessionId: s1,
        seq: PER_SESSION + 1,
        time: last.time + 1,
        type: 'step.output',
        stepId: 'bye',
        actor: 'cockpit',
        data: { stream: 'stdout', text: 'forged\n' },
      };
      appendForged(db, e, true);
    });
    expectOneProblem(
      verify(),
      s1,
      `event #${PER_SESSION + 1}: event #${PER_SESSION + 1} (step.output) was recorded after the session finished (event #${PER_SESSION})`,
    );
  });

  it('an event copied in from the other session is caught', () => {
    tamper(`
      UPDATE events SET data = (SELECT data FROM events WHERE session_id = '${s2}' AND seq = 4),
                        time = (SELECT time FROM events WHERE session_id = '${s2}' AND seq = 4),
                        prev_hash = (SELECT prev_hash FROM events WHERE session_id = '${s2}' AND seq = 4),
                        hash = (SELECT hash FROM events WHERE session_id = '${s2}' AND seq = 4)
      WHERE session_id = '${s1}' AND seq = 4;
    `);
    expectOneProblem(verify(), s1, 'event #4: event #4 (step.output) does not follow event #3');
  });

  it('an event appended at the end without moving the session head is caught', () => {
    tamper((db) => {
      const last = db.prepare('SELECT * FROM events WHERE session_id = ? AND seq = ?').get(s1, PER_SESSION) as EventRow;
      // A note: the one kind of event a finished session takes, so only the head can give it away.
      const e: AuditEvent = {
        sessionId: s1,
        seq: PER_SESSION + 1,
        time: last.time + 1,
        type: 'note.added',
        stepId: null,
        actor: 'mallory',
        data: { text: 'forged' },
      };
      appendForged(db, e, false);
    });
    expectOneProblem(
      verify(),
      s1,
      `event #${PER_SESSION + 1}: the session's head (#${PER_SESSION}) does not match its last event (#${PER_SESSION + 1})`,
    );
  });
});

describe('edited or deleted session rows', () => {
  it.each([
    [
      'params',
      `params = '{"version":"9.9.9"}'`,
      `event #1: event #1 (session.started) does not chain to the session row: the session's header (checklist, params, operator) was edited`,
    ],
    ['operator', `operator = 'mallory'`, `event #1: event #1 (session.started) does not chain to the session row`],
    ['host', `host = 'elsewhere'`, `event #1: event #1 (session.started) does not chain to the session row`],
    ['started_at', `started_at = started_at - 86400000`, `event #1: event #1 (session.started) does not chain to the session row`],
    [
      'checklist_text',
      `checklist_text = replace(checklist_text, 'echo bye', 'echo bye; rm -rf /tmp/x')`,
      'session row was edited: the stored checklist text does not match its sources',
    ],
    // Not in the genesis hash, but held against event #1 (session.started), which the chain covers.
    [
      'checklist_title',
      `checklist_title = 'Harmless'`,
      'session row was edited: its checklist title does not match event #1 (session.started)',
    ],
    ['params (not JSON)', `params = '{version'`, 'session row was edited: its JSON columns do not parse'],
    [
      'last_hash',
      `last_hash = '${'0'.repeat(64)}'`,
      `event #${PER_SESSION}: the session's head (#${PER_SESSION}) does not match its last event (#${PER_SESSION})`,
    ],
    ['last_seq', `last_seq = last_seq - 1`, `the session's head (#${PER_SESSION - 1}) does not match its last event (#${PER_SESSION})`],
  ])('editing %s of the sessions row is caught', (_what, set, text) => {
    tamper(`UPDATE sessions SET ${set} WHERE id = '${s1}'`);
    const line = expectOneProblem(verify(), s1, text);
    expect(line).toContain(`session ${s1}`);
  });

  it('rewriting checklist text, sources and sha256 together still breaks the chain at event #1', () => {
    tamper((db) => {
      const row = db.prepare('SELECT checklist_text, checklist_sources FROM sessions WHERE id = ?').get(s1) as {
        checklist_text: string;
        checklist_sources: string;
      };
      const text = row.checklist_text.replace('echo bye', 'echo bye; rm -rf /tmp/x');
      const sources = { ...JSON.parse(row.checklist_sources), x: text };
      db.prepare('UPDATE sessions SET checklist_text = ?, checklist_sources = ?, checklist_sha256 = ? WHERE id = ?').run(
        text,
        JSON.stringify(sources),
        bundleSha(sources),
        s1,
      );
    });
    expectOneProblem(verify(), s1, `event #1: event #1 (session.started) does not chain to the session row`);
  });

  it("editing the session's recorded outcome (what `audit list` shows as its status) is caught", () => {
    tamper(`UPDATE sessions SET outcome = 'aborted' WHERE id = '${s1}'`);
    const list = JSON.parse(cockpit(['--repo', repo.dir, 'audit', 'list', '--json'], { cwd: repo.dir }).stdout) as Array<{
      id: string;
      status: string;
    }>;
    expect(list.find((s) => s.id === s1)?.status).toBe('aborted'); // what the tampered row now claims
    expectOneProblem(
      verify(),
      s1,
      `session ${s1}, event #${PER_SESSION}: session row was edited: its outcome 'aborted' does not match event #${PER_SESSION} (session.finished): 'succeeded'`,
    );
  });

  it("clearing the session's outcome (so it looks unfinished and resumable) is caught", () => {
    tamper(`UPDATE sessions SET outcome = NULL, ended_at = NULL WHERE id = '${s2}'`);
    expectOneProblem(
      verify(),
      s2,
      `event #${PER_SESSION}: session row was edited: its outcome 'none' does not match event #${PER_SESSION} (session.finished): 'succeeded'`,
    );
  });

  it("editing the session's end time (what `audit list` shows as TOOK) is caught", () => {
    tamper(`UPDATE sessions SET ended_at = ended_at + 3600000 WHERE id = '${s1}'`);
    expectOneProblem(
      verify(),
      s1,
      `event #${PER_SESSION}: session row was edited: its end time does not match event #${PER_SESSION} (session.finished)`,
    );
  });

  it('deleting the sessions row but leaving its events is caught', () => {
    tamper(`DELETE FROM sessions WHERE id = '${s1}'`);
    const r = verify();
    expectOneProblem(r, s1, `session ${s1}: the session row was deleted but its events remain`);
    expect(r.stdout).toContain('1 checked');
  });
});

describe('a damaged database file', () => {
  it('cut to half its size: exits 1 with a clear message and no stack trace', () => {
    tamper((db) => db.pragma('wal_checkpoint(TRUNCATE)'));
    const size = statSync(dbFile).size;
    expect(size).toBeGreaterThan(4096);
    truncateSync(dbFile, Math.floor(size / 2));
    for (const r of [verify(), verify('--json')]) {
      expect(r.code).toBe(1);
      const all = r.stdout + r.stderr;
      expect(all).toMatch(/cannot open the audit log .*audit\.db: (database disk image is malformed|file is not a database)/);
      expect(all).not.toContain('internal error');
      expect(all).not.toMatch(/^\s+at /m);
      expect(all).not.toContain('intact');
    }
  });
});

describe('verifying one session', () => {
  beforeEach(() => tamper(`UPDATE events SET data = replace(data, 'hello', 'HELLO') WHERE session_id = '${s1}' AND seq = 4`));

  it('the tampered session alone: reports only that session', () => {
    const r = verify(s1);
    expectOneProblem(r, s1, 'event #4: event #4 (step.output) was edited');
    expect(r.stdout).toContain('1 session(s) with problems, 1 checked');
    expect(r.stdout).not.toContain(s2);
  });

  it('the untouched session alone: verifies clean', () => {
    const r = verify(s2);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`✔ audit log intact: 1 session(s), ${PER_SESSION} event(s) verified`);
    expect(r.stdout).not.toContain(s1);
  });

  it('the whole log: still fails because of the first session', () => {
    expectOneProblem(verify(), s1, 'event #4');
  });
});

describe('audit verify --json', () => {
  it('gives {ok:false, problems:[{sessionId, seq, message}]}', () => {
    tamper(`UPDATE events SET data = replace(data, 'hello', 'HELLO') WHERE session_id = '${s1}' AND seq = 4`);
    const r = verify('--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ ok: false, sessions: 2 });
    expect(report.problems).toEqual([
      { sessionId: s1, seq: 4, message: 'event #4 (step.output) was edited: its hash does not match its contents' },
    ]);
  });

  it('a deleted session row gives seq null', () => {
    tamper(`DELETE FROM sessions WHERE id = '${s2}'`);
    const r = verify('--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      problems: [{ sessionId: s2, seq: null, message: 'the session row was deleted but its events remain' }],
    });
  });
});

describe('the recompute attack (what a hash chain without an external anchor can and cannot catch)', () => {
  /** Rewrite event `seq` of s1 with new data and a freshly computed hash. Optionally re-chain everything after it. */
  function forge(db: Database.Database, seq: number, newData: unknown, rechainTail: boolean) {
    const rows = db.prepare('SELECT * FROM events WHERE session_id = ? AND seq >= ? ORDER BY seq').all(s1, seq) as EventRow[];
    let prev = rows[0].prev_hash;
    const update = db.prepare('UPDATE events SET data = ?, prev_hash = ?, hash = ? WHERE session_id = ? AND seq = ?');
    for (const [i, row] of rows.entries()) {
      if (i > 0 && !rechainTail) break;
      const data = i === 0 ? newData : JSON.parse(row.data);
      const e: HashedEvent = {
        sessionId: row.session_id,
        seq: row.seq,
        time: row.time,
        type: row.type,
        stepId: row.step_id,
        actor: row.actor,
        data,
      };
      const h = eventHash(prev, e);
      update.run(JSON.stringify(data), prev, h, row.session_id, row.seq);
      prev = h;
    }
    if (rechainTail) db.prepare('UPDATE sessions SET last_hash = ? WHERE id = ?').run(prev, s1);
  }

  it("an edited event whose own hash is recomputed is still caught: the next event's prev_hash no longer matches", () => {
    tamper((db) => forge(db, 4, { stream: 'stdout', text: 'HELLO, all fine\n' }, false));
    // The forged event itself now checks out; the break shows at the event after it.
    expectOneProblem(
      verify(),
      s1,
      `session ${s1}, event #5: event #5 (step.passed) does not follow event #4: events were reordered, replaced or inserted`,
    );
  });

  // Without anchors (this log was copied into a repository that never anchored it) these two cannot be seen;
  // test/integration/audit-anchors.test.ts shows both caught once the sessions are anchored on refs/cockpit/audit.
  it('LIMITATION without anchors: re-chaining every later event and the session head is NOT detected', () => {
    tamper((db) => forge(db, 4, { stream: 'stdout', text: 'HELLO, all fine\n' }, true));
    const r = verify();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('audit log intact');
  });

  it('LIMITATION without anchors: deleting a whole session (its row and all its events) is NOT detected', () => {
    tamper(`DELETE FROM events WHERE session_id = '${s1}'; DELETE FROM sessions WHERE id = '${s1}';`);
    const r = verify();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`audit log intact: 1 session(s), ${PER_SESSION} event(s)`);
  });
});
