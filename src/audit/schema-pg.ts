import { bigint, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/**
 * The shared team store: the same tables as the SQLite schema (schema.ts), in PostgreSQL. Event data stays
 * TEXT, not jsonb: the hash chain covers the exact bytes, and jsonb would reorder keys.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    checklistId: text('checklist_id').notNull(),
    checklistTitle: text('checklist_title').notNull(),
    checklistText: text('checklist_text').notNull(),
    checklistSources: text('checklist_sources').notNull(),
    checklistSha256: text('checklist_sha256').notNull(),
    params: text('params').notNull(),
    environment: text('environment'),
    operator: text('operator').notNull(),
    host: text('host').notNull(),
    startedAt: bigint('started_at', { mode: 'number' }).notNull(),
    endedAt: bigint('ended_at', { mode: 'number' }),
    outcome: text('outcome'),
    lastSeq: integer('last_seq').notNull().default(0),
    lastHash: text('last_hash').notNull(),
  },
  (t) => [index('sessions_started_idx').on(t.startedAt)],
);

export const events = pgTable(
  'events',
  {
    sessionId: text('session_id').notNull(),
    seq: integer('seq').notNull(),
    time: bigint('time', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    stepId: text('step_id'),
    actor: text('actor').notNull(),
    data: text('data').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.seq] })],
);

export const locks = pgTable('locks', {
  scope: text('scope').primaryKey(),
  sessionId: text('session_id').notNull(),
  holder: text('holder').notNull(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  reason: text('reason').notNull(),
  since: bigint('since', { mode: 'number' }).notNull(),
  heartbeat: bigint('heartbeat', { mode: 'number' }).notNull(),
});
