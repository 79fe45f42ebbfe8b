/** Query templates: `$var`/`${var}` substitution, the runtime variables, and the queries of a signal. */
import type { WatchConfig, WatchSignal } from './types.js';

export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VAR_RE = /\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
/** The variables set at run time, not in `vars`. */
export const RUNTIME_VARS = ['window', 'elapsed'] as const;

export type ResolvedQuery = { ok: true; query: string } | { ok: false; error: string; unknown: string[] };

/** The variables a query template uses, in order of first use. */
export function queryVariables(template: string): string[] {
  const names = new Set<string>();
  for (const m of template.matchAll(VAR_RE)) {
    const name = m[2] ?? m[3];
    if (name !== undefined) names.add(name);
  }
  return [...names];
}

/**
 * Substitutes `$name` and `${name}` (`$$` gives `$`). An unknown variable, or a `${…}` that is not a name, is an
 * error: a query is never sent with a `$x` left in it.
 */
export function resolveQuery(template: string, vars: Readonly<Record<string, string | number>>): ResolvedQuery {
  const unknown: string[] = [];
  const bad: string[] = [];
  const query = template.replace(VAR_RE, (whole, dollar: string | undefined, braced: string | undefined, bare: string | undefined) => {
    if (dollar) return '$';
    const name = braced ?? bare!;
    if (braced !== undefined && !VAR_NAME.test(braced)) {
      bad.push(whole);
      return whole;
    }
    const v = Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
    if (v === undefined) {
      if (!unknown.includes(name)) unknown.push(name);
      return whole;
    }
    return String(v);
  });
  if (bad.length) return { ok: false, error: `${bad[0]} is not a variable (expected \${name})`, unknown };
  const open = /\$\{/.exec(query.replace(VAR_RE, ''));
  if (open) return { ok: false, error: 'unterminated ${ in the query', unknown };
  if (unknown.length) {
    return { ok: false, error: `unknown variable${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `$${u}`).join(', ')}`, unknown };
  }
  return { ok: true, query };
}

/** A duration as PromQL writes it: whole seconds as `300s`, otherwise `1500ms`. */
export function promDuration(ms: number): string {
  const r = Math.max(1, Math.round(ms));
  return r % 1000 === 0 ? `${r / 1000}s` : `${r}ms`;
}

export interface SignalQueries {
  query: string;
  /** The traffic query, or null when the signal has none. */
  traffic: string | null;
  /** The `$window` used. */
  window: string;
}

/**
 * The queries to send for a signal, variables resolved:
 *  - `current`: `$window` = the rate window, `$elapsed` = `elapsedSec` (at least 1 s) — evaluate at now;
 *  - `baseline`: `$window` = the baseline window — evaluate at the deploy time (`time=` of the instant query), which
 *    gives "over the hour before the deploy". A signal without a baseline (`$elapsed`) throws.
 * Throws on an unresolvable template (a resolved config never has one) or a missing `elapsedSec`.
 */
export function queriesFor(
  config: Pick<WatchConfig, 'vars' | 'windowMs' | 'baselineMs'>,
  signal: WatchSignal,
  opts: { phase: 'current' | 'baseline'; elapsedSec?: number },
): SignalQueries {
  if (opts.phase === 'baseline' && signal.usesElapsed)
    throw new Error(`signal ${signal.name} has no baseline: it is measured since the deploy ($elapsed)`);
  const window = promDuration(opts.phase === 'baseline' ? config.baselineMs : config.windowMs);
  const vars: Record<string, string> = { ...config.vars, window };
  if (opts.elapsedSec !== undefined) vars.elapsed = `${Math.max(1, Math.ceil(opts.elapsedSec))}s`;
  const resolve = (template: string, what: string): string => {
    const r = resolveQuery(template, vars);
    if (!r.ok) {
      const hint = r.unknown.includes('elapsed') && opts.elapsedSec === undefined ? ' (pass elapsedSec)' : '';
      throw new Error(`signal ${signal.name}: ${what}: ${r.error}${hint}`);
    }
    return r.query;
  };
  return { query: resolve(signal.query, 'query'), traffic: signal.traffic === null ? null : resolve(signal.traffic, 'traffic'), window };
}
