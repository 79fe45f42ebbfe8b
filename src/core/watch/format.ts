/**
 * How the watch shows numbers: values in their unit, deltas (percentage points for percentages, relative changes
 * as +N%), and one-line sparklines.
 *
 *  - percent / ratio: `2.3%`, `0.012%`, `85.2%` — two significant digits under 1%, two decimals under 10%, one above;
 *  - seconds / ms: `0.8ms`, `212ms`, `1.23s`, `12.5s`, `2m5s`;
 *  - rps: `0.5 rps`, `12.3 rps`, `1.2k rps`; count: `3`, `2.01`.
 *  - no data `—`, `NaN`, `+Inf`, `-Inf`.
 */
import { formatDuration } from '../duration.js';
import type { Unit } from './types.js';

function trim(v: number, decimals: number): string {
  let s = v.toFixed(decimals);
  if (s.includes('.')) s = s.replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}

/** A percentage number (no sign handling beyond the number's own). */
function pct(p: number): string {
  const a = Math.abs(p);
  if (a === 0) return '0';
  if (a >= 10) return trim(p, 1);
  if (a >= 1) return trim(p, 2);
  return trim(p, Math.min(8, 1 - Math.floor(Math.log10(a))));
}

function seconds(s: number): string {
  const a = Math.abs(s);
  const ms = s * 1000;
  if (a * 1000 < 10) return `${trim(ms, a * 1000 < 1 ? 3 : 1)}ms`;
  if (a < 1) return `${trim(ms, 0)}ms`;
  if (a < 10) return `${trim(s, 2)}s`;
  if (a < 60) return `${trim(s, 1)}s`;
  return `${s < 0 ? '-' : ''}${formatDuration(a * 1000)}`;
}

function plain(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return trim(v, 0);
  if (a >= 10) return trim(v, 1);
  return trim(v, 2);
}

function nonFinite(value: number | null | undefined): string | null {
  if (value === null || value === undefined) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return null;
}

/** A value in its unit: `2.3%`, `212ms`, `12.3 rps`; `—` for no data. */
export function formatValue(value: number | null | undefined, unit: Unit): string {
  const nf = nonFinite(value);
  if (nf !== null) return nf;
  const v = value as number;
  switch (unit) {
    case 'percent':
      return `${pct(v)}%`;
    case 'ratio':
      return `${pct(v * 100)}%`;
    case 'seconds':
      return seconds(v);
    case 'ms':
      return seconds(v / 1000);
    case 'rps': {
      const a = Math.abs(v);
      return a >= 1000 ? `${trim(v / 1000, 1)}k rps` : `${plain(v)} rps`;
    }
    case 'count':
      return plain(v);
  }
}

/**
 * A signed change: for percent/ratio signals in percentage points (`+2.1 points`, `-0.5 points`, `+1 point`), for
 * the others in the unit (`+45ms`, `+3`), and with `'relative'` a relative change (`+44%`).
 */
export function formatDelta(delta: number | null | undefined, unit: Unit | 'relative'): string {
  const nf = nonFinite(delta);
  if (nf !== null) return nf;
  const d = delta as number;
  const text = magnitude(Math.abs(d), unit);
  if (Number(/^[\d.]+/.exec(text)?.[0]) === 0) return text;
  return `${d < 0 ? '-' : '+'}${text}`;
}

/** |delta| in words, without a sign: `2.1 points`, `45ms`, `44%`. */
export function magnitude(abs: number, unit: Unit | 'relative'): string {
  if (unit === 'relative') return `${pct(abs * 100)}%`;
  if (unit === 'percent' || unit === 'ratio') {
    const p = pct(unit === 'ratio' ? abs * 100 : abs);
    return `${p} point${p === '1' ? '' : 's'}`;
  }
  return formatValue(abs, unit);
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

export interface SparklineOptions {
  /** Drawn for a sample without a value (null, NaN, ±Inf). Default `·`. */
  gap?: string;
  /** Widen the scale to include these (e.g. the baseline or the limit); they never narrow it. */
  min?: number;
  max?: number;
}

/**
 * The last `width` values as a sparkline (`▁▂▃▄▅▆▇█`), scaled to the min and max of those values; a flat series is
 * drawn at mid height, a missing value as the gap character. Shorter than `width` when there are fewer values.
 */
export function sparkline(values: ReadonlyArray<number | null | undefined>, width: number, opts: SparklineOptions = {}): string {
  const n = Math.max(0, Math.floor(width));
  if (n === 0) return '';
  const visible = values.slice(-n);
  const gap = opts.gap ?? '·';
  const finite = visible.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (opts.min !== undefined && Number.isFinite(opts.min)) lo = Math.min(lo, opts.min);
  if (opts.max !== undefined && Number.isFinite(opts.max)) hi = Math.max(hi, opts.max);
  const span = hi - lo;
  return visible
    .map((v) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return gap;
      if (!(span > 0)) return BARS[3];
      return BARS[Math.min(7, Math.max(0, Math.round(((v - lo) / span) * 7)))];
    })
    .join('');
}
