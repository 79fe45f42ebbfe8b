import Database from 'better-sqlite3';
import { and, asc, desc, eq, gte, like, sql } from 'drizzle-orm';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AuditEvent, EventType, NewEvent, StoredEvent } from '../core/events.js';
import { makeRedactor, sanitizeValue, type Redactor } from '../core/sanitize.js';
import { migrationsDir } from '../paths.js';
import { eventHash, genesisHash, type SessionHeader } from './hash.js';
import * as schema from './schema.js';
import { AuditStoreError, type AuditStore, type LockResult, type LockRow, type SessionRow, type VerifyProblem, type VerifyReport } from './store.js';
import { verifySession, type RawEventRow } from './verify.js';

type Db = BetterSQLite3Database<typeof schema>;

const p = (name: string) => sql.placeholder(name);

function toSessionRow(r: typeof schema.sessions.$inferSelect): SessionRow {
  return {
    id: r.id,
    checklistId: r.checklistId,
    checklistTitle: r.checklistTitle,
    checklistText: r.checklistText,
    checklistSources: JSON.parse(r.checklistSources),
    checklistSha256: r.checklistSha256,
    params: JSON.parse(r.params),
    environment: r.environment,
    operator: r.operator,
    host: r.host,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    outcome: r.outcome,
    lastSeq: r.lastSeq,
    lastHash: r.lastHash,
  };
}

function toStored(r: RawEventRow): StoredEvent {
  return { ...r, type: r.type as EventType, data: JSON.parse(r.data) } as StoredEvent;
}

/**
 * The default store: one SQLite file (WAL, synchronous=FULL, so a committed append survives power loss).
 * Writes go through drizzle prepared statements; drizzle's migrator brings the schema up to date on open.
 */
export class SqliteAuditStore implements AuditStore {
  readonly location: string;
  private sqlite: Database.Database;
  private db: Db;
  private redact: Redactor = makeRedactor();
  private secrets = new Set<string>();
  private heads = new Map<string, { seq: number; hash: string }>();
  private insertEvent;
  private updateHead;
  private selectHead;

  constructor(file: string) {
    this.location = file;
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    try {
      this.sqlite = new Database(file);
      this.sqlite.pragma('journal_mode = WAL');
      this.sqlite.pragma('synchronous = FULL');
      this.sqlite.pragma('busy_timeout = 5000');
      this.db = drizzle(this.sqlite, { schema });
      migrate(this.db, { migrationsFolder: migrationsDir('sqlite') });
    } catch (e) {
      throw new AuditStoreError(`cannot open the audit log ${file}: ${(e as Error).message}`);
    }
    this.insertEvent = this.db
      .insert(schema.events)
      .values({
        sessionId: p('sessionId'),
        seq: p('seq'),
        time: p('time'),
        type: p('type'),
        stepId: p('stepId'),
        actor: p('actor'),
        data: p('data'),
        prevHash: p('prevHash'),
        hash: p('hash'),
      })
      .prepare();
    this.updateHead = this.db
      .update(schema.sessions)
      .set({ lastSeq: sql`${p('seq')}`, lastHash: sql`${p('hash')}` })
      .where(eq(schema.sessions.id, p('id')))
      .prepare();
    this.selectHead = this.db
      .select({ seq: schema.sessions.lastSeq, hash: schema.sessions.lastHash })
      .from(schema.sessions)
      .where(eq(schema.sessions.id, p('id')))
      .prepare();
  }

  addSecrets(values: Iterable<string>): void {
    let added = false;
    for (const v of values) {
      if (typeof v === 'string' && v.length >= 4 && !this.secrets.has(v)) {
        this.secrets.add(v);
        added = true;
      }
    }
    if (added) this.redact = makeRedactor(this.secrets);
  }

  private clean<T>(v: T): T {
    return sanitizeValue(v, this.redact);
  }

  async createSession(header: SessionHeader, first: NewEvent<'session.started'>): Promise<StoredEvent<'session.started'>> {
    const h: SessionHeader = {
      ...header,
      checklistText: header.checklistText,
      params: this.clean(header.params),
      operator: this.clean(header.operator),
    };
    const genesis = genesisHash(h);
    this.db.transaction((tx) => {
      tx.insert(schema.sessions)
        .values({
          id: h.id,
          checklistId: h.checklistId,
          checklistTitle: this.clean(h.checklistTitle),
          checklistText: h.checklistText,
          checklistSources: JSON.stringify(h.checklistSources),
          checklistSha256: h.checklistSha256,
          params: JSON.stringify(h.params),
          environment: h.environment,
          operator: h.operator,
          host: h.host,
          startedAt: h.startedAt,
          lastSeq: 0,
          lastHash: genesis,
        })
        .run();
    });
    this.heads.set(h.id, { seq: 0, hash: genesis });
    const [stored] = await this.append(h.id, [{ ...first, time: first.time ?? h.startedAt }]);
    return stored as StoredEvent<'session.started'>;
  }

  async append(sessionId: string, list: NewEvent[]): Promise<StoredEvent[]> {
    if (!list.length) return [];
    const out: StoredEvent[] = [];
    const run = this.sqlite.transaction(() => {
      let head = this.heads.get(sessionId);
      if (!head) {
        const row = this.selectHead.get({ id: sessionId });
        if (!row) throw new AuditStoreError(`no session ${sessionId} in the audit log`);
        head = { seq: row.seq, hash: row.hash };
      }
      let { seq, hash } = head;
      const now = Date.now();
      for (const ne of list) {
        seq++;
        const event: AuditEvent = {
          sessionId,
          seq,
          time: ne.time ?? now,
          type: ne.type,
          stepId: ne.stepId ?? null,
          actor: this.clean(ne.actor ?? 'cockpit'),
          data: this.clean(ne.data),
        };
        const h = eventHash(hash, event);
        this.insertEvent.run({ ...event, data: JSON.stringify(event.data), prevHash: hash, hash: h });
        out.push({ ...event, prevHash: hash, hash: h });
        hash = h;
      }
      this.updateHead.run({ id: sessionId, seq, hash });
      const fin = out.find((e) => e.type === 'session.finished') as StoredEvent<'session.finished'> | undefined;
      if (fin) {
        this.db
          .update(schema.sessions)
          .set({ endedAt: fin.time, outcome: fin.data.outcome })
          .where(eq(schema.sessions.id, sessionId))
          .run();
      }
      return { seq, hash };
    });
    try {
      const head = run.immediate();
      this.heads.set(sessionId, head);
    } catch (e) {
      // Another writer may have appended (or the write failed): forget the cached head so the next try re-reads it.
      this.heads.delete(sessionId);
      throw e;
    }
    return out;
  }

  async getSession(id: string): Promise<SessionRow | null> {
    const r = this.db.select().from(schema.sessions).where(eq(schema.sessions.id, id)).get();
    return r ? toSessionRow(r) : null;
  }

  async resolveSessionId(idOrPrefix: string): Promise<{ id: string } | { error: string }> {
    if (!/^[A-Za-z0-9-]+$/.test(idOrPrefix)) return { error: `'${idOrPrefix}' is not a session id` };
    const rows = this.db
      .select({ id: schema.sessions.id })
      .from(schema.sessions)
      .where(like(schema.sessions.id, `${idOrPrefix}%`))
      .limit(5)
      .all();
    const exact = rows.find((r) => r.id === idOrPrefix);
    if (exact) return { id: exact.id };
    if (rows.length === 1) return { id: rows[0].id };
    if (!rows.length) return { error: `no session '${idOrPrefix}' in ${this.location} (see: cockpit audit list)` };
    return { error: `'${idOrPrefix}' matches several sessions: ${rows.map((r) => r.id).join(', ')}` };
  }

  async listSessions(limit = 50): Promise<SessionRow[]> {
    return this.db.select().from(schema.sessions).orderBy(desc(schema.sessions.startedAt), desc(schema.sessions.id)).limit(limit).all().map(toSessionRow);
  }

  private rawEvents(sessionId: string, fromSeq = 1): RawEventRow[] {
    return this.db
      .select()
      .from(schema.events)
      .where(and(eq(schema.events.sessionId, sessionId), gte(schema.events.seq, fromSeq)))
      .orderBy(asc(schema.events.seq))
      .all();
  }

  async readEvents(sessionId: string, fromSeq = 1): Promise<StoredEvent[]> {
    return this.rawEvents(sessionId, fromSeq).map(toStored);
  }

  async eventsOfType<T extends EventType>(sessionId: string, type: T): Promise<StoredEvent<T>[]> {
    return this.db
      .select()
      .from(schema.events)
      .where(and(eq(schema.events.sessionId, sessionId), eq(schema.events.type, type)))
      .orderBy(asc(schema.events.seq))
      .all()
      .map((r) => toStored(r) as StoredEvent<T>);
  }

  async acquireLock(lock: LockRow, isStale: (held: LockRow) => boolean): Promise<LockResult> {
    const tx = this.sqlite.transaction((): LockResult => {
      const held = this.db.select().from(schema.locks).where(eq(schema.locks.scope, lock.scope)).get();
      const mine = held && held.sessionId === lock.sessionId && held.pid === lock.pid && held.host === lock.host;
      if (held && !mine && !isStale(held)) return { ok: false, held };
      this.db.insert(schema.locks).values(lock).onConflictDoUpdate({ target: schema.locks.scope, set: lock }).run();
      return held && !mine ? { ok: true, tookOver: held } : { ok: true };
    });
    return tx.immediate();
  }

  async heartbeat(scope: string, sessionId: string, at: number): Promise<void> {
    this.db.update(schema.locks).set({ heartbeat: at }).where(and(eq(schema.locks.scope, scope), eq(schema.locks.sessionId, sessionId))).run();
  }

  async releaseLock(scope: string, sessionId: string): Promise<void> {
    this.db.delete(schema.locks).where(and(eq(schema.locks.scope, scope), eq(schema.locks.sessionId, sessionId))).run();
  }

  async getLock(scope: string): Promise<LockRow | null> {
    return this.db.select().from(schema.locks).where(eq(schema.locks.scope, scope)).get() ?? null;
  }

  async listLocks(): Promise<LockRow[]> {
    return this.db.select().from(schema.locks).all();
  }

  async verify(sessionId?: string): Promise<VerifyReport> {
    const problems: VerifyProblem[] = [];
    let eventsChecked = 0;
    let rows: Array<typeof schema.sessions.$inferSelect>;
    try {
      rows = sessionId
        ? this.db.select().from(schema.sessions).where(eq(schema.sessions.id, sessionId)).all()
        : this.db.select().from(schema.sessions).orderBy(asc(schema.sessions.startedAt)).all();
      for (const r of rows) {
        let session: SessionRow;
        try {
          session = toSessionRow(r);
        } catch {
          problems.push({ sessionId: r.id, seq: null, message: 'session row was edited: its JSON columns do not parse' });
          continue;
        }
        const res = verifySession(session, this.rawEvents(r.id));
        eventsChecked += res.events;
        if (res.problem) problems.push(res.problem);
      }
      if (!sessionId) {
        const orphans = this.sqlite
          .prepare('SELECT DISTINCT session_id AS id FROM events WHERE session_id NOT IN (SELECT id FROM sessions)')
          .all() as Array<{ id: string }>;
        for (const o of orphans) problems.push({ sessionId: o.id, seq: null, message: 'the session row was deleted but its events remain' });
      }
    } catch (e) {
      problems.push({ sessionId: sessionId ?? '*', seq: null, message: `the audit database is damaged: ${(e as Error).message}` });
      return { sessions: 0, events: eventsChecked, problems };
    }
    return { sessions: rows.length, events: eventsChecked, problems };
  }

  async close(): Promise<void> {
    if (this.sqlite.open) this.sqlite.close();
  }
}
