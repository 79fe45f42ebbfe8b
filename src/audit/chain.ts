import type { EventType, NewEvent, StoredEvent } from '../core/events.js';
import { makeRedactor, mapStrings, sanitizeText, type Redactor } from '../core/sanitize.js';
import { eventHash, type SessionHeader } from './hash.js';

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
    return { ...h, checklistTitle: this.clean(h.checklistTitle), params: this.clean(h.params), operator: this.clean(h.operator) };
  }
}

export interface Head {
  seq: number;
  hash: string;
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
  return { events, json, head: { seq, hash }, finished };
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
