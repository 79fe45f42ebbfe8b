// Durations as the screens show them ("1m53s left of 2m", "recovered in 33s"): rounded once, at the unit shown, so a
// watch with 119.6 s left reads "2m", never "1m60s" (seen on the watch panel's first poll).
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/core/duration.js';

describe('formatDuration', () => {
  it('rounds at the unit it shows, never to 60 of a unit', () => {
    expect(formatDuration(119_600)).toBe('2m');
    expect(formatDuration(59_700)).toBe('1m');
    expect(formatDuration(3_599_700)).toBe('1h');
    expect(formatDuration(999.7)).toBe('1.0s');
    expect(formatDuration(9_970)).toBe('10s');
  });

  it('keeps what it showed before elsewhere', () => {
    expect(formatDuration(12)).toBe('12ms');
    expect(formatDuration(1_500)).toBe('1.5s');
    expect(formatDuration(33_000)).toBe('33s');
    expect(formatDuration(113_000)).toBe('1m53s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(15 * 60_000)).toBe('15m');
    expect(formatDuration(90 * 60_000)).toBe('1h30m');
  });
});
