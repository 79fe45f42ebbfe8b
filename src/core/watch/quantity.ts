/** Quantities in the config ("80ms", "+1%", "2") read in a signal's unit, and checks described in words. */
import { parseDuration } from '../duration.js';
import type { Unit } from './types.js';

const QUANTITY_RE = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(%|[a-z]+)?\s*$/i;

export type Quantity = number | string;

/** A quantity in the unit of a signal: `80` (as is), `1%` (percent/ratio signals), `25ms`/`2s` (time signals). */
export function quantityIn(q: Quantity, unit: Unit): { ok: true; value: number } | { ok: false; message: string } {
  if (typeof q === 'number') return Number.isFinite(q) ? { ok: true, value: q } : { ok: false, message: 'expected a finite number' };
  const m = QUANTITY_RE.exec(q);
  if (!m) return { ok: false, message: `expected a number, a percentage (1%) or a duration (25ms), not "${q}"` };
  const n = Number(m[1]);
  const suffix = m[2]?.toLowerCase();
  if (!suffix) return { ok: true, value: n };
  if (suffix === '%') {
    if (unit === 'percent') return { ok: true, value: n };
    if (unit === 'ratio') return { ok: true, value: n / 100 };
    return { ok: false, message: `"${q}" is a percentage, but the signal's unit is ${unit}` };
  }
  const ms = parseDuration(`${Math.abs(n)}${suffix}`);
  if (ms === null) return { ok: false, message: `unknown unit "${m[2]}" in "${q}"` };
  const signed = n < 0 ? -ms : ms;
  if (unit === 'seconds') return { ok: true, value: signed / 1000 };
  if (unit === 'ms') return { ok: true, value: signed };
  return { ok: false, message: `"${q}" is a duration, but the signal's unit is ${unit}` };
}

export function relativeQuantity(q: Quantity): { ok: true; value: number } | { ok: false; message: string } {
  const m = typeof q === 'string' ? /^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$/.exec(q) : null;
  if (!m) return { ok: false, message: `a relative increase is a percentage, like 20% (not ${JSON.stringify(q)})` };
  return { ok: true, value: Number(m[1]) / 100 };
}
