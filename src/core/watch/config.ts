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
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { formatValue, magnitude } from './format.js';
import { UsageError } from '../errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Units and resolved types

export const UNITS = ['percent', 'ratio', 'seconds', 'ms', 'count', 'rps'] as const;
/** `percent`: 0–100; `ratio`: 0–1 (shown as a percentage); `seconds`/`ms`: durations; `count`; `rps`: per second. */
export type Unit = (typeof UNITS)[number];

export type Severity = 'critical' | 'warning';
export type Advice = 'alert' | 'rollback';
export type OnNoData = 'inconclusive' | 'fail';

/** A check with its thresholds in the signal's unit (a relative increase as a fraction: 0.2 = +20%). */
export type Check =
  | { kind: 'above'; threshold: number }
  | { kind: 'below'; threshold: number }
  | { kind: 'increase'; mode: 'absolute'; by: number }
  | { kind: 'increase'; mode: 'relative'; by: number; floor: number };

/** A secret: a reference to an environment variable, or a literal that prints as `[secret]`. */
export type SecretRef = { readonly env: string } | LiteralSecret;

export interface LiteralSecret {
  readonly literal: true;
  /** Not enumerable: JSON.stringify, console.log and test snapshots show `[secret]`. */
  readonly value: string;
}

export type HeaderValue = string | SecretRef;

export interface PrometheusConfig {
  /** Without a trailing slash; the client appends `/api/v1/query`. */
  url: string;
  timeoutMs: number;
  headers: Record<string, HeaderValue>;
  auth: { bearer: SecretRef } | { basic: { username: string; password: SecretRef } } | null;
}

export interface WatchSignal {
  name: string;
  title: string;
  /** The query template (variables unresolved): see {@link queriesFor}. */
  query: string;
  unit: Unit;
  /** A query giving the traffic for the rules' guard (requests/s, transactions in the window), or null. */
  traffic: string | null;
  trafficUnit: Unit;
  /** Whether a baseline is measured (evaluated at the deploy time over the `baseline` window). */
  baseline: boolean;
  /** The query uses `$elapsed` (measured since the deploy: it has no baseline). */
  usesElapsed: boolean;
  /** Added to the reason when the query returns no series, or null. */
  noDataHint: string | null;
  builtin: boolean;
}

export interface WatchRule {
  id: string;
  signal: string;
  title: string;
  /** The policy's words this rule enforces ("" when none was given). */
  policy: string;
  check: Check;
  /** Samples whose traffic is under this are inconclusive; null: no guard. In the signal's `trafficUnit`. */
  minTraffic: number | null;
  /** Fails in a row that make a breach; null when only `failureLimit` counts. */
  consecutive: number | null;
  /** A breach once the fails (since the start or the last recovery) exceed this; null: not used. */
  failureLimit: number | null;
  /** Passes in a row that end a breach (the rule's `consecutive`, default 1). */
  recoverAfter: number;
  /** Query errors in a row after which the rule reports Prometheus unreachable. */
  errorLimit: number;
  severity: Severity;
  advice: Advice;
  onNoData: OnNoData;
  /** Copied from the signal, so that a rule can be judged and described on its own. */
  subject: string;
  unit: Unit;
  trafficUnit: Unit;
  noDataHint: string | null;
  builtin: boolean;
}

export interface WatchConfig {
  prometheus: PrometheusConfig;
  vars: Record<string, string>;
  intervalMs: number;
  durationMs: number;
  baselineMs: number;
  windowMs: number;
  errorLimit: number;
  /** In order: the built-ins first (as overridden), then the added ones. */
  signals: Record<string, WatchSignal>;
  rules: WatchRule[];
}

// ---------------------------------------------------------------------------------------------------------------
// Secrets

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export function literalSecret(value: string): LiteralSecret {
  const s = { literal: true as const };
  Object.defineProperty(s, 'value', { value, enumerable: false });
  Object.defineProperty(s, 'toJSON', { value: () => '[secret]', enumerable: false });
  Object.defineProperty(s, 'toString', { value: () => '[secret]', enumerable: false });
  Object.defineProperty(s, INSPECT, { value: () => '[secret]', enumerable: false });
  return s as LiteralSecret;
}

export function isSecret(v: HeaderValue | null | undefined): v is SecretRef {
  return typeof v === 'object' && v !== null && ('env' in v || 'literal' in v);
}

/** The value of a secret (undefined when its environment variable is not set). */
export function secretValue(ref: SecretRef, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return 'env' in ref ? env[ref.env] || undefined : ref.value;
}

/** How a secret may be shown: `$PROM_TOKEN` or `[secret]`. */
export function describeSecret(ref: SecretRef): string {
  return 'env' in ref ? `$${ref.env}` : '[secret]';
}

function secretRefs(p: PrometheusConfig): SecretRef[] {
  const refs: SecretRef[] = Object.values(p.headers).filter(isSecret);
  if (p.auth && 'bearer' in p.auth) refs.push(p.auth.bearer);
  if (p.auth && 'basic' in p.auth) refs.push(p.auth.basic.password);
  return refs;
}

/** Every secret value of the watch configuration (env references resolved in `env`): register them for redaction. */
export function secretValues(config: WatchConfig, env: Readonly<Record<string, string | undefined>>): string[] {
  const values = secretRefs(config.prometheus).map((r) => secretValue(r, env));
  const auth = config.prometheus.auth;
  if (auth && 'basic' in auth) {
    // The Authorization header as sent, in case the value shows up encoded (an echoed request, a proxy's log).
    const pw = secretValue(auth.basic.password, env);
    if (pw !== undefined) values.push(basicToken(auth.basic.username, pw));
  }
  return [...new Set(values.filter((v): v is string => !!v))];
}

/** The names of the environment variables the watch configuration reads secrets from. */
export function secretEnvNames(config: WatchConfig): string[] {
  return [...new Set(secretRefs(config.prometheus).flatMap((r) => ('env' in r ? [r.env] : [])))];
}

function basicToken(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/**
 * The HTTP headers to send to Prometheus (custom headers, then Authorization from `auth`), with the secrets
 * resolved from `env`. `missing` names the environment variables that are not set: refuse to start.
 */
export function prometheusHeaders(
  config: WatchConfig,
  env: Readonly<Record<string, string | undefined>>,
): { headers: Record<string, string>; missing: string[] } {
  const headers: Record<string, string> = {};
  const missing: string[] = [];
  const get = (v: HeaderValue): string | undefined => {
    if (!isSecret(v)) return v;
    const value = secretValue(v, env);
    if (value === undefined && 'env' in v) missing.push(v.env);
    return value;
  };
  for (const [name, v] of Object.entries(config.prometheus.headers)) {
    const value = get(v);
    if (value !== undefined) headers[name] = value;
  }
  const auth = config.prometheus.auth;
  if (auth && 'bearer' in auth) {
    const token = get(auth.bearer);
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  } else if (auth && 'basic' in auth) {
    const pw = get(auth.basic.password);
    if (pw !== undefined) headers.Authorization = `Basic ${basicToken(auth.basic.username, pw)}`;
  }
  return { headers, missing: [...new Set(missing)] };
}

// ---------------------------------------------------------------------------------------------------------------
// Query templates

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
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

// ---------------------------------------------------------------------------------------------------------------
// Quantities and checks

const QUANTITY_RE = /^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(%|[a-z]+)?\s*$/i;

type Quantity = number | string;

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

function relativeQuantity(q: Quantity): { ok: true; value: number } | { ok: false; message: string } {
  const m = typeof q === 'string' ? /^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$/.exec(q) : null;
  if (!m) return { ok: false, message: `a relative increase is a percentage, like 20% (not ${JSON.stringify(q)})` };
  return { ok: true, value: Number(m[1]) / 100 };
}

// ---------------------------------------------------------------------------------------------------------------
// The input schema

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * The input schemas, built on first use: zod builds them at a cost (tens of ms) that every command would pay at
 * start-up for a section most configurations do not have.
 */
function makeSchemas() {
  const durationInput = (example: string) =>
    z.union([z.string(), z.number()]).refine((v) => (parseDuration(v) ?? 0) > 0, { message: `expected a duration like ${example}` });
  const envRef = z.strictObject({ env: z.string().regex(ENV_NAME, 'expected an environment variable name') });
  const secretInput = z.union([z.string().min(1), envRef], { error: 'expected a value, or {env: NAME} to read it from the environment' });
  const quantity = z.union([z.number(), z.string()], { error: 'expected a number, a percentage (1%) or a duration (25ms)' });

  const checkInput = z
    .strictObject({
      above: quantity.optional(),
      below: quantity.optional(),
      increase: quantity.optional(),
      mode: z.enum(['absolute', 'relative']).optional(),
      floor: quantity.optional(),
    })
    .superRefine((c, ctx) => {
      const kinds = (['above', 'below', 'increase'] as const).filter((k) => c[k] !== undefined);
      if (kinds.length !== 1) {
        ctx.addIssue({ code: 'custom', path: [], message: 'expected exactly one of above, below or increase' });
        return;
      }
      if (kinds[0] !== 'increase') {
        for (const k of ['mode', 'floor'] as const) {
          if (c[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} applies to increase only` });
        }
      } else if (c.floor !== undefined && c.mode !== 'relative') {
        ctx.addIssue({ code: 'custom', path: ['floor'], message: 'floor applies to mode: relative only' });
      }
    });

  const signalInput = z.strictObject({
    title: z.string().min(1).optional(),
    query: z.string().min(1).optional(),
    unit: z.enum(UNITS).optional(),
    traffic: z.string().min(1).nullable().optional(),
    trafficUnit: z.enum(UNITS).optional(),
    baseline: z.boolean().optional(),
    /** Added to the reason when the query returns no series: what is probably missing. */
    noDataHint: z.string().min(1).optional(),
  });

  const ruleInput = z.strictObject({
    id: z.string().regex(ID, 'expected an id: letters, digits, _ . -'),
    signal: z.string().min(1).optional(),
    title: z.string().min(1).optional(),
    policy: z.string().optional(),
    check: checkInput.optional(),
    /** 0 turns a built-in rule's guard off. */
    minTraffic: z.number().nonnegative().optional(),
    consecutive: z.number().int().min(1).optional(),
    failureLimit: z.number().int().min(0).optional(),
    severity: z.enum(['critical', 'warning']).optional(),
    advice: z.enum(['alert', 'rollback']).optional(),
    onNoData: z.enum(['inconclusive', 'fail']).optional(),
  });

  const prometheusInput = z.strictObject({
    url: z.string().min(1),
    timeout: durationInput('10s').optional(),
    headers: z.record(z.string().regex(HEADER_NAME, 'expected an HTTP header name'), secretInput).optional(),
    auth: z
      .strictObject({
        bearer: secretInput.optional(),
        basic: z.strictObject({ username: z.string().min(1), password: secretInput }).optional(),
      })
      .refine((a) => (a.bearer === undefined) !== (a.basic === undefined), { message: 'expected one of bearer or basic' })
      .optional(),
  });

  const watchObject = z.strictObject({
    /** Optional in the file: `cockpit watch --prometheus URL` (or COCKPIT_PROMETHEUS_URL) can give it. */
    prometheus: prometheusInput.optional(),
    vars: z.record(z.string().regex(VAR_NAME, 'expected a variable name'), z.union([z.string(), z.number()])).optional(),
    interval: durationInput('15s').optional(),
    duration: durationInput('1h').optional(),
    baseline: durationInput('1h').optional(),
    window: durationInput('5m').optional(),
    errorLimit: z.number().int().min(1).optional(),
    defaults: z.boolean().optional(),
    disable: z.array(z.string().min(1)).optional(),
    signals: z.record(z.string().regex(ID, 'expected a signal name: letters, digits, _ . -'), signalInput).optional(),
    rules: z.array(ruleInput).optional(),
  });
  const watchConfigSchema = watchObject.superRefine((w, ctx) => {
    // A missing URL is not an error of the file: the command line can give it (resolveWatchConfig then requires it).
    for (const issue of build(w).issues)
      if (!(w.prometheus === undefined && issue.path[0] === 'prometheus'))
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
  return { signalInput, ruleInput, watchObject, watchConfigSchema };
}

type Schemas = ReturnType<typeof makeSchemas>;
let schemas: Schemas | null = null;
const schemasNow = (): Schemas => (schemas ??= makeSchemas());

export type WatchConfigInput = z.infer<Schemas['watchObject']>;
export type SignalInput = z.infer<Schemas['signalInput']>;
export type RuleInput = z.infer<Schemas['ruleInput']>;

/** The `watch:` section: shape, then everything {@link resolveWatchConfig} checks, with paths into the section. */
export function watchConfigSchema(): Schemas['watchConfigSchema'] {
  return schemasNow().watchConfigSchema;
}

/** The built-in queries' job labels when `vars` does not name them: prom-client's usual `app`, node_exporter's `db`. */
export const DEFAULT_VARS: Readonly<Record<string, string>> = { job: 'app', dbJob: 'db' };

// ---------------------------------------------------------------------------------------------------------------
// The built-ins (prom-client names: http_request_duration_seconds{job,status_code}, payments_total{job,result},
// node_exporter's node_cpu_seconds_total under $dbJob)

const REQ = 'http_request_duration_seconds';
const REQUEST_RATE = `sum(rate(${REQ}_count{job="$job"}[$window]))`;

const BUILTIN_SIGNALS: Record<string, SignalInput & { query: string; unit: Unit }> = {
  error_rate: {
    title: 'error rate',
    // The numerator falls back to 0 when no 5xx series exists yet (a healthy service): the denominator still makes
    // "no traffic" an empty result, never a 0% (`or vector(0)` on the whole expression would hide a dead service).
    query: `(sum(rate(${REQ}_count{job="$job",status_code=~"5.."}[$window])) or vector(0)) / ${REQUEST_RATE}`,
    unit: 'ratio',
    traffic: REQUEST_RATE,
    trafficUnit: 'rps',
  },
  latency_p95: {
    title: 'p95 response time',
    query: `histogram_quantile(0.95, sum by (le) (rate(${REQ}_bucket{job="$job"}[$window])))`,
    unit: 'seconds',
    traffic: REQUEST_RATE,
    trafficUnit: 'rps',
  },
  failed_payments: {
    title: 'failed payments since the deploy',
    // No fallback to 0: without a result="failed" series, increase() would also miss the first failure that creates
    // it (prometheus#1673), so "no data" (inconclusive, with the hint) is the honest answer.
    query: 'sum(increase(payments_total{job="$job",result="failed"}[$elapsed]))',
    unit: 'count',
    noDataHint: `no payments_total{result="failed"} series: initialise the counter at start-up (prom-client: counter.inc({ result: 'failed' }, 0))`,
  },
  payment_failure_ratio: {
    title: 'payment failures',
    query: '(sum(rate(payments_total{job="$job",result="failed"}[$window])) or vector(0)) / sum(rate(payments_total{job="$job"}[$window]))',
    unit: 'ratio',
    traffic: 'sum(increase(payments_total{job="$job"}[$window]))',
    trafficUnit: 'count',
  },
  db_cpu: {
    title: 'database CPU',
    // Idle time over all CPU time (not 1 - avg(rate(idle)), which reads high while the window is only partly
    // covered by samples: after a gap, a restart or a fresh start).
    query:
      '100 * (1 - sum(rate(node_cpu_seconds_total{job="$dbJob",mode="idle"}[$window])) / sum(rate(node_cpu_seconds_total{job="$dbJob"}[$window])))',
    unit: 'percent',
  },
};

type FullRuleInput = RuleInput & { signal: string; check: NonNullable<RuleInput['check']> };

const BUILTIN_RULES: FullRuleInput[] = [
  {
    id: 'error_rate_increase',
    signal: 'error_rate',
    title: 'Error rate up more than 1 point',
    policy: '>1% increase in error rate',
    check: { increase: '1%', mode: 'absolute' },
    minTraffic: 0.5,
    consecutive: 2,
    severity: 'warning',
    advice: 'alert',
  },
  {
    id: 'latency_p95_increase',
    signal: 'latency_p95',
    title: 'p95 response time up more than 20%',
    policy: '>20% increase in response time',
    check: { increase: '20%', mode: 'relative', floor: '25ms' },
    minTraffic: 0.5,
    consecutive: 2,
    severity: 'warning',
    advice: 'alert',
  },
  {
    id: 'failed_payments_any',
    signal: 'failed_payments',
    title: 'Any failed payment',
    policy: 'Any failed payments',
    check: { above: 0 },
    consecutive: 1,
    severity: 'critical',
    advice: 'alert',
  },
  {
    id: 'payment_failure_ratio_high',
    signal: 'payment_failure_ratio',
    title: 'Payment failures over 1% of transactions',
    policy: 'Payment processing failures exceed 1% of transactions',
    check: { above: '1%' },
    minTraffic: 20,
    consecutive: 2,
    severity: 'critical',
    advice: 'rollback',
  },
  {
    id: 'db_cpu_high',
    signal: 'db_cpu',
    title: 'Database CPU over 80%',
    policy: 'Database CPU >80%',
    check: { above: '80%' },
    consecutive: 3,
    severity: 'warning',
    advice: 'alert',
  },
];

/** Copies of the built-in signals and rules, as they would be written in the config. */
export function builtinSignals(): Record<string, SignalInput> {
  return structuredClone(BUILTIN_SIGNALS);
}
export function builtinRules(): RuleInput[] {
  return structuredClone(BUILTIN_RULES);
}

const VAR_HINTS: Record<string, string> = {
  job: "the Prometheus job label of the application's metrics",
  dbJob: "the Prometheus job label of the database host's node_exporter",
};

export const WATCH_DEFAULTS = { timeout: '10s', interval: '15s', duration: '1h', baseline: '1h', window: '5m', errorLimit: 4 } as const;

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

function build(w: WatchConfigInput): Built {
  const issues: WatchIssue[] = [];
  const issue = (path: Path, message: string) => issues.push({ path, message });

  // --- prometheus
  if (!w.prometheus) issue(['prometheus', 'url'], 'no Prometheus: set watch.prometheus.url, or pass cockpit watch --prometheus URL');
  const p = w.prometheus ?? { url: 'http://unset.invalid' };
  let url = p.url.trim();
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') issue(['prometheus', 'url'], 'expected an http:// or https:// URL');
    if (u.username || u.password) issue(['prometheus', 'url'], 'no credentials in the URL: put them under prometheus.auth.basic');
    if (u.search || u.hash) issue(['prometheus', 'url'], 'expected the base URL of Prometheus, without ?query or #fragment');
  } catch {
    issue(['prometheus', 'url'], `not a URL: ${JSON.stringify(url)}`);
  }
  url = url.replace(/\/+$/, '');
  const headers: Record<string, HeaderValue> = {};
  for (const [name, v] of Object.entries(p.headers ?? {})) {
    headers[name] = typeof v === 'string' && !SENSITIVE_HEADER.test(name) ? v : toSecret(v);
    if (p.auth && /^authorization$/i.test(name))
      issue(['prometheus', 'headers', name], 'Authorization is set by prometheus.auth: give one or the other');
  }
  const a = p.auth;
  const auth: PrometheusConfig['auth'] =
    a?.bearer !== undefined
      ? { bearer: toSecret(a.bearer) }
      : a?.basic
        ? { basic: { username: a.basic.username, password: toSecret(a.basic.password) } }
        : null;
  const prometheus: PrometheusConfig = {
    url,
    timeoutMs: parseDuration(p.timeout ?? WATCH_DEFAULTS.timeout) || parseDuration(WATCH_DEFAULTS.timeout)!,
    headers,
    auth,
  };

  // --- timing
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

  // --- vars
  const vars: Record<string, string> = { ...DEFAULT_VARS };
  for (const [name, v] of Object.entries(w.vars ?? {})) {
    if ((RUNTIME_VARS as readonly string[]).includes(name)) issue(['vars', name], `$${name} is set at run time; choose another name`);
    vars[name] = String(v);
  }
  const known = new Set([...Object.keys(vars), ...RUNTIME_VARS]);

  // --- which built-ins
  const useDefaults = w.defaults !== false;
  const builtinSignalNames = useDefaults ? Object.keys(BUILTIN_SIGNALS) : [];
  const builtinRuleIds = useDefaults ? BUILTIN_RULES.map((r) => r.id) : [];
  const disabled = new Set<string>();
  (w.disable ?? []).forEach((name, i) => {
    if (!builtinSignalNames.includes(name) && !builtinRuleIds.includes(name)) {
      const what = useDefaults
        ? `built-ins are rules ${builtinRuleIds.join(', ')} and signals ${builtinSignalNames.join(', ')}`
        : 'defaults: false leaves none';
      issue(['disable', i], `no built-in rule or signal named ${name} (${what})`);
    }
    disabled.add(name);
  });

  // --- signals
  const signals: Record<string, WatchSignal> = {};
  const userSignals = w.signals ?? {};
  /** Variables the built-in queries use that `vars` lacks, with the signals using them: one issue per variable. */
  const unset = new Map<string, string[]>();
  const names = [
    ...builtinSignalNames.filter((n) => !disabled.has(n)),
    ...Object.keys(userSignals).filter((n) => !builtinSignalNames.includes(n)),
  ];
  for (const name of Object.keys(userSignals)) {
    if (disabled.has(name) && builtinSignalNames.includes(name))
      issue(['signals', name], `signal ${name} is also in disable: remove one of the two`);
  }
  for (const name of names) {
    const builtin = builtinSignalNames.includes(name) ? BUILTIN_SIGNALS[name] : undefined;
    const user = userSignals[name];
    const merged: SignalInput = { ...builtin, ...user };
    const at = (field: string): Path =>
      user && field in user ? ['signals', name, field] : user ? ['signals', name] : w.vars ? ['vars'] : [];
    if (!merged.query) issue(['signals', name, 'query'], `required for a new signal (no built-in signal is named ${name})`);
    if (!merged.unit) issue(['signals', name, 'unit'], `required for a new signal: one of ${UNITS.join(', ')}`);
    if (!merged.query || !merged.unit) continue;
    const checkVars = (field: 'query' | 'traffic', template: string) => {
      const used = queryVariables(template);
      const r = resolveQuery(template, Object.fromEntries([...known].map((k) => [k, 'x'])));
      if (!r.ok) {
        const missing = used.filter((u) => !known.has(u));
        if (user && field in user) {
          const hint = missing.length ? ` (define ${missing.map((u) => `watch.vars.${u}`).join(', ')})` : '';
          issue(at(field), `${r.error}${hint}`);
        } else {
          for (const u of missing)
            unset.set(
              u,
              [...(unset.get(u) ?? []), name].filter((n, i, all) => all.indexOf(n) === i),
            );
        }
      }
      return used;
    };
    const usesElapsed = checkVars('query', merged.query).includes('elapsed');
    const traffic = merged.traffic ?? null;
    if (traffic !== null && checkVars('traffic', traffic).includes('elapsed'))
      issue(at('traffic'), 'a traffic query cannot use $elapsed: use $window');
    const baseline = merged.baseline ?? !usesElapsed;
    if (baseline && usesElapsed) issue(at('baseline'), 'a query with $elapsed (since the deploy) has no baseline: set baseline: false');
    signals[name] = {
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

  for (const [u, users] of unset) {
    const what = VAR_HINTS[u] ? ` (${VAR_HINTS[u]})` : '';
    issue(
      w.vars ? ['vars'] : [],
      `set vars.${u}${what}: the built-in signal${users.length > 1 ? 's' : ''} ${users.join(', ')} use${users.length > 1 ? '' : 's'} $${u}`,
    );
  }

  // --- rules
  const userRules = w.rules ?? [];
  const userIndex = new Map<string, number>();
  userRules.forEach((r, i) => {
    if (userIndex.has(r.id)) issue(['rules', i, 'id'], `duplicate rule id ${r.id} (also rules[${userIndex.get(r.id)}])`);
    else userIndex.set(r.id, i);
    if (disabled.has(r.id)) issue(['rules', i, 'id'], `rule ${r.id} is also in disable: remove one of the two`);
  });
  const candidates: Array<{ input: RuleInput; builtin: FullRuleInput | undefined; index: number | undefined }> = [];
  for (const b of useDefaults ? BUILTIN_RULES : []) {
    const index = userIndex.get(b.id);
    if (index === undefined && (disabled.has(b.id) || disabled.has(b.signal))) continue;
    if (index !== undefined && disabled.has(b.id)) continue;
    candidates.push({ input: { ...b, ...userRules[index ?? -1] }, builtin: b, index });
  }
  userRules.forEach((r, i) => {
    if (userIndex.get(r.id) === i && !builtinRuleIds.includes(r.id)) candidates.push({ input: r, builtin: undefined, index: i });
  });

  const rules: WatchRule[] = [];
  for (const { input: r, builtin, index } of candidates) {
    const user = index === undefined ? undefined : userRules[index];
    // Where a problem is reported: the user's entry when the field is theirs; else (a built-in's field that no
    // longer fits, e.g. after the user changed its signal) the user's signal, naming the rule.
    const fromUser = (field: string) => !!user && field in user;
    const at = (field: string): Path =>
      fromUser(field)
        ? ['rules', index!, field]
        : user
          ? ['rules', index!]
          : userSignals[r.signal ?? '']
            ? ['signals', r.signal!]
            : w.vars
              ? ['vars']
              : [];
    const says = (field: string, message: string) =>
      issue(at(field), fromUser(field) ? message : `the built-in rule ${r.id}: ${field}: ${message}`);
    if (!r.signal) {
      issue(['rules', index!, 'signal'], `required for a new rule (no built-in rule has id ${r.id})`);
      continue;
    }
    const signal = signals[r.signal];
    if (!signal) {
      const why = disabled.has(r.signal) ? ` (it is disabled)` : '';
      says('signal', `no signal named ${r.signal}${why}; signals: ${Object.keys(signals).join(', ') || 'none'}`);
      continue;
    }
    if (!r.check) {
      issue(['rules', index!, 'check'], `required for a new rule: {above: N}, {below: N} or {increase: N, mode?, floor?}`);
      continue;
    }
    const check = resolveCheck(r.check, signal.unit, (field, message) =>
      fromUser('check') ? issue(['rules', index!, 'check', field], message) : says('check', `${field}: ${message}`),
    );
    if (!check) continue;
    if (check.kind === 'increase' && !signal.baseline) says('check', `an increase needs a baseline, and signal ${signal.name} has none`);
    const minTraffic = r.minTraffic && r.minTraffic > 0 ? r.minTraffic : null;
    if (minTraffic !== null && signal.traffic === null) says('minTraffic', `signal ${signal.name} has no traffic query to guard with`);
    const consecutive = r.consecutive ?? (r.failureLimit !== undefined ? null : 1);
    rules.push({
      id: r.id,
      signal: signal.name,
      title: r.title ?? `${signal.title} ${describeCheck(check, signal.unit)}`,
      policy: r.policy ?? '',
      check,
      minTraffic,
      consecutive,
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
      builtin: !!builtin,
    });
  }

  if (issues.length) return { config: null, issues };
  return { config: { prometheus, vars, intervalMs, durationMs, baselineMs, windowMs, errorLimit, signals, rules }, issues };
}

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
