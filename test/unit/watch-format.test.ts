import { describe, expect, it } from 'vitest';
import { formatDelta, formatValue, sparkline } from '../../src/core/watch/format.js';

describe('formatValue', () => {
  it('percentages: two significant digits under 1%, two decimals under 10%, one above', () => {
    expect([0.023, 0.002, 0.000123, 0, 0.0234567, 0.8523].map((v) => formatValue(v, 'ratio'))).toEqual([
      '2.3%',
      '0.2%',
      '0.012%',
      '0%',
      '2.35%',
      '85.2%',
    ]);
    expect(formatValue(85.23, 'percent')).toBe('85.2%');
    expect(formatValue(100, 'percent')).toBe('100%');
  });

  it('durations, human', () => {
    expect([0.0005, 0.0025, 0.2123, 1.234, 12.34, 125].map((v) => formatValue(v, 'seconds'))).toEqual([
      '0.5ms',
      '2.5ms',
      '212ms',
      '1.23s',
      '12.3s',
      '2m5s',
    ]);
    expect(formatValue(212.3, 'ms')).toBe('212ms');
  });

  it('rates and counts', () => {
    expect([0.5, 12.34, 250.4, 1234].map((v) => formatValue(v, 'rps'))).toEqual(['0.5 rps', '12.3 rps', '250 rps', '1.2k rps']);
    expect([3, 2.0066, 1500].map((v) => formatValue(v, 'count'))).toEqual(['3', '2.01', '1500']);
  });

  it('no data and non-finite values', () => {
    expect([null, undefined, NaN, Infinity, -Infinity].map((v) => formatValue(v, 'ratio'))).toEqual(['—', '—', 'NaN', '+Inf', '-Inf']);
  });
});

describe('formatDelta', () => {
  it('percentages change in points; a relative change in percent; others in their unit', () => {
    expect(formatDelta(0.021, 'ratio')).toBe('+2.1 points');
    expect(formatDelta(0.01, 'ratio')).toBe('+1 point');
    expect(formatDelta(-0.5, 'percent')).toBe('-0.5 points');
    expect(formatDelta(0.444, 'relative')).toBe('+44.4%');
    expect(formatDelta(-0.08, 'seconds')).toBe('-80ms');
    expect(formatDelta(3, 'count')).toBe('+3');
    expect(formatDelta(0, 'ratio')).toBe('0 points');
    expect(formatDelta(null, 'ratio')).toBe('—');
  });
});

describe('sparkline', () => {
  it('scales to the min and max of the visible values', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([10, 20], 8)).toBe('▁█');
  });

  it('draws a gap for a missing, NaN or infinite value', () => {
    expect(sparkline([1, null, 3, NaN, 2, Infinity], 6)).toBe('▁·█·▅·');
    expect(sparkline([1, null, 3], 3, { gap: ' ' })).toBe('▁ █');
    expect(sparkline([null, null], 5)).toBe('··');
  });

  it('a flat series sits at mid height', () => {
    expect(sparkline([0.2, 0.2, 0.2], 10)).toBe('▄▄▄');
  });

  it('shows the last `width` values, rescaled to them', () => {
    expect(sparkline([100, 0, 1, 2], 3)).toBe('▁▅█');
    expect(sparkline([1, 2, 3], 0)).toBe('');
  });

  it('can widen the scale to include a limit', () => {
    expect(sparkline([20, 60], 2)).toBe('▁█');
    expect(sparkline([20, 60], 2, { min: 0, max: 80 })).toBe('▃▆');
  });
});
