/**
 * The home screen reads the audit log with a plain reader (src/audit/sqlite-reader.ts) instead of the drizzle store:
 * it must read exactly what the store reads, and step aside (null: the store opens it) whenever opening the store
 * would do something (create the file, migrate it) or say something (a damaged log).
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAuditReader } from '../../src/audit/sqlite-reader.js';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import { cockpit, tempRepo } from '../helpers/cli.js';

const FINISHES =
  'id: finishes\ntitle: Finishes\nsteps:\n  - id: hello\n    title: Say hello\n    kind: run\n    run: echo "hello ✔ 张伟"\n';
const WAITS =
  'id: waits\ntitle: Waits\nparams:\n  version:\n    type: string\n    required: true\nsteps:\n  - id: build\n    title: Build\n    kind: run\n    run: echo built\n  - id: approval\n    title: Approved?\n    kind: confirm\n';

let repo: ReturnType<typeof tempRepo>;
let file: string;
const open: Array<{ close(): Promise<void> }> = [];

beforeAll(() => {
  repo = tempRepo({ finishes: FINISHES, waits: WAITS });
  file = path.join(repo.dir, '.cockpit', 'audit.db');
  expect(cockpit(['--repo', repo.dir, 'run', 'finishes', '--non-interactive', '--yes', 'all']).code).toBe(0);
  // Paused at the confirmation: resumable, what home lists first and reads the last event of.
  expect(cockpit(['--repo', repo.dir, 'run', 'waits', '-p', 'version=1.2.3', '--non-interactive']).code).toBe(1);
  return () => repo.cleanup();
});

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const reader = (f = file) => {
  const r = SqliteAuditReader.open(f);
  if (r) open.push(r);
  return r;
};
const store = (f = file) => {
  const s = new SqliteAuditStore(f);
  open.push(s);
  return s;
};

describe("the home screen's audit reader", () => {
  it('reads the sessions, their events from a seq, the locks and the raw rows as the store does', async () => {
    const full = store();
    await full.acquireLock(
      { scope: 'deploy:production', sessionId: 'x', holder: 'alice', host: 'h', pid: 1, reason: 'r', since: 1, heartbeat: 2 },
      () => false,
    );
    const r = reader()!;
    expect(r).not.toBeNull();
    expect(r.location).toBe(full.location);
    const sessions = await r.listSessions(50);
    expect(sessions.map((s) => s.checklistId).sort()).toEqual(['finishes', 'waits']);
    expect(sessions).toEqual(await full.listSessions(50));
    expect(await r.listSessions(1)).toEqual(await full.listSessions(1));
    expect(await r.listLocks()).toEqual(await full.listLocks());
    expect((await r.listLocks()).map((l) => l.scope)).toEqual(['deploy:production']);
    for (const s of sessions) {
      expect(await r.readEvents(s.id)).toEqual(await full.readEvents(s.id));
      expect(await r.readEvents(s.id, s.lastSeq)).toEqual(await full.readEvents(s.id, s.lastSeq));
      const rows = async (x: AsyncIterable<unknown>) => {
        const out: unknown[] = [];
        for await (const row of x) out.push(row);
        return out;
      };
      expect(await rows(r.streamRows(s.id))).toEqual(await rows(full.streamRows(s.id)));
    }
    const waits = sessions.find((s) => s.checklistId === 'waits')!;
    expect((await r.readEvents(waits.id, waits.lastSeq))[0]?.type).toBe('session.paused');
  });

  it('steps aside for the store where opening it does something: no file, a migration to run, a damaged log', async () => {
    expect(reader(path.join(repo.dir, '.cockpit', 'none.db'))).toBeNull();
    const copy = (name: string, change: (db: Database.Database) => void) => {
      const to = path.join(repo.dir, name);
      const src = new Database(file);
      src.exec(`VACUUM INTO '${to}'`);
      src.close();
      const db = new Database(to);
      change(db);
      db.close();
      return to;
    };
    const old = copy('old.db', (db) => db.exec('DELETE FROM __drizzle_migrations'));
    expect(reader(old)).toBeNull();
    const damaged = copy('damaged.db', (db) => db.exec('DROP TABLE locks'));
    expect(reader(damaged)).toBeNull();
    // …and the store says what is wrong, as it always did.
    expect(() => store(damaged)).toThrow(/table locks is missing/);
    expect(reader(copy('same.db', () => undefined))).not.toBeNull();
  });
});
