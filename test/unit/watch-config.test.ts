import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/cli/config.js';
import {
  parseWatchConfig,
  prometheusHeaders,
  queriesFor,
  resolveQuery,
  resolveWatchConfig,
  secretEnvNames,
  secretValues,
  watchConfigSchema,
  type WatchConfig,
} from '../../src/core/watch/config.js';

const BASE = { prometheus: { url: 'http://127.0.0.1:9090' }, vars: { job: 'app', dbJob: 'db' } };

function watch(extra: Record<string, unknown> = {}): WatchConfig {
  const r = parseWatchConfig({ ...BASE, ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

function problems(data: unknown): string[] {
  const r = parseWatchConfig(data);
  return r.ok ? [] : r.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const dir = mkdtempSync(path.join(tmpdir(), 'watch-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string) {
  const file = path.join(dir, 'cockpit.config.yaml');
  writeFileSync(file, yaml);
  return loadConfig(file, true);
}

describe('watch config: the built-in signals and rules follow the policy', () => {
  const c = watch();

  it('watches for an hour, every 15 s, against the hour before the deploy, with 5-minute rates', () => {
    expect(c).toMatchObject({ intervalMs: 15_000, durationMs: 3_600_000, baselineMs: 3_600_000, windowMs: 300_000, errorLimit: 4 });
    expect(c.prometheus).toMatchObject({ url: 'http://127.0.0.1:9090', timeoutMs: 10_000, auth: null });
  });

  it("has one rule per alert threshold, in the policy's words", () => {
    expect(c.rules.map((r) => [r.id, r.policy, r.severity, r.advice])).toEqual([
      ['error_rate_increase', '>1% increase in error rate', 'warning', 'alert'],
      ['latency_p95_increase', '>20% increase in response time', 'warning', 'alert'],
      ['failed_payments_any', 'Any failed payments', 'critical', 'alert'],
      ['payment_failure_ratio_high', 'Payment processing failures exceed 1% of transactions', 'critical', 'rollback'],
      ['db_cpu_high', 'Database CPU >80%', 'warning', 'alert'],
    ]);
    const rule = (id: string) => c.rules.find((r) => r.id === id)!;
    expect(rule('error_rate_increase')).toMatchObject({ check: { kind: 'increase', mode: 'absolute', by: 0.01 }, minTraffic: 0.5 });
    expect(rule('latency_p95_increase')).toMatchObject({
      check: { kind: 'increase', mode: 'relative', by: 0.2, floor: 0.025 },
      minTraffic: 0.5,
    });
    expect(rule('failed_payments_any')).toMatchObject({ check: { kind: 'above', threshold: 0 }, consecutive: 1, minTraffic: null });
    expect(rule('payment_failure_ratio_high')).toMatchObject({ check: { kind: 'above', threshold: 0.01 }, minTraffic: 20 });
    expect(rule('db_cpu_high')).toMatchObject({ check: { kind: 'above', threshold: 80 }, consecutive: 3 });
  });

  it('resolves the current queries with the rate window, and $elapsed as whole seconds since the deploy', () => {
    const q = (name: string) => queriesFor(c, c.signals[name], { phase: 'current', elapsedSec: 754.2 });
    expect(q('error_rate').query).toBe(
      '(sum(rate(http_request_duration_seconds_count{job="app",status_code=~"5.."}[300s])) or vector(0)) / sum(rate(http_request_duration_seconds_count{job="app"}[300s]))',
    );
    expect(q('error_rate').traffic).toBe('sum(rate(http_request_duration_seconds_count{job="app"}[300s]))');
    expect(q('latency_p95').query).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="app"}[300s])))',
    );
    expect(q('failed_payments').query).toBe('sum(increase(payments_total{job="app",result="failed"}[755s]))');
    expect(q('payment_failure_ratio').traffic).toBe('sum(increase(payments_total{job="app"}[300s]))');
    expect(q('db_cpu').query).toBe(
      '100 * (1 - sum(rate(node_cpu_seconds_total{job="db",mode="idle"}[300s])) / sum(rate(node_cpu_seconds_total{job="db"}[300s])))',
    );
  });

  it('the baseline is the same query over the baseline window; a since-the-deploy signal has none', () => {
    expect(queriesFor(c, c.signals.latency_p95, { phase: 'baseline' }).query).toContain('[3600s]');
    expect(c.signals.failed_payments.baseline).toBe(false);
    expect(() => queriesFor(c, c.signals.failed_payments, { phase: 'baseline' })).toThrow(/no baseline/);
    expect(() => queriesFor(c, c.signals.failed_payments, { phase: 'current' })).toThrow(/elapsed/);
  });
});

describe('watch config: overriding the built-ins', () => {
  it('an entry with a built-in id changes only the fields it gives', () => {
    const c = watch({ rules: [{ id: 'db_cpu_high', consecutive: 5 }] });
    const r = c.rules.find((x) => x.id === 'db_cpu_high')!;
    expect(r).toMatchObject({ consecutive: 5, policy: 'Database CPU >80%', check: { kind: 'above', threshold: 80 } });
    expect(c.rules).toHaveLength(5);
  });

  it('a check is replaced whole: the error rate in relative mode, with a floor', () => {
    const c = watch({ rules: [{ id: 'error_rate_increase', check: { increase: '50%', mode: 'relative', floor: '0.1%' } }] });
    expect(c.rules[0].check).toEqual({ kind: 'increase', mode: 'relative', by: 0.5, floor: 0.001 });
  });

  it('rules: [] keeps the built-ins; disable drops a rule, or a signal with its rules; defaults: false drops all', () => {
    expect(watch({ rules: [] }).rules).toHaveLength(5);
    const noCpu = watch({ disable: ['db_cpu'], vars: { job: 'app' } });
    expect(noCpu.rules.map((r) => r.id)).not.toContain('db_cpu_high');
    expect(noCpu.signals.db_cpu).toBeUndefined();
    const noRule = watch({ disable: ['latency_p95_increase'] });
    expect(noRule.rules.map((r) => r.id)).not.toContain('latency_p95_increase');
    expect(noRule.signals.latency_p95).toBeDefined(); // still drawn, not judged
    const none = watch({ defaults: false, vars: {} });
    expect([none.rules, none.signals]).toEqual([[], {}]);
  });

  it('adds a signal and a rule of its own, and a signal laid over a built-in keeps its other fields', () => {
    const c = watch({
      signals: {
        queue_depth: { title: 'queue depth', query: 'max(queue_depth{job="${job}"})', unit: 'count' },
        latency_p95: { title: 'p95 latency' },
      },
      rules: [{ id: 'queue', signal: 'queue_depth', check: { above: 1000 }, consecutive: 2 }],
    });
    expect(c.rules.at(-1)).toMatchObject({
      id: 'queue',
      title: 'queue depth > 1000',
      severity: 'warning',
      advice: 'alert',
      onNoData: 'inconclusive',
    });
    expect(c.signals.latency_p95).toMatchObject({ title: 'p95 latency', unit: 'seconds' });
    expect(queriesFor(c, c.signals.queue_depth, { phase: 'current' }).query).toBe('max(queue_depth{job="app"})');
  });

  it('a failure limit alone does not also breach on the first fail', () => {
    const r = watch({ rules: [{ id: 'x', signal: 'db_cpu', check: { above: 90 }, failureLimit: 3 }] }).rules.at(-1)!;
    expect(r).toMatchObject({ consecutive: null, failureLimit: 3, recoverAfter: 1 });
  });
});

describe('watch config: errors name the field', () => {
  it('a missing variable, a wrong unit, an unknown signal, an incomplete new rule', () => {
    expect(
      problems({
        prometheus: { url: 'http://127.0.0.1:9090' },
        vars: { job: 'app' },
        rules: [
          { id: 'error_rate_increase', check: { increase: '250ms' } },
          { id: 'mine', signal: 'nope', check: { above: 1 } },
          { id: 'half', signal: 'db_cpu' },
          { id: 'p', signal: 'latency_p95', check: { increase: 0.2, mode: 'relative' } },
        ],
      }),
    ).toEqual([
      'rules.0.check.increase: "250ms" is a duration, but the signal\'s unit is ratio',
      'rules.1.signal: no signal named nope; signals: error_rate, latency_p95, failed_payments, payment_failure_ratio, db_cpu',
      'rules.2.check: required for a new rule: {above: N}, {below: N} or {increase: N, mode?, floor?}',
      'rules.3.check.increase: a relative increase is a percentage, like 20% (not 0.2)',
    ]);
  });

  it('an unknown variable in a query of its own, $elapsed with a baseline, a guard without traffic', () => {
    expect(
      problems({
        ...BASE,
        signals: {
          a: { query: 'up{job="$jbo"}', unit: 'count' },
          b: { query: 'increase(x[$elapsed])', unit: 'count', baseline: true },
        },
        rules: [{ id: 'g', signal: 'b', check: { above: 0 }, minTraffic: 1 }],
      }),
    ).toEqual([
      'signals.a.query: unknown variable $jbo (define watch.vars.jbo)',
      'signals.b.baseline: a query with $elapsed (since the deploy) has no baseline: set baseline: false',
      'rules.0.minTraffic: signal b has no traffic query to guard with',
    ]);
  });

  it('credentials in the URL, two kinds of auth, a check with two conditions', () => {
    expect(problems({ ...BASE, prometheus: { url: 'https://u:pw@prom.example' } })).toEqual([
      'prometheus.url: no credentials in the URL: put them under prometheus.auth.basic',
    ]);
    expect(problems({ ...BASE, prometheus: { url: 'http://p', auth: { bearer: 'a', basic: { username: 'u', password: 'p' } } } })).toEqual([
      'prometheus.auth: expected one of bearer or basic',
    ]);
    expect(problems({ ...BASE, rules: [{ id: 'db_cpu_high', check: { above: 80, below: 10 } }] })).toEqual([
      'rules.0.check: expected exactly one of above, below or increase',
    ]);
  });

  it('cockpit.config.yaml reports them at file:line:col, like the other sections', () => {
    const yaml = [
      'release:',
      '  remote: origin',
      'watch:',
      '  prometheus:',
      '    url: http://127.0.0.1:9090',
      '  vars: { job: app, dbJob: db }',
      '  interval: soon',
      '  rules:',
      '    - id: db_cpu_high',
      '      check: { above: 80ms }',
      '',
    ].join('\n');
    const errorOf = (text: string) => {
      try {
        load(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      return '';
    };
    expect(
      errorOf(yaml)
        .split('\n')
        .map((l) => l.slice(l.indexOf('cockpit.config.yaml'))),
    ).toEqual([
      'cockpit.config.yaml:7:13: watch.interval: expected a duration like 15s',
      'cockpit.config.yaml:10:23: watch.rules.0.check.above: "80ms" is a duration, but the signal\'s unit is percent',
    ]);
    const fixed = load(yaml.replace('soon', '30s').replace('80ms', '90%'));
    const c = resolveWatchConfig(fixed.watch!);
    expect([c.intervalMs, c.rules.find((r) => r.id === 'db_cpu_high')!.check]).toEqual([30_000, { kind: 'above', threshold: 90 }]);
  });

  it('the schema in the config is the same check; only the URL may come later (cockpit watch --prometheus)', () => {
    const bad = { prometheus: { url: 'http://p' }, rules: [{ id: 'db_cpu_high', check: { above: '80ms' } }] };
    expect(watchConfigSchema().safeParse(bad).success).toBe(false);
    expect(() => resolveWatchConfig(bad)).toThrow(/^watch\.rules\.0\.check\.above: "80ms" is a duration/);
    // No URL in the file: the file is fine, resolving it without one is not.
    expect(watchConfigSchema().safeParse({ vars: { job: 'shop' } }).success).toBe(true);
    expect(() => resolveWatchConfig({ vars: { job: 'shop' } })).toThrow(
      /no Prometheus: set watch\.prometheus\.url, or pass cockpit watch --prometheus URL/,
    );
  });

  it('the job labels default to app and db', () => {
    const c = resolveWatchConfig({ prometheus: { url: 'http://p' } });
    expect(c.vars).toMatchObject({ job: 'app', dbJob: 'db' });
  });
});

describe('resolveQuery', () => {
  it('substitutes $name and ${name}, keeps $$ as $ and a regex anchor', () => {
    const r = resolveQuery('rate(x{job="$job",path=~"/api/.*$"}[${window}]) + ${job}_total + $$', { job: 'app', window: '300s' });
    expect(r).toEqual({ ok: true, query: 'rate(x{job="app",path=~"/api/.*$"}[300s]) + app_total + $' });
  });

  it('an unknown variable is an error, never a query with $x in it', () => {
    expect(resolveQuery('up{job="$job",env="$env"}', { job: 'a' })).toEqual({
      ok: false,
      error: 'unknown variable $env',
      unknown: ['env'],
    });
    expect(resolveQuery('x[${1m}]', {})).toMatchObject({ ok: false, error: '${1m} is not a variable (expected ${name})' });
    expect(resolveQuery('x[${window]', { window: '5m' })).toMatchObject({ ok: false });
  });
});

describe('watch secrets', () => {
  const c = watch({
    prometheus: {
      url: 'https://prom.example/prometheus/',
      headers: { 'X-Scope-OrgID': 'acme', 'X-Api-Key': 'k-literal-1234' },
      auth: { basic: { username: 'watcher', password: { env: 'PROM_PASSWORD' } } },
    },
  });

  it('never prints a secret: env references stay references, literals print as [secret]', () => {
    const printed = JSON.stringify(c);
    expect(printed).not.toContain('k-literal-1234');
    expect(printed).toContain('"X-Api-Key":"[secret]"');
    expect(printed).toContain('{"env":"PROM_PASSWORD"}');
    expect(c.prometheus.url).toBe('https://prom.example/prometheus');
  });

  it('lists the secret values for redaction, and builds the headers', () => {
    const env = { PROM_PASSWORD: 'hunter22' };
    const basic = Buffer.from('watcher:hunter22').toString('base64');
    expect(secretValues(c, env).sort()).toEqual([basic, 'hunter22', 'k-literal-1234'].sort());
    expect(secretEnvNames(c)).toEqual(['PROM_PASSWORD']);
    expect(prometheusHeaders(c, env)).toEqual({
      headers: { 'X-Scope-OrgID': 'acme', 'X-Api-Key': 'k-literal-1234', Authorization: `Basic ${basic}` },
      missing: [],
    });
    expect(prometheusHeaders(c, {}).missing).toEqual(['PROM_PASSWORD']);
  });

  it('a bearer token from the environment', () => {
    const b = watch({ prometheus: { url: 'http://p', auth: { bearer: { env: 'PROM_TOKEN' } } } });
    expect(prometheusHeaders(b, { PROM_TOKEN: 'tok-abcdef' }).headers).toEqual({ Authorization: 'Bearer tok-abcdef' });
  });
});
