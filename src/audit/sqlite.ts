import Database from 'better-sqlite3';
import { and, asc, desc, eq, gte, inArray, like, notInArray, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sessionStarted, type EventType, type NewEvent, type StoredEvent } from '../core/events.js';
import { chainEvents, SanitizingStore, sanitizedSession, type Head } from './chain.js';
import { migrationsDir } from '../paths.js';
import { genesisHash, type SessionHeader } from './hash.js';
import * as schema from './schema.js';
import {
  AuditStoreError,
  lockDecision,
  pickSession,
  SESSION_ID_PREFIX,
  type Anchor,
  type AuditStore,
  type LockResult,
  type LockRow,
  type SessionIndexRow,
  type SessionRow,
  type VerifyReport,
} from './store.js';
import { newSessionRow, toSessionRow, toStored, type RawEventRow } from './rows.js';
import { verifyStore, type RowVisitor } from './verify.js';
import { checkAuditTables } from './health.js';

type Db = BetterSQLite3Database<typeof schema>;

/**
 * A log opened read-only. A WAL database needs its shared-memory file beside it even to be read; when that cannot be
 * made (a read-only folder, a copy handed over for an investigation), the log is read from a private copy of the
 * file and its WAL in a temporary folder, removed at exit.
 */
function openReadOnly(file: string): Database.Database {
  try {
    const d = new Database(file, { readonly: true, fileMustExist: true });
    d.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get();
    return d;
  } catch (e) {
    if (!/readonly|unable to open/i.test((e as Error).message)) throw e;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-audit-ro-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const copy = path.join(dir, 'audit.db');
  copyFileSync(file, copy);
  if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
  return new Database(copy, { readonly: true, fileMustExist: true });
}

const p = (name: string) => sql.placeholder(name);

/**
 * The default store: one SQLite file (WAL, synchronous=FULL, so a committed append survives power loss).
 * Writes go through drizzle prepared statements; drizzle's migrator brings the schema up to date on open.
 */
export class SqliteAuditStore extends SanitizingStore implements AuditStore {
  readonly location: string;
  private sqlite: Database.Database;
  private db: Db;
  private heads = new Map<string, Head>();
  private statements: ReturnType<SqliteAuditStore['prepare']> | null = null;

  /**
   * `readOnly`: for the commands that only read (audit list, show, verify, replay). The file is opened read-only, its
   * schema is not brought up to date and nothing is created, so a read-only file (or a copy taken for an
   * investigation) can be read; a file that does not exist reads as an empty log.
   */
  constructor(file: string, opts: { readOnly?: boolean } = {}) {
    super();
    this.location = file;
    const readOnly = !!opts.readOnly && file !== ':memory:';
    if (file !== ':memory:' && !readOnly) mkdirSync(path.dirname(file), { recursive: true });
    try {
      if (readOnly && !existsSync(file)) {
        this.sqlite = new Database(':memory:');
        this.db = drizzle(this.sqlite, { schema });
        migrate(this.db, { migrationsFolder: migrationsDir('sqlite') });
      } else if (readOnly) {
        this.sqlite = openReadOnly(file);
        this.sqlite.pragma('busy_timeout = 5000');
        this.db = drizzle(this.sqlite, { schema });
      } else {
        this.sqlite = new Database(file);
        this.sqlite.pragma('journal_mode = WAL');
        this.sqlite.pragma('synchronous = FULL');
        this.sqlite.pragma('busy_timeout = 5000');
        this.db = drizzle(this.sqlite, { schema });
        migrate(this.db, { migrationsFolder: migrationsDir('sqlite') });
        // A full disk, for real, where a test cannot fill one: the file may not grow past this many pages (SQLITE_FULL).
        const maxPages = Number(process.env.COCKPIT_AUDIT_MAX_PAGES);
        if (maxPages > 0) this.sqlite.pragma(`max_page_count = ${Math.floor(maxPages)}`);
      }
    } catch (e) {
      throw new AuditStoreError(`cannot open the audit log ${file}: ${(e as Error).message}`);
    }
    checkAuditTables(this.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[], file);
  }

  /**
   * A write, with SQLite's failures in the user's words: a full disk or a read-only file is this log that cannot be
   * written (exit 1), not an internal error. The store's own refusals pass through as they are.
   */
  private writing<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof AuditStoreError || !(e instanceof Error) || !('code' in e) || !String(e.code).startsWith('SQLITE_')) throw e;
      throw new AuditStoreError(`the audit log ${this.location} could not be written: ${e.message}`);
    }
  }

  /** The append path's statements, prepared when first used (a read-only store never prepares a write). */
  private get stmts() {
    return (this.statements ??= this.prepare());
  }

  private prepare() {
    return {
      // The hot path: a positional better-sqlite3 statement. Drizzle's prepared insert spends ~2.5 µs per row
      // filling placeholders, a third of a bulk append's budget; the columns are those of schema.events.
      insertEvent: this.sqlite.prepare(
        'INSERT INTO events (session_id, seq, time, type, step_id, actor, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateHead: this.db
        .update(schema.sessions)
        .set({ lastSeq: sql`${p('seq')}`, lastHash: sql`${p('hash')}` })
        .where(eq(schema.sessions.id, p('id')))
        .prepare(),
      selectHead: this.db
        .select({ seq: schema.sessions.lastSeq, hash: schema.sessions.lastHash, endedAt: schema.sessions.endedAt })
        .from(schema.sessions)
        .where(eq(schema.sessions.id, p('id')))
        .prepare(),
    };
  }

  async createSession(header: SessionHeader, started: NewEvent<'session.started'>): Promise<StoredEvent<'session.started'>> {
    const { header: h, first } = sanitizedSession(this.sanitizer, header, started);
    const genesis = genesisHash(h);
    // The row and its first event in one transaction: a crash leaves both or neither.
    const create = this.sqlite.transaction(() => {
      this.db.insert(schema.sessions).values(newSessionRow(h, genesis)).run();
      return this.appendInTx(h.id, { seq: 0, hash: genesis }, [{ ...first, time: first.time ?? h.startedAt }]);
    });
    const c = this.writing(() => create.immediate());
    this.heads.set(h.id, c.head);
    return sessionStarted(c.events);
  }

  /** Inside a transaction: chain the events after `head`, insert them, move the session's head. */
  private appendInTx(sessionId: string, head: Head | undefined, list: NewEvent[]) {
    if (!head) {
      const row = this.stmts.selectHead.get({ id: sessionId });
      if (!row) throw new AuditStoreError(`no session ${sessionId} in the audit log`);
      head = { seq: row.seq, hash: row.hash, finished: row.endedAt !== null };
    }
    const c = chainEvents(sessionId, head, list, this.sanitizer);
    c.events.forEach((e, i) =>
      this.stmts.insertEvent.run(e.sessionId, e.seq, e.time, e.type, e.stepId, e.actor, c.json[i], e.prevHash, e.hash),
    );
    this.stmts.updateHead.run({ id: sessionId, seq: c.head.seq, hash: c.head.hash });
    if (c.finished) {
      this.db
        .update(schema.sessions)
        .set({ endedAt: c.finished.time, outcome: c.finished.data.outcome })
        .where(eq(schema.sessions.id, sessionId))
        .run();
    }
    return c;
  }

  async append(sessionId: string, list: NewEvent[]): Promise<StoredEvent[]> {
    if (!list.length) return [];
    const run = (head: Head | undefined) => this.sqlite.transaction(() => this.appendInTx(sessionId, head, list)).immediate();
    const cached = this.heads.get(sessionId);
    let c: ReturnType<typeof run>;
    try {
      c = this.writing(() => {
        try {
          return run(cached);
        } catch (e) {
          // Another process appended since this one cached the head (`cockpit approve` adds an approver's decision to
          // a session a run holds): the chain continues from the row's head, read inside a new write transaction
          // (BEGIN IMMEDIATE serialises the writers: a compare-and-append). Seqs are contiguous, so a stale head
          // always collides on the key.
          if (!cached || !(e instanceof Error) || !String((e as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT')) throw e;
          return run(undefined);
        }
      });
    } catch (e) {
      this.heads.delete(sessionId);
      throw e;
    }
    this.heads.set(sessionId, c.head);
    return c.events;
  }

  async resolveSessionId(idOrPrefix: string, listCommand?: string): Promise<{ id: string } | { error: string }> {
    if (!SESSION_ID_PREFIX.test(idOrPrefix)) return { error: `'${idOrPrefix}' is not a session id` };
    const rows = this.db
      .select({ id: schema.sessions.id })
      .from(schema.sessions)
      .where(like(schema.sessions.id, `${idOrPrefix}%`))
      .limit(5)
      .all();
    return pickSession(
      idOrPrefix,
      rows.map((r) => r.id),
      this.location,
      listCommand,
    );
  }

  async listSessions(limit = 50): Promise<SessionRow[]> {
    return this.db
      .select()
      .from(schema.sessions)
      .orderBy(desc(schema.sessions.startedAt), desc(schema.sessions.id))
      .limit(limit)
      .all()
      .map(toSessionRow);
  }

  async sessionIndex(): Promise<SessionIndexRow[]> {
    return this.db
      .select({ id: schema.sessions.id, startedAt: schema.sessions.startedAt, endedAt: schema.sessions.endedAt })
      .from(schema.sessions)
      .orderBy(asc(schema.sessions.startedAt), asc(schema.sessions.id))
      .all();
  }

  private rawEvents(sessionId: string, fromSeq = 1): RawEventRow[] {
    return this.db
      .select()
      .from(schema.events)
      .where(and(eq(schema.events.sessionId, sessionId), gte(schema.events.seq, fromSeq)))
      .orderBy(asc(schema.events.seq))
      .all();
  }

  async lastOfTypes(sessionId: string, types: readonly EventType[]): Promise<StoredEvent | null> {
    const row = this.db
      .select()
      .from(schema.events)
      .where(and(eq(schema.events.sessionId, sessionId), inArray(schema.events.type, [...types])))
      .orderBy(desc(schema.events.seq))
      .limit(1)
      .get();
    return row ? toStored(row) : null;
  }

  async readEvents(sessionId: string, fromSeq = 1): Promise<StoredEvent[]> {
    return this.rawEvents(sessionId, fromSeq).map(toStored);
  }

  async *streamEvents(sessionId: string): AsyncIterable<StoredEvent> {
    for await (const r of this.streamRows(sessionId)) yield toStored(r);
  }

  async *streamRows(sessionId: string): AsyncIterable<RawEventRow> {
    const rows = this.sqlite
      .prepare(
        'SELECT session_id AS sessionId, seq, time, type, step_id AS stepId, actor, data, prev_hash AS prevHash, hash FROM events WHERE session_id = ? ORDER BY seq',
      )
      .iterate(sessionId) as IterableIterator<RawEventRow>;
    yield* rows;
  }

  async acquireLock(lock: LockRow, isStale: (held: LockRow) => boolean): Promise<LockResult> {
    const tx = this.sqlite.transaction((): LockResult => {
      const held = this.db.select().from(schema.locks).where(eq(schema.locks.scope, lock.scope)).get();
      const decision = lockDecision(held, lock, isStale);
      if (decision.ok) this.db.insert(schema.locks).values(lock).onConflictDoUpdate({ target: schema.locks.scope, set: lock }).run();
      return decision;
    });
    return tx.immediate();
  }

  async heartbeat(scope: string, sessionId: string, at: number): Promise<void> {
    this.db
      .update(schema.locks)
      .set({ heartbeat: at })
      .where(and(eq(schema.locks.scope, scope), eq(schema.locks.sessionId, sessionId)))
      .run();
  }

  async releaseLock(scope: string, sessionId: string): Promise<void> {
    this.db
      .delete(schema.locks)
      .where(and(eq(schema.locks.scope, scope), eq(schema.locks.sessionId, sessionId)))
      .run();
  }

  async listLocks(): Promise<LockRow[]> {
    return this.db.select().from(schema.locks).all();
  }

  async verify(sessionId?: string, anchors?: ReadonlyMap<string, readonly Anchor[]>, visit?: RowVisitor): Promise<VerifyReport> {
    return verifyStore(
      {
        sessions: async (id) =>
          id
            ? this.db.select().from(schema.sessions).where(eq(schema.sessions.id, id)).all()
            : this.db.select().from(schema.sessions).orderBy(asc(schema.sessions.startedAt)).all(),
        events: async (id) => this.rawEvents(id),
        orphans: async () =>
          this.db
            .selectDistinct({ id: schema.events.sessionId })
            .from(schema.events)
            .where(notInArray(schema.events.sessionId, this.db.select({ id: schema.sessions.id }).from(schema.sessions)))
            .all()
            .map((r) => r.id),
      },
      sessionId,
      anchors,
      visit,
    );
  }

  async close(): Promise<void> {
    if (this.sqlite.open) this.sqlite.close();
  }
}
