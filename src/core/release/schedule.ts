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

// The slot arithmetic is in slot.ts, without zod: the home screen shows the next slot at start-up (docs/architecture.md §6).
export { nextSlot, type ReleaseSlot } from './slot.js';
