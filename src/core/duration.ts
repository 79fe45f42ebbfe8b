/** Durations as written in checklists: `90` (seconds), `10s`, `5m`, `2h`, `1h30m`, `250ms`. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The longest wait a timer can hold: Node's setTimeout keeps a signed 32-bit count of milliseconds, and a longer one
 * fires at once (with a warning), so a `timeout: 30d` would kill its step immediately. Every duration that becomes a
 * timer (step timeouts, the watch's duration, interval, timeout, baseline and window, the --duration and --interval
 * flags) is refused above it when it is read.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why a duration cannot be a timer, or null when it can: "30d is longer than …". */
export function timerDurationProblem(input: string | number, ms: number | null = parseDuration(input)): string | null {
  if (ms === null || ms <= MAX_TIMER_MS) return null;
  return `${String(input).trim()} is longer than the longest wait the cockpit can time (about 24.8 days: 2^31-1 ms)`;
}

/** Milliseconds, or null for text that is not a duration (or a number too large to be one). */
export function parseDuration(input: string | number): number | null {
  const ms = parseDurationUnchecked(input);
  return ms !== null && Number.isSafeInteger(ms) ? ms : null;
}

function parseDurationUnchecked(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : null;
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== text.length) return null;
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  // Rounded once, at the unit shown: 119.6 s is 2m (not "1m60s"), 59.7 s is 1m, 999.7 ms is 1.0s.
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 9.95) return `${s.toFixed(1)}s`;
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  const m = Math.floor(t / 60);
  const rs = t % 60;
  if (m < 60) return rs ? `${m}m${rs}s` : `${m}m`;
  const h = Math.floor(m / 60);
  const rm = m % 60;
  return rm ? `${h}h${rm}m` : `${h}h`;
}
