import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** One row per session: what ran, with which parameters, by whom; and the head of its hash chain. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    checklistId: text('checklist_id').notNull(),
    checklistTitle: text('checklist_title').notNull(),
    /** The root checklist's YAML as it was when the session began. */
    checklistText: text('checklist_text').notNull(),
    /** Every checklist of the bundle (root and includes), JSON {id: yaml}. */
    checklistSources: text('checklist_sources').notNull(),
    checklistSha256: text('checklist_sha256').notNull(),
    params: text('params').notNull(),
    environment: text('environment'),
    operator: text('operator').notNull(),
    host: text('host').notNull(),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
    outcome: text('outcome'),
    lastSeq: integer('last_seq').notNull().default(0),
    lastHash: text('last_hash').notNull(),
  },
  (t) => [index('sessions_started_idx').on(t.startedAt)],
);

/** Append-only: hash = sha256(prev_hash + canonical JSON of the event). */
export const events = sqliteTable(
  'events',
  {
    sessionId: text('session_id').notNull(),
    seq: integer('seq').notNull(),
    time: integer('time').notNull(),
    type: text('type').notNull(),
    stepId: text('step_id'),
    actor: text('actor').notNull(),
    data: text('data').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.seq] })],
);

/** Who holds a deploy environment (or a session) right now; heartbeats make a dead holder visible. */
export const locks = sqliteTable('locks', {
  scope: text('scope').primaryKey(),
  sessionId: text('session_id').notNull(),
  holder: text('holder').notNull(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  reason: text('reason').notNull(),
  since: integer('since').notNull(),
  heartbeat: integer('heartbeat').notNull(),
});
