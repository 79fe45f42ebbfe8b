import { parseDuration } from '../duration.js';

/** A parsed `release.schedule` (schedule.ts's Schedule): its durations and anchor as the config gives them. */
export interface ScheduleTimes {
  every: string;
  anchor: string;
  freeze: string;
  announce: string;
}

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
export function nextSlot(schedule: ScheduleTimes, now: number): ReleaseSlot {
  const every = parseDuration(schedule.every)!;
  const anchor = Date.parse(schedule.anchor);
  const n = Math.ceil((now - anchor) / every);
  const release = anchor + Math.max(n, 0) * every;
  return { release, freezeStart: release - parseDuration(schedule.freeze)!, announceBy: release - parseDuration(schedule.announce)! };
}
