import type { EventType, NewEvent, StoredEvent } from '../core/events.js';
import { bundleSha } from '../core/checklist/sha.js';
import { makeRedactor, mapStrings, sanitizeText, type Redactor } from '../core/sanitize.js';
import { eventHash, type SessionHeader } from './hash.js';
import { AuditStoreError } from './store.js';

/** The redaction every store applies before it hashes and writes anything: one choke point, not a convention. */
export class Sanitizer {
  private redact: Redactor = makeRedactor();
  private secrets = new Set<string>();

  addSecrets(values: Iterable<string>): void {
    let added = false;
    for (const v of values) {
      if (typeof v === 'string' && v.length >= 4 && !this.secrets.has(v)) {
        this.secrets.add(v);
        added = true;
      }
    }
    if (added) {
      this.redact = makeRedactor(this.secrets);
      this.cache.clear();
    }
  }

  /**
   * Short strings repeat (stream names, actors, step ids, keys): their sanitised form is cached, which keeps
   * redaction off the hot path of a burst of output. The cache is dropped whenever the secrets change.
   */
  private cache = new Map<string, string>();

  private text = (t: string): string => {
    if (t.length > 64) return sanitizeText(t, this.redact);
    let v = this.cache.get(t);
    if (v === undefined) {
      if (this.cache.size >= 4096) this.cache.clear();
      v = sanitizeText(t, this.redact);
      this.cache.set(t, v);
    }
    return v;
  };

  clean<T>(value: T): T {
    return mapStrings(value, this.text);
  }

  header(h: SessionHeader): SessionHeader {
    return {
      ...h,
      checklistTitle: this.clean(h.checklistTitle),
      // A secret written into a checklist (a token in a run: line) is not kept: the text is stored redacted, and
      // checklistSha256 stays the hash of the original, so a resume still sees a changed checklist.
      checklistText: this.clean(h.checklistText),
      checklistSources: this.clean(h.checklistSources),
      params: this.clean(h.params),
      operator: this.clean(h.operator),
    };
  }
}

/**
 * A new session as a store writes it: its header sanitised, and its first event saying what the stored checklist
 * text hashes to when redaction changed it (verify holds the stored text to that hash, which the chain covers).
 */
export function sanitizedSession(
  s: Sanitizer,
  header: SessionHeader,
  first: NewEvent<'session.started'>,
): { header: SessionHeader; first: NewEvent<'session.started'> } {
  const h = s.header(header);
  const stored = bundleSha(h.checklistSources);
  if (stored === h.checklistSha256) return { header: h, first };
  return { header: h, first: { ...first, data: { ...first.data, checklist: { ...first.data.checklist, storedSha256: stored } } } };
}

export interface Head {
  seq: number;
  hash: string;
  /** The session has its session.finished event. */
  finished?: boolean;
}

/**
 * A finished session is closed: nothing is appended after its session.finished but notes (a postmortem's
 * annotations, which change no outcome). Checked by both stores inside the append's transaction, and by verify.
 */
export function refuseAfterFinish(sessionId: string, head: Head, list: readonly NewEvent[]): void {
  let finished = !!head.finished;
  for (const e of list) {
    if (finished && e.type !== 'note.added')
      throw new AuditStoreError(`session ${sessionId} has finished: nothing but notes can be recorded on it (refused: ${e.type})`);
    if (e.type === 'session.finished') finished = true;
  }
}

/** A new event numbered and sanitised, its hash still to compute (generic: its type and its data stay a pair). */
function numbered<T extends EventType>(
  sessionId: string,
  seq: number,
  prevHash: string,
  ne: NewEvent<T>,
  s: Sanitizer,
  now: number,
): StoredEvent<T> {
  return {
    sessionId,
    seq,
    time: ne.time ?? now,
    type: ne.type,
    stepId: ne.stepId ?? null,
    actor: s.clean(ne.actor ?? 'cockpit'),
    data: s.clean(ne.data),
    prevHash,
    hash: '',
  };
}

/** Number, sanitise and hash new events after `head`; returns them with their JSON data, and the new head. */
export function chainEvents(sessionId: string, head: Head, list: NewEvent[], s: Sanitizer, now = Date.now()) {
  refuseAfterFinish(sessionId, head, list);
  let { seq, hash } = head;
  const events: StoredEvent[] = [];
  const json: string[] = [];
  for (const ne of list) {
    seq++;
    // One object per event: hashed, inserted and returned as it is.
    const event = numbered(sessionId, seq, hash, ne, s, now);
    event.hash = eventHash(hash, event);
    events.push(event);
    json.push(JSON.stringify(event.data));
    hash = event.hash;
  }
  const finished = events.find((e) => e.type === 'session.finished');
  return { events, json, head: { seq, hash, finished: !!head.finished || !!finished }, finished };
}

/** What both stores share: the one sanitiser every write goes through. */
export abstract class SanitizingStore {
  protected readonly sanitizer = new Sanitizer();

  addSecrets(values: Iterable<string>): void {
    this.sanitizer.addSecrets(values);
  }

  clean<T>(value: T): T {
    return this.sanitizer.clean(value);
  }
}
