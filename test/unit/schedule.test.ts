import { describe, expect, it } from 'vitest';
import { nextSlot, scheduleSchema } from '../../src/core/release/schedule.js';

const H = 3_600_000;
const D = 24 * H;

describe('release schedule', () => {
  const s = scheduleSchema.parse({ every: '14d', anchor: '2026-01-07T10:00:00Z' });
  const anchor = Date.parse('2026-01-07T10:00:00Z');

  it('defaults to a freeze 24 h and an announcement 48 h before each release', () => {
    expect(s).toMatchObject({ freeze: '24h', announce: '48h' });
    const slot = nextSlot(s, anchor + 3 * D);
    expect(slot.release).toBe(anchor + 14 * D);
    expect(slot.freezeStart).toBe(anchor + 14 * D - 24 * H);
    expect(slot.announceBy).toBe(anchor + 14 * D - 48 * H);
  });

  it('the slot of a moment is the first release at or after it: during a freeze, the release being frozen for', () => {
    expect(nextSlot(s, anchor + 14 * D - 2 * H).release).toBe(anchor + 14 * D);
    expect(nextSlot(s, anchor + 14 * D).release).toBe(anchor + 14 * D);
    expect(nextSlot(s, anchor + 14 * D + 1).release).toBe(anchor + 28 * D);
    expect(nextSlot(s, anchor - 30 * D).release).toBe(anchor);
  });

  it('refuses a schedule it cannot read, with what it expected', () => {
    const r = scheduleSchema.safeParse({ every: 'fortnightly', anchor: 'soon' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues.map((i) => i.message))).toMatch(/expected a duration like 14d.*expected a date and time/);
  });
});
