import { and, asc, desc, eq, gte, inArray, like, notInArray, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { sessionStarted, type EventType, type NewEvent, type StoredEvent } from '../core/events.js';
import { sanitizeText } from '../core/sanitize.js';
import { migrationsDir } from '../paths.js';
import { chainEvents, SanitizingStore, sanitizedSession, type Head } from './chain.js';
import { genesisHash, type SessionHeader } from './hash.js';
import { newSessionRow, toSessionRow, toStored, type RawEventRow } from './rows.js';
import * as schema from './schema-pg.js';
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
import { verifyStore, type RowVisitor } from './verify.js';
import { checkAuditTables } from './health.js';
import { ignoreCleanupError } from '../core/errors.js';

type Db = NodePgDatabase<typeof schema>;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Any number, the same in every cockpit: serialises schema migrations of a shared store. */
const MIGRATION_LOCK = 7_242_031_117;

/**
 * The shared team store (`--audit-url postgres://…`): the same tables, chain and rules as the SQLite store.
 * Every append locks its session's row (SELECT … FOR UPDATE), so two writers can never fork a chain.
 */
export class PostgresAuditStore extends SanitizingStore implements AuditStore {
  readonly location: string;
  private pool: pg.Pool;
  private db: Db;

  private constructor(url: string) {
    super();
    this.location = sanitizeText(url);
    this.pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
    this.pool.on('error', () => undefined);
    this.db = drizzle(this.pool, { schema });
  }

  static async open(url: string): Promise<PostgresAuditStore> {
    const store = new PostgresAuditStore(url);
    try {
      const client = await store.pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        try {
          await migrate(drizzle(client, { schema }), { migrationsFolder: migrationsDir('pg') });
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
        }
        const tables = await client.query<{ name: string }>(
          'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()',
        );
        checkAuditTables(
          tables.rows.map((r) => r.name),
          store.location,
        );
      } finally {
        client.release();
      }
    } catch (e) {
      if (e instanceof AuditStoreError) {
        await store.pool.end().catch(ignoreCleanupError('the store is refused as damaged: that is what is reported'));
        throw e;
      }
      await store.pool
        .end()
        .catch(ignoreCleanupError('the pool is being dropped because opening the store failed: that failure is what is reported'));
      throw new AuditStoreError(`cannot open the audit log ${store.location}: ${(e as Error).message}`);
    }
    return store;
  }

  async createSession(header: SessionHeader, started: NewEvent<'session.started'>): Promise<StoredEvent<'session.started'>> {
    const { header: h, first } = sanitizedSession(this.sanitizer, header, started);
    const genesis = genesisHash(h);
    return this.db.transaction(async (tx) => {
      await tx.insert(schema.sessions).values(newSessionRow(h, genesis));
      const stored = await this.appendInTx(tx, h.id, { seq: 0, hash: genesis }, [{ ...first, time: first.time ?? h.startedAt }]);
      return sessionStarted(stored);
    });
  }

  private async appendInTx(tx: Tx, sessionId: string, head: Head | null, list: NewEvent[]): Promise<StoredEvent[]> {
    if (!head) {
      const [row] = await tx
        .select({ seq: schema.sessions.lastSeq, hash: schema.sessions.lastHash, endedAt: schema.sessions.endedAt })
        .from(schema.sessions)
        .where(eq(schema.sessions.id, sessionId))
        .for('update');
      if (!row) throw new AuditStoreError(`no session ${sessionId} in the audit log`);
      head = { seq: row.seq, hash: row.hash, finished: row.endedAt !== null };
    }
    const c = chainEvents(sessionId, head, list, this.sanitizer);
    await tx.insert(schema.events).values(c.events.map((e, i) => ({ ...e, data: c.json[i] })));
    await tx
      .update(schema.sessions)
      .set({
        lastSeq: c.head.seq,
        lastHash: c.head.hash,
        ...(c.finished ? { endedAt: c.finished.time, outcome: c.finished.data.outcome } : {}),
      })
      .where(eq(schema.sessions.id, sessionId));
    return c.events;
  }

  async append(sessionId: string, list: NewEvent[]): Promise<StoredEvent[]> {
    if (!list.length) return [];
    return this.db.transaction((tx) => this.appendInTx(tx, sessionId, null, list));
  }

  async resolveSessionId(idOrPrefix: string, listCommand?: string): Promise<{ id: string } | { error: string }> {
    if (!SESSION_ID_PREFIX.test(idOrPrefix)) return { error: `'${idOrPrefix}' is not a session id` };
    const rows = await this.db
      .select({ id: schema.sessions.id })
      .from(schema.sessions)
      .where(like(schema.sessions.id, `${idOrPrefix}%`))
      .limit(5);
    return pickSession(
      idOrPrefix,
      rows.map((r) => r.id),
      this.location,
      listCommand,
    );
  }

  async listSessions(limit = 50): Promise<SessionRow[]> {
    const rows = await this.db
      .select()
      .from(schema.sessions)
      .orderBy(desc(schema.sessions.startedAt), desc(schema.sessions.id))
      .limit(limit);
    return rows.map(toSessionRow);
  }

  async sessionIndex(): Promise<SessionIndexRow[]> {
    return this.db
      .select({ id: schema.sessions.id, startedAt: schema.sessions.startedAt, endedAt: schema.sessions.endedAt })
      .from(schema.sessions)
      .orderBy(asc(schema.sessions.startedAt), asc(schema.sessions.id));
  }

  private rawEvents(sessionId: string, fromSeq = 1) {
    return this.db
      .select()
      .from(schema.events)
      .where(and(eq(schema.events.sessionId, sessionId), gte(schema.events.seq, fromSeq)))
      .orderBy(asc(schema.events.seq));
  }

  async lastOfTypes(sessionId: string, types: readonly EventType[]): Promise<StoredEvent | null> {
    const [row] = await this.db
      .select()
      .from(schema.events)
      .where(and(eq(schema.events.sessionId, sessionId), inArray(schema.events.type, [...types])))
      .orderBy(desc(schema.events.seq))
      .limit(1);
    return row ? toStored(row) : null;
  }

  async readEvents(sessionId: string, fromSeq = 1): Promise<StoredEvent[]> {
    return (await this.rawEvents(sessionId, fromSeq)).map(toStored);
  }

  /** Pages of 2,000 events by seq (keyset): a session's events are never all in memory at once. */
  async *streamEvents(sessionId: string): AsyncIterable<StoredEvent> {
    for await (const r of this.streamRows(sessionId)) yield toStored(r);
  }

  async *streamRows(sessionId: string): AsyncIterable<RawEventRow> {
    for (let from = 1; ;) {
      const rows = await this.rawEvents(sessionId, from).limit(2000);
      yield* rows;
      if (rows.length < 2000) return;
      from = rows[rows.length - 1].seq + 1;
    }
  }

  async acquireLock(lock: LockRow, isStale: (held: LockRow) => boolean): Promise<LockResult> {
    return this.db.transaction(async (tx) => {
      // Serialise competing acquirers of the same scope, whether or not a row exists yet.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${lock.scope}))`);
      const [held] = await tx.select().from(schema.locks).where(eq(schema.locks.scope, lock.scope));
      const decision = lockDecision(held, lock, isStale);
      if (decision.ok) await tx.insert(schema.locks).values(lock).onConflictDoUpdate({ target: schema.locks.scope, set: lock });
      return decision;
    });
  }

  async heartbeat(scope: string, sessionId: string, at: number): Promise<void> {
    await this.db
      .update(schema.locks)
      .set({ heartbeat: at })
      .where(and(eq(schema.locks.scope, scope), eq(schema.locks.sessionId, sessionId)));
  }

  async releaseLock(scope: string, sessionId: string): Promise<void> {
    await this.db.delete(schema.locks).where(and(eq(schema.locks.scope, scope), eq(schema.locks.sessionId, sessionId)));
  }

  async listLocks(): Promise<LockRow[]> {
    return this.db.select().from(schema.locks);
  }

  async verify(sessionId?: string, anchors?: ReadonlyMap<string, readonly Anchor[]>, visit?: RowVisitor): Promise<VerifyReport> {
    return verifyStore(
      {
        sessions: async (id) =>
          id
            ? this.db.select().from(schema.sessions).where(eq(schema.sessions.id, id))
            : this.db.select().from(schema.sessions).orderBy(asc(schema.sessions.startedAt)),
        events: async (id) => this.rawEvents(id),
        orphans: async () =>
          (
            await this.db
              .selectDistinct({ id: schema.events.sessionId })
              .from(schema.events)
              .where(notInArray(schema.events.sessionId, this.db.select({ id: schema.sessions.id }).from(schema.sessions)))
          ).map((r) => r.id),
      },
      sessionId,
      anchors,
      visit,
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
