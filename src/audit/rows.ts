import type { EventType, StoredEvent } from '../core/events.js';
import type { SessionHeader } from './hash.js';
import type { SessionRow } from './store.js';

/** An event row as both dialects store it: data as JSON text. */
export interface RawEventRow {
  sessionId: string;
  seq: number;
  time: number;
  type: string;
  stepId: string | null;
  actor: string;
  data: string;
  prevHash: string;
  hash: string;
}

/** A session row as both dialects store it: JSON columns as text. */
export interface RawSessionRow {
  id: string;
  checklistId: string;
  checklistTitle: string;
  checklistText: string;
  checklistSources: string;
  checklistSha256: string;
  params: string;
  environment: string | null;
  operator: string;
  host: string;
  startedAt: number;
  endedAt: number | null;
  outcome: string | null;
  lastSeq: number;
  lastHash: string;
}

export function toSessionRow(r: RawSessionRow): SessionRow {
  return { ...r, checklistSources: JSON.parse(r.checklistSources), params: JSON.parse(r.params) };
}

export function toStored(r: RawEventRow): StoredEvent {
  return { ...r, type: r.type as EventType, data: JSON.parse(r.data) } as StoredEvent;
}

/** The row a new session starts with: its head is the genesis hash, before any event. */
export function newSessionRow(h: SessionHeader, genesis: string): RawSessionRow {
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
