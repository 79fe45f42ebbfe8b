import { z } from 'zod';
import { parseDuration } from '../duration.js';

/** `release.schedule` in cockpit.config.yaml: a release every `every`, counted from `anchor` (one past release). */
export const scheduleSchema = z.strictObject({
  every: z.string().refine((v) => (parseDuration(v) ?? 0) > 0, { message: 'expected a duration like 14d' }),
  anchor: z.string().refine((v) => !Number.isNaN(Date.parse(v)), { message: 'expected a date and time, e.g. 2026-01-07T10:00:00Z' }),
  freeze: z
    .string()
    .refine((v) => parseDuration(v) !== null, { message: 'expected a duration like 24h' })
    .default('24h'),
  announce: z
    .string()
    .refine((v) => parseDuration(v) !== null, { message: 'expected a duration like 48h' })
    .default('48h'),
});

export type Schedule = z.infer<typeof scheduleSchema>;

export interface ReleaseSlot {
  /** When the release is due. */
  release: number;
  /** When the code freeze on develop begins (release − freeze). */
  freezeStart: number;
  /** When the release announcement is due (release − announce). */
  announceBy: number;
}

/**
 * The release slot a moment belongs to: the first scheduled release at or after `now`. (Between a freeze's start
 * and its release, that is the release being frozen for.)
 */
export function nextSlot(schedule: Schedule, now: number): ReleaseSlot {
  const every = parseDuration(schedule.every)!;
  const anchor = Date.parse(schedule.anchor);
  const n = Math.ceil((now - anchor) / every);
  const release = anchor + Math.max(n, 0) * every;
  return { release, freezeStart: release - parseDuration(schedule.freeze)!, announceBy: release - parseDuration(schedule.announce)! };
}
