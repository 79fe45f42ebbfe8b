import type { StoredEvent } from '../core/events.js';
import type { SessionHeader } from './hash.js';
import type * as schema from './schema.js';
import type { SessionRow } from './store.js';

/*
 * The rows as both dialects store them, read off the SQLite schema (schema.ts); the Postgres schema
 * (schema-pg.ts) reads and writes the same rows, which test/unit/audit-schema-types.test.ts holds.
 */

/** An event row: data as JSON text. */
export type RawEventRow = typeof schema.events.$inferSelect;

/** A session row: JSON columns as text. */
export type RawSessionRow = typeof schema.sessions.$inferSelect;

/** A session row as it is inserted. */
export type NewSessionRow = typeof schema.sessions.$inferInsert;

export function toSessionRow(r: RawSessionRow): SessionRow {
  return { ...r, checklistSources: JSON.parse(r.checklistSources), params: JSON.parse(r.params) };
}

/**
 * A row as the event it stores: the one place where the log's text is taken for a typed event. Its type and data
 * were written from one (and the hash covers them); a type this version does not know passes through, and every
 * switch over event types ignores it.
 */
export function toStored(r: RawEventRow): StoredEvent {
  return { ...r, data: JSON.parse(r.data) } as StoredEvent;
}

/** The row a new session starts with: its head is the genesis hash, before any event. */
export function newSessionRow(h: SessionHeader, genesis: string): NewSessionRow {
  return {
    id: h.id,
    checklistId: h.checklistId,
    checklistTitle: h.checklistTitle,
    checklistText: h.checklistText,
    checklistSources: JSON.stringify(h.checklistSources),
    checklistSha256: h.checklistSha256,
    params: JSON.stringify(h.params),
    environment: h.environment,
    operator: h.operator,
    host: h.host,
    startedAt: h.startedAt,
    endedAt: null,
    outcome: null,
    lastSeq: 0,
    lastHash: genesis,
  };
}
