/** The watch's resolved types: units, checks, secrets as references, the Prometheus connection, signals, rules and the whole `watch:` config. */

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
