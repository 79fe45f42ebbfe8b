/**
 * Benchmark: a one-hour post-deploy watch on a simulated clock at a 1 s interval with 10 signals, against a real
 * Prometheus (the Debian binary, over a backfilled steady hour), every sample recorded in a real SQLite audit log and
 * folded into the session state as the live screen does. Beside it, in the same run, the raw HTTP round trips of the
 * same queries (the same POSTs, nothing judged or recorded), twice: with Node's own `fetch` (undici, whose connections
 * are kept alive) and with node:http over a keep-alive agent.
 *
 *   node --expose-gc --import tsx scripts/bench/watch.ts           full hour (3600 polls)
 *   node --expose-gc --import tsx scripts/bench/watch.ts --quick   ten minutes (600 polls)
 *
 * Reports: heap and RSS growth over the hour (after GC), CPU per poll for the watch and for both raw round trips,
 * and the idle CPU a live watch would cost at the default 15 s interval. Budgets (docs/architecture.md §8): memory growth
 * ≤ 10 MB over the hour; idle CPU ≤ 1%; the watch's CPU per poll ≤ 1.5x the raw `fetch` round trips. A report, not a
 * test: budget misses still exit 0.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { prometheusClient } from '../../src/adapters/prometheus.js';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import type { NewEvent, StoredEvent } from '../../src/core/events.js';
import { reduce, type SessionState } from '../../src/core/reducer.js';
import { queriesFor, resolveWatchConfig, type WatchConfig } from '../../src/core/watch/config.js';
import { runWatch, simulatedClock } from '../../src/core/watch/run.js';
import { buildBlocks, cleanupPrometheusHarness, startPrometheus } from '../../test/helpers/prometheus.js';
import { SCENARIO_DEPLOY, steady } from '../../test/helpers/metrics-scenarios.js';
import { runBenchmark } from './run.js';

const QUICK = process.argv.includes('--quick');
const POLLS = QUICK ? 600 : 3600;
const INTERVAL_MS = 1000;
const MB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
function settledHeap(): { heap: number; rss: number } {
  for (let i = 0; i < 3; i++) gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/** The five built-in signals and five more (latency p50/p99, request rate, DB CPU user time, memory): 10 signals. */
function config(url: string): WatchConfig {
  return resolveWatchConfig({
    prometheus: { url },
    window: '1m',
    signals: {
      latency_p50: {
        title: 'p50 response time',
        unit: 'seconds',
        query: 'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{job="$job"}[$window])))',
      },
      latency_p99: {
        title: 'p99 response time',
        unit: 'seconds',
        query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="$job"}[$window])))',
      },
      request_rate: { title: 'Request rate', unit: 'rps', query: 'sum(rate(http_request_duration_seconds_count{job="$job"}[$window]))' },
      db_user_cpu: {
        title: 'DB user CPU',
        unit: 'percent',
        query:
          '100 * sum(rate(node_cpu_seconds_total{job="$dbJob",mode="user"}[$window])) / sum(rate(node_cpu_seconds_total{job="$dbJob"}[$window]))',
      },
      checkout_errors: {
        title: 'Checkout errors',
        unit: 'ratio',
        query:
          '(sum(rate(http_request_duration_seconds_count{job="$job",route="/api/checkout",status_code=~"5.."}[$window])) or vector(0)) / sum(rate(http_request_duration_seconds_count{job="$job",route="/api/checkout"}[$window]))',
      },
    },
    rules: [
      { id: 'p50', signal: 'latency_p50', title: 'p50 over 1 s', check: { above: '1s' } },
      { id: 'p99', signal: 'latency_p99', title: 'p99 over 5 s', check: { above: '5s' } },
      { id: 'rate', signal: 'request_rate', title: 'traffic gone', check: { below: 1 } },
      { id: 'dbuser', signal: 'db_user_cpu', title: 'DB user CPU over 90%', check: { above: 90 } },
      { id: 'checkout', signal: 'checkout_errors', title: 'checkout errors over 5%', check: { above: '5%' } },
    ],
  });
}

async function main(): Promise<void> {
  const t0 = performance.now();
  if (!gc) console.log('(run with node --expose-gc for settled memory numbers)');
  console.log(`watch benchmark: ${POLLS} polls at a ${INTERVAL_MS / 1000} s interval on a simulated clock, 10 signals, a real Prometheus`);
  const dataDir = await buildBlocks(steady());
  const prom = await startPrometheus({ dataDir });
  const work = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-watch-'));
  try {
    const cfg = config(prom.url);
    const signals = Object.values(cfg.signals);
    const since = SCENARIO_DEPLOY.getTime();
    console.log(`  setup ${((performance.now() - t0) / 1000).toFixed(1)} s; ${signals.length} signals, ${cfg.rules.length} rules`);

    // ── baseline: the raw round trips of the same queries (resolved as the watch resolves them at each poll) ──
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const post = (query: string, t: number) =>
      new Promise<void>((resolve, reject) => {
        const body = new URLSearchParams({ query, time: (t / 1000).toFixed(3), timeout: '10s' }).toString();
        const req = http.request(
          `${prom.url}/api/v1/query`,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const rawQueries = (t: number) =>
      signals.flatMap((s) => {
        const q = queriesFor(cfg, s, { phase: 'current', elapsedSec: (t - since) / 1000 });
        return q.traffic ? [q.query, q.traffic] : [q.query];
      });
    const perPoll = rawQueries(since + 1000).length;
    // The same POSTs with Node's fetch: the same form and headers (uncompressed answers, as the watch asks for them).
    const postFetch = async (query: string, t: number) => {
      const body = new URLSearchParams({ query, time: (t / 1000).toFixed(3), timeout: '10s' }).toString();
      const res = await fetch(`${prom.url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'accept-encoding': 'identity' },
        body,
      });
      await res.text();
    };
    await Promise.all(rawQueries(since).map((q) => postFetch(q, since))); // connections opened, fetch loaded
    const fetchCpu0 = process.cpuUsage();
    const fetchT0 = performance.now();
    for (let i = 0; i < POLLS; i++) {
      const t = since + i * INTERVAL_MS;
      await Promise.all(rawQueries(t).map((q) => postFetch(q, t)));
    }
    const fetchWall = performance.now() - fetchT0;
    const fetchCpuD = process.cpuUsage(fetchCpu0);
    const fetchCpu = (fetchCpuD.user + fetchCpuD.system) / 1000;
    console.log(
      `  raw round trips, Node's fetch: ${POLLS} polls × ${perPoll} queries in ${(fetchWall / 1000).toFixed(1)} s: ${(fetchWall / POLLS).toFixed(2)} ms and ${(fetchCpu / POLLS).toFixed(2)} ms CPU per poll`,
    );
    await Promise.all(rawQueries(since).map((q) => post(q, since)));
    const rawCpu0 = process.cpuUsage();
    const rawT0 = performance.now();
    for (let i = 0; i < POLLS; i++) {
      const t = since + i * INTERVAL_MS;
      await Promise.all(rawQueries(t).map((q) => post(q, t)));
    }
    const rawWall = performance.now() - rawT0;
    const rawCpuD = process.cpuUsage(rawCpu0);
    const rawCpu = (rawCpuD.user + rawCpuD.system) / 1000;
    agent.destroy();
    console.log(
      `  raw round trips, node:http:   ${POLLS} polls × ${perPoll} queries in ${(rawWall / 1000).toFixed(1)} s: ${(rawWall / POLLS).toFixed(2)} ms and ${(rawCpu / POLLS).toFixed(2)} ms CPU per poll`,
    );

    // ── the watch: the live code path, recorded in SQLite and folded into the session state ──
    const store = new SqliteAuditStore(path.join(work, 'audit.db'));
    const sessionId = 'bench-watch';
    const text = 'id: watch\ntitle: bench\nsteps:\n  - {id: watch, title: Watch, kind: watch}\n';
    const first = await store.createSession(
      {
        id: sessionId,
        checklistId: 'watch',
        checklistTitle: 'bench',
        checklistText: text,
        checklistSources: { watch: text },
        checklistSha256: 'x',
        params: {},
        environment: null,
        operator: 'bench',
        host: 'bench',
        startedAt: since,
      },
      {
        type: 'session.started',
        time: since,
        data: {
          checklist: { id: 'watch', title: 'bench', sha256: 'x' },
          origin: { file: 'bench', byId: false },
          params: {},
          environment: null,
          operator: 'bench',
          host: 'bench',
          pid: process.pid,
          mode: 'non-interactive',
          version: 'bench',
          plan: [
            { path: 'watch', id: 'watch', title: 'Watch', kind: 'watch', depth: 0, parent: null, checklist: 'watch', scope: '', spec: {} },
          ],
          scopes: { '': { checklist: 'watch', params: {} } },
        },
      },
    );
    let state: SessionState = reduce(null, first);
    let events = 0;
    const client = prometheusClient({ url: prom.url, timeoutMs: 10_000 });
    const clock = simulatedClock(since);
    const samples: Array<{ poll: number; heap: number; rss: number }> = [];
    let polls = 0;
    let recordMs = 0;
    let recordCpu = 0;
    const before = settledHeap();
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    const result = await runWatch({
      config: cfg,
      client,
      clock,
      since,
      durationMs: (POLLS - 1) * INTERVAL_MS,
      intervalMs: INTERVAL_MS,
      signal: new AbortController().signal,
      record: async (list) => {
        const r0 = performance.now();
        const c0 = process.cpuUsage();
        const stored: StoredEvent[] = await store.append(
          sessionId,
          list.map((e) => ({ ...e, stepId: 'watch', actor: 'cockpit' }) as NewEvent),
        );
        for (const e of stored) state = reduce(state, e);
        events += stored.length;
        recordMs += performance.now() - r0;
        const cd = process.cpuUsage(c0);
        recordCpu += (cd.user + cd.system) / 1000;
        if (list.some((e) => e.type === 'watch.sample')) {
          polls++;
          if (polls % Math.max(1, Math.floor(POLLS / 12)) === 0)
            samples.push({ poll: polls, ...process.memoryUsage(), heap: process.memoryUsage().heapUsed });
        }
      },
    });
    const wall = performance.now() - w0;
    const cpuD = process.cpuUsage(cpu0);
    const cpu = (cpuD.user + cpuD.system) / 1000;
    const after = settledHeap();
    client.close();
    await store.close();

    const heapGrowth = (after.heap - before.heap) / MB;
    const rssGrowth = (after.rss - before.rss) / MB;
    const cpuPerPoll = cpu / polls;
    const rawPerPoll = rawCpu / POLLS;
    const fetchPerPoll = fetchCpu / POLLS;
    const idle15 = (cpuPerPoll / 15_000) * 100;
    console.log(
      `  watch: ${polls} polls, ${events.toLocaleString('en-US')} events recorded in ${(wall / 1000).toFixed(1)} s: ${(wall / polls).toFixed(2)} ms and ${cpuPerPoll.toFixed(2)} ms CPU per poll; ${result.text}`,
    );
    console.log(
      `  panel state: ${state.watch?.rules.length} rules, ${state.watch?.samples} samples counted, history ≤ ${Math.max(...(state.watch?.rules.map((r) => r.history.length) ?? [0]))} values per rule`,
    );
    console.log(`  heap along the hour (MB): ${samples.map((s) => (s.heap / MB).toFixed(0)).join(' ')}`);
    console.log('');
    console.log(
      `  ${heapGrowth <= 10 ? 'PASS' : 'FAIL'}  heap growth over the ${QUICK ? '10 minutes' : 'hour'}: ${heapGrowth.toFixed(2)} MB after GC (RSS ${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)} MB) (budget ≤ 10 MB)`,
    );
    const ratio = cpuPerPoll / fetchPerPoll;
    console.log(
      `  ${ratio <= 1.5 ? 'PASS' : 'FAIL'}  CPU per poll: watch ${cpuPerPoll.toFixed(2)} ms vs raw round trips with Node's fetch ${fetchPerPoll.toFixed(2)} ms = ${ratio.toFixed(2)}x (budget ≤ 1.5x; judging, recording in SQLite and folding included)`,
    );
    console.log(
      `  ${''.padEnd(4)}  and vs raw round trips with node:http ${rawPerPoll.toFixed(2)} ms = ${(cpuPerPoll / rawPerPoll).toFixed(2)}x`,
    );
    console.log(
      `  ${''.padEnd(4)}  of which recording (durable SQLite append of the poll's events, then the fold): ${(recordCpu / polls).toFixed(2)} ms CPU, ${(recordMs / polls).toFixed(2)} ms wall; querying and judging alone: ${((cpu - recordCpu) / polls).toFixed(2)} ms CPU = ${((cpu - recordCpu) / polls / fetchPerPoll).toFixed(2)}x the fetch round trips, ${((cpu - recordCpu) / polls / rawPerPoll).toFixed(2)}x the node:http ones`,
    );
    console.log(
      `  ${''.padEnd(4)}  wall per poll: watch ${(wall / polls).toFixed(2)} ms vs raw fetch ${(fetchWall / POLLS).toFixed(2)} ms, raw node:http ${(rawWall / POLLS).toFixed(2)} ms`,
    );
    console.log(
      `  ${idle15 <= 1 ? 'PASS' : 'FAIL'}  idle CPU of a live watch at the default 15 s interval: ${idle15.toFixed(3)}% (at 1 s: ${((cpuPerPoll / 1000) * 100).toFixed(2)}%) (budget ≤ 1%)`,
    );
    console.log(`  total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await prom.close();
    await cleanupPrometheusHarness();
    rmSync(work, { recursive: true, force: true });
  }
}

runBenchmark(main);
