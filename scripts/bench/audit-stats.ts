/**
 * Benchmark: `cockpit audit stats` over a big log, against the least any reader of the same rows must do, in one run.
 *
 *   node --import tsx scripts/bench/audit-stats.ts            full run (300 production deploys, ~1M events)
 *   node --import tsx scripts/bench/audit-stats.ts --quick    smoke run (40 deploys)
 *
 * The log: production deploys (the default deploy-production plan: confirmations, the switch, the post-deploy
 * watch) each with 2,000 lines of deploy output and 1,000 watch samples; a release before every fifth deploy (its
 * notes step recording the first commit); a rollback after every tenth; and as many unrelated sessions of 1,000
 * output lines each. Also the rollback step's read of the last stable version (the deploy history, newest first).
 * `audit stats --json` (wall time and peak RSS of the cockpit process) is set beside a node process
 * that reads every row with better-sqlite3 and parses its JSON. Budget: no more time than the raw read, RSS under
 * 150 MB (the stats skip output and samples unparsed and hold a few facts per session). A report, not a test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { SqliteAuditStore } from '../../src/audit/sqlite.js';
import { newSessionRecord } from '../../src/engine/session.js';
import { lastStable } from '../../src/engine/deploy-history.js';
import type { NewEvent, PlanNode, Scope } from '../../src/core/events.js';
import { measureChild, runBenchmark, type MeasuredChild } from './run.js';

const QUICK = process.argv.includes('--quick');
const DEPLOYS = QUICK ? 40 : 300;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'cockpit.js');
const M = 60_000;

const node = (path: string, kind: string, checklist: string, scope: string): PlanNode => ({
  path,
  id: path.split('/').at(-1)!,
  title: path,
  kind,
  depth: path.split('/').length - 1,
  parent: scope || null,
  checklist,
  scope,
  spec: {},
});

function record(id: string, time: number, checklist: string, plan: PlanNode[], scopes: Record<string, Scope>) {
  const text = `id: ${checklist}\ntitle: ${checklist}\nsteps: []\n`;
  return newSessionRecord({
    id,
    time,
    identity: { operator: 'bench', host: 'bench' },
    version: 'bench',
    checklist: { id: checklist, title: checklist, sha256: 'x', text, sources: { [checklist]: text } },
    origin: { file: `${checklist}.yaml`, byId: true },
    params: scopes['']?.params ?? {},
    environment: null,
    mode: 'non-interactive',
    plan,
    scopes,
  });
}

const pass = (stepId: string, time: number, extra: object = {}): NewEvent[] => [
  { type: 'step.started', stepId, actor: 'bench', time, data: { attempt: 1 } },
  { type: 'step.passed', stepId, actor: 'bench', time, data: { via: 'confirmation', ...extra } },
];

const measure = (args: string[], cwd: string) => measureChild(args, cwd);

runBenchmark(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cockpit-bench-stats-'));
  try {
    execFileSync('git', ['init', '-q', '-b', 'main', dir]);
    const store = new SqliteAuditStore(path.join(dir, '.cockpit', 'audit.db'));
    const start = Date.now() - 80 * 24 * 60 * M;
    const gap = (80 * 24 * 60 * M) / DEPLOYS;
    let events = 0;
    const append = async (id: string, list: NewEvent[]) => {
      for (let i = 0; i < list.length; i += 2000) await store.append(id, list.slice(i, i + 2000));
      events += list.length;
    };
    for (let d = 0; d < DEPLOYS; d++) {
      const t = Math.round(start + d * gap);
      const version = `2.${d}.0`;
      if (d % 5 === 0) {
        const id = `rel-${d}`;
        const plan = [node('release-notes', 'notes', 'release', '')];
        const r = record(id, t - 2 * M, 'release', plan, { '': { checklist: 'release', params: { version } } });
        await store.createSession(r.header, r.first);
        const release = { version, commits: 12, firstCommitAt: t - 9 * 24 * 60 * M, lastCommitAt: t - 60 * M, previousTag: null };
        await append(id, [
          ...pass('release-notes', t - M, { release }),
          { type: 'session.finished', actor: 'bench', time: t - M, data: { outcome: 'succeeded' } },
        ]);
      }
      const id = `dep-${d}`;
      const plan = [
        node('deploy-new-env', 'run', 'deploy-production', ''),
        node('switch-traffic', 'confirm', 'deploy-production', ''),
        node('post-deploy-watch', 'checklist', 'deploy-production', ''),
        node('post-deploy-watch/watch', 'watch', 'post-deploy-watch', 'post-deploy-watch'),
      ];
      const scopes = {
        '': { checklist: 'deploy-production', params: { version } },
        'post-deploy-watch': { checklist: 'post-deploy-watch', params: { version, environment: 'production' } },
      };
      const r = record(id, t, 'deploy-production', plan, scopes);
      await store.createSession(r.header, r.first);
      const list: NewEvent[] = [{ type: 'step.started', stepId: 'deploy-new-env', actor: 'bench', time: t, data: { attempt: 1 } }];
      for (let i = 0; i < 2000; i++)
        list.push({
          type: 'step.output',
          stepId: 'deploy-new-env',
          actor: 'cockpit',
          time: t,
          data: { stream: 'stdout', text: `uploading asset ${i} of ${version} (ok, 200, 12 ms)\n` },
        });
      list.push({ type: 'step.passed', stepId: 'deploy-new-env', actor: 'bench', time: t + M, data: { exitCode: 0, via: 'command' } });
      list.push(...pass('switch-traffic', t + 2 * M));
      list.push({ type: 'step.started', stepId: 'post-deploy-watch/watch', actor: 'bench', time: t + 2 * M, data: { attempt: 1 } });
      for (let i = 0; i < 1000; i++)
        list.push({
          type: 'watch.sample',
          stepId: 'post-deploy-watch/watch',
          actor: 'cockpit',
          time: t + 2 * M + i * 3600,
          data: {
            rule: 'error-rate',
            t: t + 2 * M + i * 3600,
            query: 'sum(rate(x[5m]))',
            raw: '0.001',
            value: 0.001,
            baseline: 0.001,
            verdict: 'pass',
            reason: 'ok',
          },
        });
      if (d % 10 === 9)
        list.push({
          type: 'watch.breach',
          stepId: 'post-deploy-watch/watch',
          actor: 'cockpit',
          time: t + 30 * M,
          data: { rule: 'error-rate', t: t + 30 * M, reason: 'up', advice: 'rollback', policy: 'p' },
        });
      // The watch's verdict, as a real watch records it at its end (the deploy history reads it).
      const verdict = d % 10 === 9 ? 'fail' : 'pass';
      list.push({
        type: 'watch.finished',
        stepId: 'post-deploy-watch/watch',
        actor: 'cockpit',
        time: t + 62 * M,
        data: { verdict, text: verdict, advice: [] },
      });
      list.push(...pass('post-deploy-watch/watch', t + 62 * M), ...pass('post-deploy-watch', t + 62 * M));
      list.push({ type: 'session.finished', actor: 'bench', time: t + 62 * M, data: { outcome: 'succeeded' } });
      await append(id, list);
      if (d % 10 === 9) {
        const rid = `rb-${d}`;
        const rplan = [node('trigger-rollback', 'run', 'rollback-code', '')];
        // Back to the version deployed before.
        const back = { version: `2.${d - 1}.0` };
        const rr = record(rid, t + 35 * M, 'rollback-code', rplan, { '': { checklist: 'rollback-code', params: back } });
        await store.createSession(rr.header, rr.first);
        await append(rid, [
          ...pass('trigger-rollback', t + 44 * M),
          { type: 'session.finished', actor: 'bench', time: t + 44 * M, data: { outcome: 'succeeded' } },
        ]);
      }
      // An unrelated session (a migration, a checklist of the team's own) with its output.
      const uid = `other-${d}`;
      const ur = record(uid, t + 3 * M, 'nightly', [node('job', 'run', 'nightly', '')], { '': { checklist: 'nightly', params: {} } });
      await store.createSession(ur.header, ur.first);
      const other: NewEvent[] = [];
      for (let i = 0; i < 1000; i++)
        other.push({
          type: 'step.output',
          stepId: 'job',
          actor: 'cockpit',
          time: t + 3 * M,
          data: { stream: 'stdout', text: `row ${i}\n` },
        });
      await append(uid, other);
    }
    await store.close();
    console.log(`audit stats: ${DEPLOYS} production deploys, ${(events + DEPLOYS * 2).toLocaleString('en-US')} events in all`);
    const raw = path.join(dir, 'raw-read.mjs');
    writeFileSync(
      raw,
      `import Database from ${JSON.stringify(path.join(ROOT, 'node_modules', 'better-sqlite3', 'lib', 'index.js'))};
const db = new Database(${JSON.stringify(path.join(dir, '.cockpit', 'audit.db'))}, { readonly: true });
let n = 0;
for (const r of db.prepare('SELECT * FROM events ORDER BY session_id, seq').iterate()) { if (JSON.parse(r.data)) n++; }
process.stdout.write(n + ' rows\\n');
`,
    );
    const runs: Record<'raw' | 'stats', MeasuredChild[]> = { raw: [], stats: [] };
    for (let i = 0; i < 3; i++) {
      runs.raw.push(measure([raw], dir));
      runs.stats.push(measure([BIN, '--repo', dir, 'audit', 'stats', '--json'], dir));
    }
    const median = (ms: MeasuredChild[]) => [...ms].sort((a, b) => a.ms - b.ms)[1];
    const [r, s] = [median(runs.raw), median(runs.stats)];
    const p = JSON.parse(s.stdout.toString()).environments[0];
    console.log(`  raw read of every row (baseline): ${(r.ms / 1000).toFixed(2)} s, peak RSS ${r.rssMb.toFixed(0)} MB`);
    console.log(
      `  audit stats --json:               ${(s.ms / 1000).toFixed(2)} s, peak RSS ${s.rssMb.toFixed(0)} MB  → ${(s.ms / r.ms).toFixed(2)}x the raw read`,
    );
    console.log(
      `  found: ${p.deploys.count} deploys, ${p.changeFailure.failed} failed, lead time over ${p.leadTime.n}, ${p.restore.n} restores (median ${Math.round(p.restore.medianMs / 1000)} s)`,
    );
    console.log(
      `  time ${s.ms <= r.ms ? 'PASS' : 'FAIL'} (budget 1x the raw read), RSS ${s.rssMb < 150 ? 'PASS' : 'FAIL'} (budget 150 MB)`,
    );
    // The rollback step's read (the deploy history service), in this process: newest first, stopping at the answer.
    const reader = new SqliteAuditStore(path.join(dir, '.cockpit', 'audit.db'), { readOnly: true });
    try {
      const t0 = performance.now();
      const found = await lastStable(reader, 'production');
      const ms = performance.now() - t0;
      console.log(`  last stable (deploy history):     ${(ms / 1000).toFixed(2)} s → ${found ? found.why : 'none'}`);
      console.log(`  audit stats says:                 ${p.lastStable ? p.lastStable.version : 'none'}`);
    } finally {
      await reader.close();
    }
  } finally {
    if (process.env.KEEP) console.log(`kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
});
