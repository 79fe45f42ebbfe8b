/**
 * The post-deploy watch: its `watch:` section of cockpit.config.yaml, and how it resolves into a ready-to-use
 * structure (every duration in ms, every query a template with known variables, every check in the signal's unit).
 *
 * ```yaml
 * watch:
 *   prometheus:
 *     url: http://127.0.0.1:9090           # http(s); no user:password@ in it (use auth.basic)
 *     timeout: 10s                          # per query (default 10s): the server-side `timeout=`
 *     headers: { X-Scope-OrgID: acme }      # values: a string, or {env: NAME} (a secret)
 *     auth: { bearer: { env: PROM_TOKEN } } # or { basic: { username: u, password: { env: PROM_PASSWORD } } }
 *   vars: { job: app, dbJob: db }           # substituted as $job / ${dbJob} in the queries
 *   interval: 15s                           # poll interval (default 15s)
 *   duration: 1h                            # the watch length (default 1h: the policy's "monitor for 1 hour")
 *   baseline: 1h                            # the window before the deploy that is the baseline (default 1h)
 *   window: 5m                              # rate window of the current samples, $window (default 5m)
 *   errorLimit: 4                           # query errors in a row before a rule reports Prometheus unreachable
 *   defaults: true                          # start from the built-in signals and rules (default true)
 *   disable: [db_cpu]                       # built-in rules (by id) or signals (by name, with their rules) to drop
 *   signals:
 *     <name>: { title, query, unit: percent|ratio|seconds|ms|count|rps,
 *               traffic: <query: requests/s or transactions for the guard>, trafficUnit: rps, baseline: true,
 *               noDataHint: <what to check when the query returns nothing> }
 *   rules:
 *     - { id, signal, title, policy: "<the policy's words>", check: <check>, minTraffic: 0.5,
 *         consecutive: 1, failureLimit: 3, severity: critical|warning, advice: alert|rollback,
 *         onNoData: inconclusive|fail }
 * ```
 *
 * Checks (strictly greater/less: the policy's words are all "more than"):
 *  - `{above: 80}`: fail when value > 80;  `{below: 99%}`: fail when value < 99%.
 *  - `{increase: 1%}` (mode absolute, the default): fail when value − baseline > 1 percentage point.
 *  - `{increase: 20%, mode: relative, floor: 25ms}`: fail when value > baseline × 1.2 AND value − baseline > 25 ms.
 *  Quantities are numbers in the signal's unit, or carry their unit: `1%` (a percent or ratio signal: 1 point),
 *  `250ms` / `2s` (a seconds or ms signal). A relative increase is always a percentage (`20%`).
 *
 * Variables: `$name` or `${name}` (use the braces when a letter, digit or `_` follows); `$$` is a literal `$`; a `$`
 * before anything else (the `$` anchor of a regex in `=~"…$"`) stays. Besides `vars`, two are set at run time:
 * `$window` (the rate window: `window` for current samples, `baseline` for the baseline) and `$elapsed` (the time
 * since the deploy), both as PromQL durations (`300s`). An unknown variable is a configuration error.
 *
 * Merging with the built-ins (unless `defaults: false`):
 *  - `signals`: an entry named like a built-in signal is laid over it field by field (give only what changes);
 *    any other name adds a signal, which needs `query` and `unit`.
 *  - `rules`: an entry whose `id` is a built-in rule's is laid over it field by field (`check` is replaced whole);
 *    any other id adds a rule, which needs `signal` and `check`. `rules: []` adds nothing and keeps the built-ins:
 *    drop one with `disable: [id]`, or all with `defaults: false`.
 *
 * Secrets (`{env: NAME}`, a literal bearer token or password, a literal sensitive header such as Authorization)
 * never appear in the resolved structure's printable form: an env reference stays a reference, a literal is a
 * {@link LiteralSecret} that prints as `[secret]`. {@link secretValues} lists the values for redaction.
 */
import { parseDuration } from '../duration.js';
import { formatValue, magnitude } from './format.js';
export * from './types.js';
export * from './secrets.js';
export * from './query.js';
export * from './quantity.js';
export * from './schema.js';
export * from './rules.js';
import { UsageError } from '../errors.js';
import { type Quantity, quantityIn, relativeQuantity } from './quantity.js';
import { RUNTIME_VARS, queryVariables, resolveQuery } from './query.js';
import { BUILTIN_RULES, BUILTIN_SIGNALS, type FullRuleInput, VAR_HINTS, WATCH_DEFAULTS } from './rules.js';
import { DEFAULT_VARS, type RuleInput, type SignalInput, type WatchConfigInput, schemasNow } from './schema.js';
import { literalSecret } from './secrets.js';
import {
  type Check,
  type HeaderValue,
  type PrometheusConfig,
  type SecretRef,
  UNITS,
  type Unit,
  type WatchConfig,
  type WatchRule,
  type WatchSignal,
} from './types.js';

// ---------------------------------------------------------------------------------------------------------------
// Resolution

type Path = Array<string | number>;
export interface WatchIssue {
  path: Path;
  message: string;
}

/** The `watch:` section is invalid: bad input (exit 2); setup names the config file in front of it. */
export class WatchConfigError extends UsageError {
  constructor(readonly issues: WatchIssue[]) {
    super(issues.map((i) => `watch${i.path.length ? '.' : ''}${i.path.join('.')}: ${i.message}`).join('\n'));
  }
}

const SENSITIVE_HEADER = /authorization|cookie|token|secret|key|password/i;

function toSecret(v: string | { env: string }): SecretRef {
  return typeof v === 'string' ? literalSecret(v) : { env: v.env };
}

/** A check in words: `> +1 point over the baseline`, `> 80%`, `> +20% over the baseline (and > +25ms)`. */
export function describeCheck(check: Check, unit: Unit): string {
  switch (check.kind) {
    case 'above':
      return `> ${formatValue(check.threshold, unit)}`;
    case 'below':
      return `< ${formatValue(check.threshold, unit)}`;
    case 'increase':
      if (check.mode === 'absolute') return `> +${magnitude(check.by, unit)} over the baseline`;
      return `> +${magnitude(check.by, 'relative')} over the baseline${check.floor > 0 ? ` (and > +${magnitude(check.floor, unit)})` : ''}`;
  }
}

interface Built {
  config: WatchConfig | null;
  issues: WatchIssue[];
}

/** Records an issue at a path in the `watch:` section. */
type Report = (path: Path, message: string) => void;

/** Resolves a `watch:` section into a config, or collects every issue (in section order) that prevents it. */
function build(w: WatchConfigInput): Built {
  const issues: WatchIssue[] = [];
  const issue: Report = (path, message) => issues.push({ path, message });
  const prometheus = resolvePrometheus(w.prometheus, issue);
  const { intervalMs, durationMs, baselineMs, windowMs, errorLimit } = resolveTiming(w, issue);
  const vars = resolveVars(w.vars, issue);
  const builtins = resolveBuiltins(w, issue);
  const signals = resolveSignals(w, vars, builtins, issue);
  const rules = resolveRules(w, signals, builtins, errorLimit, issue);
  if (issues.length) return { config: null, issues };
  return { config: { prometheus, vars, intervalMs, durationMs, baselineMs, windowMs, errorLimit, signals, rules }, issues };
}

// --- prometheus

/** Resolves `prometheus:` (base URL, timeout, headers with secrets, auth), reporting a missing or unusable URL. */
function resolvePrometheus(input: WatchConfigInput['prometheus'], issue: Report): PrometheusConfig {
  if (!input) issue(['prometheus', 'url'], 'no Prometheus: set watch.prometheus.url, or pass cockpit watch --prometheus URL');
  const p = input ?? { url: 'http://unset.invalid' };
  const url = p.url.trim();
  checkPrometheusUrl(url, issue);
  return {
    url: url.replace(/\/+$/, ''),
    timeoutMs: parseDuration(p.timeout ?? WATCH_DEFAULTS.timeout) || parseDuration(WATCH_DEFAULTS.timeout)!,
    headers: resolveHeaders(p, issue),
    auth: resolveAuth(p.auth),
  };
}

/** Reports a Prometheus URL that is not an http(s) base URL without credentials, query or fragment. */
function checkPrometheusUrl(url: string, issue: Report): void {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') issue(['prometheus', 'url'], 'expected an http:// or https:// URL');
    if (u.username || u.password) issue(['prometheus', 'url'], 'no credentials in the URL: put them under prometheus.auth.basic');
    if (u.search || u.hash) issue(['prometheus', 'url'], 'expected the base URL of Prometheus, without ?query or #fragment');
  } catch {
    issue(['prometheus', 'url'], `not a URL: ${JSON.stringify(url)}`);
  }
}

/** Resolves the headers (sensitive or env ones as secrets), reporting an Authorization header that `auth` also sets. */
function resolveHeaders(p: NonNullable<WatchConfigInput['prometheus']>, issue: Report): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  for (const [name, v] of Object.entries(p.headers ?? {})) {
    headers[name] = typeof v === 'string' && !SENSITIVE_HEADER.test(name) ? v : toSecret(v);
    if (p.auth && /^authorization$/i.test(name))
      issue(['prometheus', 'headers', name], 'Authorization is set by prometheus.auth: give one or the other');
  }
  return headers;
}

/** Resolves `prometheus.auth` (bearer or basic, with its secret) or null. */
function resolveAuth(a: NonNullable<WatchConfigInput['prometheus']>['auth']): PrometheusConfig['auth'] {
  return a?.bearer !== undefined
    ? { bearer: toSecret(a.bearer) }
    : a?.basic
      ? { basic: { username: a.basic.username, password: toSecret(a.basic.password) } }
      : null;
}

// --- timing and vars

/** Resolves the durations (in ms) and the error limit, reporting a watch shorter than one interval. */
function resolveTiming(w: WatchConfigInput, issue: Report) {
  // (An unreadable duration was reported by the schema, which still runs this to report the rest: use the default.)
  const ms = (v: string | number | undefined, d: string) => parseDuration(v ?? d) || parseDuration(d)!;
  const intervalMs = ms(w.interval, WATCH_DEFAULTS.interval);
  const durationMs = ms(w.duration, WATCH_DEFAULTS.duration);
  const baselineMs = ms(w.baseline, WATCH_DEFAULTS.baseline);
  const windowMs = ms(w.window, WATCH_DEFAULTS.window);
  if (durationMs < intervalMs)
    issue(
      ['duration'],
      `the watch (${w.duration ?? WATCH_DEFAULTS.duration}) is shorter than one interval (${w.interval ?? WATCH_DEFAULTS.interval})`,
    );
  const errorLimit = w.errorLimit ?? WATCH_DEFAULTS.errorLimit;
  return { intervalMs, durationMs, baselineMs, windowMs, errorLimit };
}

/** Resolves `vars` over the defaults, reporting a name that a run-time variable already has. */
function resolveVars(input: WatchConfigInput['vars'], issue: Report): Record<string, string> {
  const vars: Record<string, string> = { ...DEFAULT_VARS };
  for (const [name, v] of Object.entries(input ?? {})) {
    if ((RUNTIME_VARS as readonly string[]).includes(name)) issue(['vars', name], `$${name} is set at run time; choose another name`);
    vars[name] = String(v);
  }
  return vars;
}

// --- which built-ins

/** The built-ins in play and what `disable` names. */
interface Builtins {
  useDefaults: boolean;
  signalNames: string[];
  ruleIds: string[];
  disabled: Set<string>;
}

/** Resolves which built-in signals and rules are in play and which are disabled, reporting a `disable` entry naming none. */
function resolveBuiltins(w: WatchConfigInput, issue: Report): Builtins {
  const useDefaults = w.defaults !== false;
  const signalNames = useDefaults ? Object.keys(BUILTIN_SIGNALS) : [];
  const ruleIds = useDefaults ? BUILTIN_RULES.map((r) => r.id) : [];
  const disabled = new Set<string>();
  (w.disable ?? []).forEach((name, i) => {
    if (!signalNames.includes(name) && !ruleIds.includes(name)) {
      const what = useDefaults
        ? `built-ins are rules ${ruleIds.join(', ')} and signals ${signalNames.join(', ')}`
        : 'defaults: false leaves none';
      issue(['disable', i], `no built-in rule or signal named ${name} (${what})`);
    }
    disabled.add(name);
  });
  return { useDefaults, signalNames, ruleIds, disabled };
}

// --- signals

/** What resolving one signal shares with the others: known variables, and those the built-in queries lack. */
interface SignalScope {
  w: WatchConfigInput;
  known: Set<string>;
  /** Variables the built-in queries use that `vars` lacks, with the signals using them: one issue per variable. */
  unset: Map<string, string[]>;
  issue: Report;
}

/** Resolves the signals (the built-ins kept, then the user's new ones), then reports the variables the built-ins lack. */
function resolveSignals(w: WatchConfigInput, vars: Record<string, string>, b: Builtins, issue: Report): Record<string, WatchSignal> {
  const signals: Record<string, WatchSignal> = {};
  const userSignals = w.signals ?? {};
  const scope: SignalScope = { w, known: new Set([...Object.keys(vars), ...RUNTIME_VARS]), unset: new Map(), issue };
  const names = [...b.signalNames.filter((n) => !b.disabled.has(n)), ...Object.keys(userSignals).filter((n) => !b.signalNames.includes(n))];
  for (const name of Object.keys(userSignals)) {
    if (b.disabled.has(name) && b.signalNames.includes(name))
      issue(['signals', name], `signal ${name} is also in disable: remove one of the two`);
  }
  for (const name of names) {
    const builtin = b.signalNames.includes(name) ? BUILTIN_SIGNALS[name] : undefined;
    const signal = resolveSignal(name, builtin, userSignals[name], scope);
    if (signal) signals[name] = signal;
  }
  reportUnsetVars(w, scope.unset, issue);
  return signals;
}

/** Resolves one signal (the user's entry laid over the built-in) with its defaults; null when it lacks a query or unit. */
function resolveSignal(
  name: string,
  builtin: SignalInput | undefined,
  user: SignalInput | undefined,
  scope: SignalScope,
): WatchSignal | null {
  const { w, issue } = scope;
  const merged: SignalInput = { ...builtin, ...user };
  const at = (field: string): Path =>
    user && field in user ? ['signals', name, field] : user ? ['signals', name] : w.vars ? ['vars'] : [];
  if (!merged.query) issue(['signals', name, 'query'], `required for a new signal (no built-in signal is named ${name})`);
  if (!merged.unit) issue(['signals', name, 'unit'], `required for a new signal: one of ${UNITS.join(', ')}`);
  if (!merged.query || !merged.unit) return null;
  const checkVars = (field: 'query' | 'traffic', template: string) =>
    checkQueryVars(name, template, user && field in user ? at(field) : null, scope);
  const usesElapsed = checkVars('query', merged.query).includes('elapsed');
  const traffic = merged.traffic ?? null;
  if (traffic !== null && checkVars('traffic', traffic).includes('elapsed'))
    issue(at('traffic'), 'a traffic query cannot use $elapsed: use $window');
  const baseline = merged.baseline ?? !usesElapsed;
  if (baseline && usesElapsed) issue(at('baseline'), 'a query with $elapsed (since the deploy) has no baseline: set baseline: false');
  return {
    name,
    title: merged.title ?? name,
    query: merged.query,
    unit: merged.unit,
    traffic,
    trafficUnit: merged.trafficUnit ?? 'rps',
    baseline,
    usesElapsed,
    noDataHint: merged.noDataHint ?? null,
    builtin: !!builtin,
  };
}

/**
 * The variables a query template uses. An unknown one is reported at `userPath` when the template is the user's
 * (null: a built-in's), else noted in `scope.unset` against the signal.
 */
function checkQueryVars(name: string, template: string, userPath: Path | null, scope: SignalScope): string[] {
  const { known, unset } = scope;
  const used = queryVariables(template);
  const r = resolveQuery(template, Object.fromEntries([...known].map((k) => [k, 'x'])));
  if (!r.ok) {
    const missing = used.filter((u) => !known.has(u));
    if (userPath) {
      const hint = missing.length ? ` (define ${missing.map((u) => `watch.vars.${u}`).join(', ')})` : '';
      scope.issue(userPath, `${r.error}${hint}`);
    } else {
      for (const u of missing)
        unset.set(
          u,
          [...(unset.get(u) ?? []), name].filter((n, i, all) => all.indexOf(n) === i),
        );
    }
  }
  return used;
}

/** Reports each variable the built-in queries use that `vars` lacks, once, naming the signals that use it. */
function reportUnsetVars(w: WatchConfigInput, unset: Map<string, string[]>, issue: Report): void {
  for (const [u, users] of unset) {
    const what = VAR_HINTS[u] ? ` (${VAR_HINTS[u]})` : '';
    issue(
      w.vars ? ['vars'] : [],
      `set vars.${u}${what}: the built-in signal${users.length > 1 ? 's' : ''} ${users.join(', ')} use${users.length > 1 ? '' : 's'} $${u}`,
    );
  }
}

// --- rules

/** A rule to resolve: its merged input, the built-in it starts from, and the index of the user's entry. */
interface RuleCandidate {
  input: RuleInput;
  builtin: FullRuleInput | undefined;
  index: number | undefined;
}

/** What resolving one rule needs besides its own entries. */
interface RuleScope {
  w: WatchConfigInput;
  signals: Record<string, WatchSignal>;
  disabled: Set<string>;
  errorLimit: number;
  issue: Report;
}

/** Resolves the rules: their candidates first, then each against its signal. */
function resolveRules(
  w: WatchConfigInput,
  signals: Record<string, WatchSignal>,
  b: Builtins,
  errorLimit: number,
  issue: Report,
): WatchRule[] {
  const scope: RuleScope = { w, signals, disabled: b.disabled, errorLimit, issue };
  const rules: WatchRule[] = [];
  for (const candidate of ruleCandidates(w.rules ?? [], b, issue)) {
    const rule = resolveRule(candidate, scope);
    if (rule) rules.push(rule);
  }
  return rules;
}

/** The rules to resolve (kept built-ins with the user's entry laid over, then new ones), reporting duplicate or disabled ids. */
function ruleCandidates(userRules: RuleInput[], b: Builtins, issue: Report): RuleCandidate[] {
  const userIndex = new Map<string, number>();
  userRules.forEach((r, i) => {
    if (userIndex.has(r.id)) issue(['rules', i, 'id'], `duplicate rule id ${r.id} (also rules[${userIndex.get(r.id)}])`);
    else userIndex.set(r.id, i);
    if (b.disabled.has(r.id)) issue(['rules', i, 'id'], `rule ${r.id} is also in disable: remove one of the two`);
  });
  const candidates: RuleCandidate[] = [];
  for (const builtin of b.useDefaults ? BUILTIN_RULES : []) {
    const index = userIndex.get(builtin.id);
    if (index === undefined && (b.disabled.has(builtin.id) || b.disabled.has(builtin.signal))) continue;
    if (index !== undefined && b.disabled.has(builtin.id)) continue;
    candidates.push({ input: { ...builtin, ...userRules[index ?? -1] }, builtin, index });
  }
  userRules.forEach((r, i) => {
    if (userIndex.get(r.id) === i && !b.ruleIds.includes(r.id)) candidates.push({ input: r, builtin: undefined, index: i });
  });
  return candidates;
}

/** Resolves one rule against its signal (its check in the signal's unit, its traffic guard); null once it reported why not. */
function resolveRule({ input: r, builtin, index }: RuleCandidate, scope: RuleScope): WatchRule | null {
  const { signals, disabled, issue } = scope;
  const user = index === undefined ? undefined : scope.w.rules![index];
  const { fromUser, says } = ruleReporter(r, index, user, scope);
  if (!r.signal) {
    issue(['rules', index!, 'signal'], `required for a new rule (no built-in rule has id ${r.id})`);
    return null;
  }
  const signal = signals[r.signal];
  if (!signal) {
    const why = disabled.has(r.signal) ? ` (it is disabled)` : '';
    says('signal', `no signal named ${r.signal}${why}; signals: ${Object.keys(signals).join(', ') || 'none'}`);
    return null;
  }
  if (!r.check) {
    issue(['rules', index!, 'check'], `required for a new rule: {above: N}, {below: N} or {increase: N, mode?, floor?}`);
    return null;
  }
  const check = resolveCheck(r.check, signal.unit, (field, message) =>
    fromUser('check') ? issue(['rules', index!, 'check', field], message) : says('check', `${field}: ${message}`),
  );
  if (!check) return null;
  if (check.kind === 'increase' && !signal.baseline) says('check', `an increase needs a baseline, and signal ${signal.name} has none`);
  const minTraffic = r.minTraffic && r.minTraffic > 0 ? r.minTraffic : null;
  if (minTraffic !== null && signal.traffic === null) says('minTraffic', `signal ${signal.name} has no traffic query to guard with`);
  return ruleWithDefaults(r, signal, check, minTraffic, scope.errorLimit, !!builtin);
}

/** How a rule reports a problem with a field: at the user's entry, or at their signal naming the built-in rule. */
function ruleReporter(r: RuleInput, index: number | undefined, user: RuleInput | undefined, scope: RuleScope) {
  // Where a problem is reported: the user's entry when the field is theirs; else (a built-in's field that no
  // longer fits, e.g. after the user changed its signal) the user's signal, naming the rule.
  const fromUser = (field: string) => !!user && field in user;
  const at = (field: string): Path =>
    fromUser(field)
      ? ['rules', index!, field]
      : user
        ? ['rules', index!]
        : (scope.w.signals ?? {})[r.signal ?? '']
          ? ['signals', r.signal!]
          : scope.w.vars
            ? ['vars']
            : [];
  const says = (field: string, message: string) =>
    scope.issue(at(field), fromUser(field) ? message : `the built-in rule ${r.id}: ${field}: ${message}`);
  return { fromUser, says };
}

/** The resolved rule: its fields with their defaults, and what it shows of its signal. */
function ruleWithDefaults(
  r: RuleInput,
  signal: WatchSignal,
  check: Check,
  minTraffic: number | null,
  errorLimit: number,
  builtin: boolean,
): WatchRule {
  return {
    id: r.id,
    signal: signal.name,
    title: r.title ?? `${signal.title} ${describeCheck(check, signal.unit)}`,
    policy: r.policy ?? '',
    check,
    minTraffic,
    consecutive: r.consecutive ?? (r.failureLimit !== undefined ? null : 1),
    failureLimit: r.failureLimit ?? null,
    recoverAfter: r.consecutive ?? 1,
    errorLimit,
    severity: r.severity ?? 'warning',
    advice: r.advice ?? 'alert',
    onNoData: r.onNoData ?? 'inconclusive',
    subject: signal.title,
    unit: signal.unit,
    trafficUnit: signal.trafficUnit,
    noDataHint: signal.noDataHint,
    builtin,
  };
}

/** Resolves a rule's check into the signal's unit, reporting each unusable quantity by its field; null when it cannot be. */
function resolveCheck(c: NonNullable<RuleInput['check']>, unit: Unit, issue: (field: string, message: string) => void): Check | null {
  const abs = (field: 'above' | 'below' | 'increase' | 'floor', q: Quantity): number | null => {
    const r = quantityIn(q, unit);
    if (!r.ok) issue(field, r.message);
    return r.ok ? r.value : null;
  };
  if (c.above !== undefined) {
    const v = abs('above', c.above);
    return v === null ? null : { kind: 'above', threshold: v };
  }
  if (c.below !== undefined) {
    const v = abs('below', c.below);
    return v === null ? null : { kind: 'below', threshold: v };
  }
  if (c.increase === undefined) return null;
  if (c.mode === 'relative') {
    const r = relativeQuantity(c.increase);
    if (!r.ok) issue('increase', r.message);
    const floor = c.floor === undefined ? 0 : abs('floor', c.floor);
    if (floor !== null && floor < 0) issue('floor', 'expected a floor of 0 or more');
    return r.ok && floor !== null ? { kind: 'increase', mode: 'relative', by: r.value, floor: Math.max(0, floor) } : null;
  }
  const by = abs('increase', c.increase);
  if (by !== null && by < 0) issue('increase', 'expected an increase of 0 or more');
  return by === null ? null : { kind: 'increase', mode: 'absolute', by };
}

/** Validates and resolves a `watch:` section (as parsed from YAML, or built by the CLI). */
export function parseWatchConfig(data: unknown): { ok: true; config: WatchConfig } | { ok: false; issues: WatchIssue[] } {
  const shape = schemasNow().watchObject.safeParse(data);
  if (!shape.success) {
    return {
      ok: false,
      issues: shape.error.issues.map((i) => {
        const path = (i.code === 'unrecognized_keys' ? [...i.path, i.keys[0]] : i.path) as Path;
        return { path, message: i.message };
      }),
    };
  }
  const b = build(shape.data);
  return b.config ? { ok: true, config: b.config } : { ok: false, issues: b.issues };
}

/** Resolves a validated `watch:` section (`CockpitConfig['watch']`); throws {@link WatchConfigError} otherwise. */
export function resolveWatchConfig(input: WatchConfigInput): WatchConfig {
  const b = build(input);
  if (!b.config) throw new WatchConfigError(b.issues);
  return b.config;
}

let refined: ReturnType<typeof refine> | null = null;
const refine = () =>
  schemasNow().watchObject.superRefine((w, ctx) => {
    // A missing URL is not an error of the file: the command line can give it (resolveWatchConfig then requires it).
    for (const issue of build(w).issues)
      if (!(w.prometheus === undefined && issue.path[0] === 'prometheus'))
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

/** The `watch:` section: shape, then everything {@link resolveWatchConfig} checks, with paths into the section (built on first use). */
export function watchConfigSchema(): ReturnType<typeof refine> {
  return (refined ??= refine());
}
