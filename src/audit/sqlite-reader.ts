/**
 * The few reads the home screen makes of a SQLite audit log (its sessions, their last events, the locks, a release
 * session's rows), in plain better-sqlite3: no drizzle and no migrator, which are most of opening the full store
 * (sqlite.ts) and ~150 KB of code to load before the home screen's first frame (docs/architecture.md §6). Used only
 * on a log that exists and whose schema is up to date (drizzle's migrations table holds the newest migration of this
 * build), where opening the full store would change nothing; anything else opens the full store. The rows are the
 * same as the full store's (test/unit/sqlite-reader.test.ts).
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { EventType, StoredEvent } from '../core/events.js';
import { migrationsDir } from '../paths.js';
import { checkAuditTables } from './health.js';
import { toSessionRow, toStored, type RawEventRow, type RawSessionRow } from './rows.js';
import type { AuditStore, LockRow, SessionRow } from './store.js';

/** What the home screen reads of an audit store: the full stores have all of it. */
export type AuditReader = Pick<
  AuditStore,
  'location' | 'listSessions' | 'listLocks' | 'readEvents' | 'lastOfTypes' | 'streamRows' | 'close'
>;

const SESSION_COLUMNS =
  'id, checklist_id AS checklistId, checklist_title AS checklistTitle, checklist_text AS checklistText, checklist_sources AS checklistSources, checklist_sha256 AS checklistSha256, params, environment, operator, host, started_at AS startedAt, ended_at AS endedAt, outcome, last_seq AS lastSeq, last_hash AS lastHash';
const EVENT_COLUMNS = 'session_id AS sessionId, seq, time, type, step_id AS stepId, actor, data, prev_hash AS prevHash, hash';

/** When this build's newest SQLite migration was made (drizzle's journal): a log migrated to it needs no migration. */
function newestMigration(): number | null {
  try {
    const journal = JSON.parse(readFileSync(path.join(migrationsDir('sqlite'), 'meta', '_journal.json'), 'utf8')) as {
      entries?: Array<{ when?: unknown }>;
    };
    const whens = (journal.entries ?? []).map((e) => e.when).filter((w): w is number => typeof w === 'number');
    return whens.length ? Math.max(...whens) : null;
  } catch {
    return null;
  }
}

export class SqliteAuditReader implements AuditReader {
  private constructor(
    readonly location: string,
    private readonly db: Database.Database,
  ) {}

  /**
   * The reader over `file`, or null when the full store must open it: no such file, a schema to bring up to date, or
   * anything unexpected (the full store then says what is wrong, as it always did).
   */
  static open(file: string): SqliteAuditReader | null {
    if (!existsSync(file)) return null;
    const newest = newestMigration();
    if (newest === null) return null;
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      if (!tables.includes('__drizzle_migrations')) throw new Error('not migrated');
      const last = db.prepare('SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1').pluck().get();
      if (last === undefined || Number(last) < newest) throw new Error('a migration to run');
      checkAuditTables(tables, file);
      return new SqliteAuditReader(file, db);
    } catch {
      db?.close();
      return null;
    }
  }

  async listSessions(limit = 50): Promise<SessionRow[]> {
    const rows = this.db
      .prepare(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY started_at DESC, id DESC LIMIT ?`)
      .all(limit) as RawSessionRow[];
    return rows.map(toSessionRow);
  }

  async listLocks(): Promise<LockRow[]> {
    return this.db
      .prepare('SELECT scope, session_id AS sessionId, holder, host, pid, reason, since, heartbeat FROM locks')
      .all() as LockRow[];
  }

  async readEvents(sessionId: string, fromSeq = 1): Promise<StoredEvent[]> {
    const rows = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND seq >= ? ORDER BY seq`)
      .all(sessionId, fromSeq) as RawEventRow[];
    return rows.map(toStored);
  }

  async lastOfTypes(sessionId: string, types: readonly EventType[]): Promise<StoredEvent | null> {
    if (!types.length) return null;
    const row = this.db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND type IN (${types.map(() => '?').join(', ')}) ORDER BY seq DESC LIMIT 1`,
      )
      .get(sessionId, ...types) as RawEventRow | undefined;
    return row ? toStored(row) : null;
  }

  async *streamRows(sessionId: string): AsyncIterable<RawEventRow> {
    yield* this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? ORDER BY seq`)
      .iterate(sessionId) as IterableIterator<RawEventRow>;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
