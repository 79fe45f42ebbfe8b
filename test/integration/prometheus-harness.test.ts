import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  counterReset,
  dbCpuHigh,
  errorSpikeAt,
  failedPaymentAt,
  gapsBetween,
  latencyCreep,
  lowTraffic,
  noTrafficBetween,
  paymentFailures,
  scenarioTime,
  steady,
} from '../helpers/metrics-scenarios.js';
import {
  buildBlocks,
  cleanupPrometheusHarness,
  isAlive,
  pollUntil,
  promQuery,
  promValue,
  prometheusTest,
  startMetricsService,
  startPrometheus,
  type MetricsService,
  type PromServer,
} from '../helpers/prometheus.js';

const info = prometheusTest();

const errorRatio = (window: string, sel = 'job="app"') =>
  `sum(rate(http_request_duration_seconds_count{${sel},status_code=~"5.."}[${window}])) / sum(rate(http_request_duration_seconds_count{${sel}}[${window}]))`;
const p95 = (sel = 'job="app"', window = '5m') =>
  `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[${window}])))`;
const dbCpu = (sel = 'job="db"', window = '1m') => `100 * (1 - rate(node_cpu_seconds_total{${sel},mode="idle"}[${window}]))`;

describe.skipIf(!info.ok)(`prometheus test harness${info.skipReason}`, () => {
  afterAll(cleanupPrometheusHarness);

  describe('live: the metrics service, scraped every second', () => {
    let svc: MetricsService;
    let prom: PromServer;

    beforeAll(async () => {
      svc = await startMetricsService({ rps: 100, errorRatio: 0.002, dbCpuPercent: 42 });
      prom = await startPrometheus({
        scrape: [
          { job: 'app', target: svc.target },
          { job: 'db', target: svc.target, path: '/db-metrics' },
        ],
      });
    });
    afterAll(async () => {
      await prom?.close();
      await svc?.stop();
    });

    it('exposes both payments series, at 0 failures before any failure', async () => {
      const payments = await pollUntil(
        () => promQuery(prom.url, 'payments_total{job="app"}'),
        (v) => v.length === 2,
        { what: 'both payments_total series', timeoutMs: 10_000 },
      );
      const byResult = Object.fromEntries(payments.map((s) => [s.metric.result, s.value]));
      expect(byResult.failed).toBe(0);
      expect(byResult.succeeded).toBeGreaterThanOrEqual(0);
      expect(payments[0].metric.instance).toBe(svc.target);
      expect(await svc.get()).toMatchObject({ rps: 100, dbCpuPercent: 42, paymentFailureRatio: 0 });
    });

    it('the 5xx ratio over [10s] moves to the new errorRatio after set(); the DB CPU is as configured', async () => {
      const before = await pollUntil(
        () => promValue(prom.url, errorRatio('10s')),
        (v) => v !== null && Number.isFinite(v),
        {
          what: 'an error ratio',
          timeoutMs: 10_000,
        },
      );
      expect(before).toBeLessThan(0.01);

      await svc.set({ errorRatio: 0.2 });
      // The 10 s window must fill with new scrapes: ~11 s.
      const after = await pollUntil(
        () => promValue(prom.url, errorRatio('10s')),
        (v) => v !== null && Math.abs(v - 0.2) < 0.01,
        {
          what: 'the error ratio to reach 0.2',
          timeoutMs: 20_000,
        },
      );
      expect(after).toBeCloseTo(0.2, 1);
      await expect(svc.set({ errorRatio: 2 })).rejects.toThrow(/errorRatio must be ≤ 1/);

      // rate() divides by the whole window, so it reads low until the window is full of scrapes: [10s] is full by now.
      const cpu = await pollUntil(
        () => promValue(prom.url, dbCpu('job="db"', '10s')),
        (v) => v !== null && Math.abs(v - 42) < 1,
        {
          what: 'the DB CPU to read 42 %',
          timeoutMs: 10_000,
        },
      );
      expect(cpu).toBeCloseTo(42, 0);
      // The latency model: p95 from the buckets ≈ latencyMs (200 ms by default).
      const lat = await promValue(prom.url, p95('job="app"', '10s'));
      expect(lat! * 1000).toBeGreaterThan(190);
      expect(lat! * 1000).toBeLessThan(210);
    });

    it('stop() makes the API refuse connections; start() serves it again on the same port with the old data', async () => {
      const t0 = Math.floor(Date.now() / 1000) - 1;
      const q = 'payments_total{job="app",result="succeeded"}';
      const old = await promValue(prom.url, q, t0);
      expect(old).not.toBeNull();

      const pid = prom.pid;
      expect(isAlive(pid!)).toBe(true);
      await prom.stop();
      expect(prom.pid).toBeNull();
      expect(isAlive(pid!)).toBe(false);
      // Refused, or reset on a kept-alive socket to the old process (Node's global agent keeps connections alive).
      await expect(axios.get(`${prom.url}/-/ready`, { proxy: false, timeout: 2_000 })).rejects.toHaveProperty(
        'code',
        expect.stringMatching(/^(ECONNREFUSED|ECONNRESET)$/),
      );

      // Not waiting for the first new scrape here (~5 s: Prometheus hands targets to its scrapers every 5 s).
      await prom.start({ waitForTargets: false });
      expect(prom.url).toBe(`http://127.0.0.1:${prom.port}`);
      expect(isAlive(prom.pid!)).toBe(true);
      expect(await promValue(prom.url, q, t0)).toBe(old);
    });

    it('the service process is gone after stop()', async () => {
      const other = await startMetricsService();
      expect(isAlive(other.pid)).toBe(true);
      await other.stop();
      expect(isAlive(other.pid)).toBe(false);
      await expect(axios.get(`${other.url}/control`, { proxy: false, timeout: 2_000 })).rejects.toHaveProperty(
        'code',
        expect.stringMatching(/^(ECONNREFUSED|ECONNRESET)$/),
      );
    });
  });

  describe('backfilled: deterministic scenarios around T = SCENARIO_DEPLOY', () => {
    let spike: PromServer;
    let mixed: PromServer;

    beforeAll(async () => {
      // One scenario alone (queries by job only), and two side by side in one TSDB (told apart by instance).
      const [spikeDir, mixedDir] = await Promise.all([
        buildBlocks(errorSpikeAt(20)),
        buildBlocks([
          gapsBetween(30, 45, { instance: 'app-gap', dbInstance: 'db-gap' }),
          counterReset(25, { instance: 'app-reset', dbInstance: 'db-reset' }),
        ]),
      ]);
      [spike, mixed] = await Promise.all([startPrometheus({ dataDir: spikeDir }), startPrometheus({ dataDir: mixedDir })]);
    });
    afterAll(async () => {
      await Promise.all([spike?.close(), mixed?.close()]);
    });

    it('errorSpikeAt(20): 0.2 % errors before the spike, 5 % after, p95 at latencyMs, no failed payment', async () => {
      expect(await promValue(spike.url, errorRatio('5m'), scenarioTime(10))).toBeCloseTo(0.002, 3);
      expect(await promValue(spike.url, errorRatio('5m'), scenarioTime(-30))).toBeCloseTo(0.002, 3);
      expect(await promValue(spike.url, errorRatio('5m'), scenarioTime(30))).toBeCloseTo(0.05, 3);
      const lat = await promValue(spike.url, p95(), scenarioTime(10));
      expect(lat! * 1000).toBeGreaterThan(198);
      expect(lat! * 1000).toBeLessThan(202);
      expect(await promValue(spike.url, 'sum(rate(http_request_duration_seconds_count{job="app"}[5m]))', scenarioTime(30))).toBeCloseTo(
        20,
        1,
      );
      expect(await promValue(spike.url, 'payments_total{job="app",result="failed"}', scenarioTime(30))).toBe(0);
      expect(await promValue(spike.url, dbCpu(), scenarioTime(30))).toBeCloseTo(35, 1);
      // Consistent histogram: +Inf bucket = count.
      expect(
        await promValue(
          spike.url,
          'sum(http_request_duration_seconds_bucket{job="app",le="+Inf"}) - sum(http_request_duration_seconds_count{job="app"})',
          scenarioTime(30),
        ),
      ).toBe(0);
      // Before the first sample and after the last one (+5 min lookback): nothing.
      expect(await promQuery(spike.url, 'payments_total', scenarioTime(-100))).toEqual([]);
      expect(await promQuery(spike.url, 'payments_total', scenarioTime(80))).toEqual([]);
    });

    it('a gap in the data gives an empty vector, not 0', async () => {
      const sel = 'instance="app-gap"';
      expect(await promValue(mixed.url, errorRatio('5m', sel), scenarioTime(29))).toBeCloseTo(0.002, 3);
      expect(await promQuery(mixed.url, errorRatio('5m', sel), scenarioTime(40))).toEqual([]);
      expect(await promQuery(mixed.url, `payments_total{${sel}}`, scenarioTime(40))).toEqual([]);
      expect(await promQuery(mixed.url, dbCpu('instance="db-gap"'), scenarioTime(40))).toEqual([]);
      expect(await promValue(mixed.url, errorRatio('5m', sel), scenarioTime(50))).toBeCloseTo(0.002, 3);
    });

    it('a counter reset is seen as a reset: no negative rate, the rates carry on', async () => {
      const sel = 'instance="app-reset"';
      expect(await promValue(mixed.url, `payments_total{${sel},result="succeeded"}`, scenarioTime(25))).toBe(0);
      expect(await promValue(mixed.url, `payments_total{${sel},result="succeeded"}`, scenarioTime(24.75))).toBeGreaterThan(10_000);
      expect(await promValue(mixed.url, `resets(payments_total{${sel},result="succeeded"}[10m])`, scenarioTime(30))).toBe(1);
      // Over every 15 s step around the reset, the request rate stays ≈ 20/s and the payment rate ≈ 2/s.
      const minReq = await promValue(
        mixed.url,
        `min_over_time(sum(rate(http_request_duration_seconds_count{${sel}}[5m]))[15m:15s])`,
        scenarioTime(35),
      );
      const maxReq = await promValue(
        mixed.url,
        `max_over_time(sum(rate(http_request_duration_seconds_count{${sel}}[5m]))[15m:15s])`,
        scenarioTime(35),
      );
      expect(minReq).toBeGreaterThan(19);
      expect(maxReq).toBeLessThan(21);
      const minPay = await promValue(mixed.url, `min_over_time(sum(rate(payments_total{${sel}}[5m]))[15m:15s])`, scenarioTime(35));
      expect(minPay).toBeGreaterThan(1.8);
      expect(await promValue(mixed.url, `min_over_time((${dbCpu('instance="db-reset"')})[15m:15s])`, scenarioTime(35))).toBeGreaterThan(30);
      expect(await promValue(mixed.url, errorRatio('5m', sel), scenarioTime(27))).toBeCloseTo(0.002, 3);
      // The other scenario in the same TSDB is untouched.
      expect(await promValue(mixed.url, 'resets(payments_total{instance="app-gap",result="succeeded"}[30m])', scenarioTime(30))).toBe(0);
    });
  });

  it('every named scenario builds with promtool and answers its defining query', async () => {
    const named: Array<[string, string]> = [
      ['steady', steady({ instance: 's-steady', dbInstance: 'd-steady' })],
      ['latencyCreep', latencyCreep({ instance: 's-creep', dbInstance: 'd-creep' })],
      ['lowTraffic', lowTraffic({ instance: 's-low', dbInstance: 'd-low' })],
      ['failedPaymentAt', failedPaymentAt(12, { instance: 's-fail1', dbInstance: 'd-fail1' })],
      ['paymentFailures', paymentFailures(0.03, 15, { instance: 's-payfail', dbInstance: 'd-payfail' })],
      ['dbCpuHigh', dbCpuHigh(10, { instance: 's-cpu', dbInstance: 'd-cpu' })],
      ['noTrafficBetween', noTrafficBetween(20, 40, { instance: 's-idle', dbInstance: 'd-idle' })],
    ];
    const prom = await startPrometheus({ dataDir: await buildBlocks(named.map(([, text]) => text)) });
    try {
      const at = scenarioTime;
      const v = (q: string, min: number) => promValue(prom.url, q, at(min));

      expect(await v(p95('instance="s-steady"'), 30)).toBeCloseTo(0.2, 2);
      expect(await v(errorRatio('5m', 'instance="s-steady"'), 30)).toBeCloseTo(0.002, 3);

      expect(await v(p95('instance="s-creep"'), -10)).toBeCloseTo(0.2, 2);
      expect(await v(p95('instance="s-creep"'), 30)).toBeGreaterThan(0.22); // ≈ 250 ms, minus the 5 m window's lag
      expect(await v(p95('instance="s-creep"'), 30)).toBeLessThan(0.26);
      expect(await v(p95('instance="s-creep"'), 68)).toBeCloseTo(0.3, 2);

      expect(await v('sum(rate(http_request_duration_seconds_count{instance="s-low"}[5m]))', 30)).toBeCloseTo(0.05, 2);

      expect(await v('sum(increase(payments_total{instance="s-fail1",result="failed"}[30m]))', 30)).toBeGreaterThan(0.5);
      expect(await v('payments_total{instance="s-fail1",result="failed"}', 11.75)).toBe(0);
      expect(await v('payments_total{instance="s-fail1",result="failed"}', 12)).toBe(1);
      expect(await v('payments_total{instance="s-fail1",result="failed"}', 70)).toBe(1);

      const payRatio =
        'sum(rate(payments_total{instance="s-payfail",result="failed"}[5m])) / sum(rate(payments_total{instance="s-payfail"}[5m]))';
      expect(await v(payRatio, 10)).toBe(0);
      expect(await v(payRatio, 30)).toBeCloseTo(0.03, 2);

      expect(await v(dbCpu('instance="d-cpu"'), 5)).toBeCloseTo(35, 1);
      expect(await v(dbCpu('instance="d-cpu"'), 20)).toBeCloseTo(92, 1);

      expect(await v(errorRatio('5m', 'instance="s-idle"'), 30)).toBeNaN(); // 0/0: the series are there, the traffic is not
      expect(await v(p95('instance="s-idle"'), 30)).toBeNaN();
      expect(await v(errorRatio('5m', 'instance="s-idle"'), 50)).toBeCloseTo(0.002, 3);
    } finally {
      await prom.close();
    }
  });
});
