/**
 * When the pre-release messages are due (issue 16, policy "Communication > Pre-Release Communication"): with a
 * `release.schedule`, the release announcement is due `announce` (48 h by default) and the maintenance window 24 h
 * before the next release. Each is sent when a `notify.delivered` for that message (for that version, when both are
 * known) was recorded since the previous release: what `cockpit comms` lists and the home screen says. Pure: the
 * deliveries are read by the caller (cli/comms.ts). No zod here: the home screen computes it at start-up.
 */
import { parseDuration } from '../duration.js';
import { nextSlot, type ScheduleTimes } from '../release/slot.js';

/** The messages the schedule makes due, in the order they fall due. */
export const DUE_MESSAGES = ['release-announcement', 'maintenance-window'] as const;
export type DueMessageName = (typeof DUE_MESSAGES)[number];

/** The policy's lead of the maintenance window: "communicated 24 hours before deployment". */
export const MAINTENANCE_LEAD_MS = 24 * 3_600_000;

/** A delivery recorded in the audit log: which message, the version its session named (null: none), when. */
export interface RecordedDelivery {
  message: string;
  version: string | null;
  at: number;
  sessionId: string;
}

export interface DueMessage {
  message: DueMessageName;
  /** "announcement", "maintenance window". */
  label: string;
  /** The release it is for: its version (null when unknown) and when it is due. */
  version: string | null;
  release: number;
  /** When the message is due. */
  due: number;
  /** due − now: negative once it is past. */
  untilMs: number;
  /** The delivery that sent it, or null. */
  sent: RecordedDelivery | null;
  /** upcoming: not yet due, not sent; due: due now (within the minute); overdue: past due, not sent; sent. */
  state: 'upcoming' | 'due' | 'overdue' | 'sent';
}

const LABELS: Record<DueMessageName, string> = { 'release-announcement': 'announcement', 'maintenance-window': 'maintenance window' };

/** Since when a delivery counts for the next release: the previous scheduled release (the slot before the next). */
export function dueSince(schedule: ScheduleTimes, now: number): number {
  return nextSlot(schedule, now).release - parseDuration(schedule.every)!;
}

/** A version as messages name it: "v1.5.0" (given "1.5.0" or "v1.5.0"). */
const tagOf = (v: string) => (v.startsWith('v') ? v : `v${v}`);
const sameVersion = (a: string, b: string) => tagOf(a) === tagOf(b);

/**
 * The pre-release messages of the next release at `now`: when each is due, and whether it was sent. Without a
 * schedule, nothing is due. `version`: the next release's version when the caller knows it (else null, "next
 * release"); a delivery counts when it is of that message, recorded since the previous release, and of that version
 * when both the delivery and the caller name one.
 */
export function dueMessages(
  schedule: ScheduleTimes | undefined,
  now: number,
  version: string | null,
  deliveries: readonly RecordedDelivery[],
): DueMessage[] {
  if (!schedule) return [];
  const slot = nextSlot(schedule, now);
  const since = dueSince(schedule, now);
  const dueAt: Record<DueMessageName, number> = {
    'release-announcement': slot.announceBy,
    'maintenance-window': slot.release - MAINTENANCE_LEAD_MS,
  };
  return DUE_MESSAGES.map((message) => {
    const sent =
      deliveries
        .filter((d) => d.message === message && d.at >= since && (!version || !d.version || sameVersion(d.version, version)))
        .sort((a, b) => b.at - a.at)[0] ?? null;
    const untilMs = dueAt[message] - now;
    const state = sent ? 'sent' : Math.abs(untilMs) < 60_000 ? 'due' : untilMs > 0 ? 'upcoming' : 'overdue';
    return { message, label: LABELS[message], version, release: slot.release, due: dueAt[message], untilMs, sent, state };
  });
}

/** "3 h", "45 min", "2 d 5 h": how far a due time is, in the words of the due line. */
export function spanText(ms: number): string {
  const mins = Math.round(Math.abs(ms) / 60_000);
  if (mins < 60) return `${mins} min`;
  const h = Math.round(mins / 60);
  if (h < 48) return `${h} h`;
  return h % 24 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${h / 24} d`;
}

/** "Wed 17:03 UTC". */
export function dayTime(ms: number): string {
  const d = new Date(ms);
  const day = d.toLocaleDateString('en-GB', { weekday: 'short', timeZone: 'UTC' });
  return `${day} ${d.toISOString().slice(11, 16)} UTC`;
}

/**
 * One message's line, as the home screen and `cockpit comms` say it: "announcement for v1.5.0 due Wed 17:03 UTC, in
 * 3 h, not sent"; "… due Mon 10:00 UTC, 5 h ago, not sent (overdue)"; "… due …, sent Tue 09:12 UTC".
 */
export function dueText(d: DueMessage, now: number, unnamed: string | null = 'the next release'): string {
  const named = d.version ? tagOf(d.version) : unnamed;
  const what = named ? `${d.label} for ${named}` : d.label;
  const until = d.due - now;
  const when = Math.abs(until) < 60_000 ? 'now' : until > 0 ? `in ${spanText(until)}` : `${spanText(until)} ago`;
  const state = d.sent ? `sent ${dayTime(d.sent.at)}` : until <= -60_000 ? 'not sent (overdue)' : 'not sent';
  return `${what} due ${dayTime(d.due)}, ${when}, ${state}`;
}

/**
 * The home screen's due line, short enough for a 100-column screen: the first message not sent in full ("announcement
 * for v1.5.0 due Wed 17:03 UTC, in 3 h, not sent"; without a version, no "for"), a later one not sent by its due time
 * only ("maintenance window due Thu 17:03"), a sent one by when ("announcement sent Tue 09:12 UTC").
 */
export function dueLine(due: readonly DueMessage[], now: number): string {
  let first = true;
  return due
    .map((d) => {
      if (d.sent) return `${d.label} sent ${dayTime(d.sent.at)}`;
      if (!first) return `${d.label} due ${dayTime(d.due).slice(0, -4)}`;
      first = false;
      return dueText(d, now, null);
    })
    .join(' · ');
}

/** Whether a message is past its due time and not sent (the home screen shows the line as a warning). */
export const overdue = (due: readonly DueMessage[], now: number): boolean => due.some((d) => !d.sent && d.due - now <= -60_000);
