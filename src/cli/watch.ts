/**
 * `cockpit watch`: the post-deploy watch. Live it is a session of the default `watch` checklist (one `watch` step),
 * so it is recorded, resumable (a watch killed mid-hour continues the same hour) and replayable like any other;
 * in a terminal it opens the checklist screen with the monitor panel. `--headless` prints JSON lines and exits 1
 * at the first breach, 0 after a clean hour. `--backtest FROM..TO` runs the same rules over a past window at full
 * speed on a simulated clock and prints which alerts would have fired, and when.
 */
import { formatDuration, parseDuration, timerDurationProblem } from '../core/duration.js';
import type { EventBody, WatchEventType } from '../core/events.js';
import { exhaustive } from '../core/exhaustive.js';
import { neutralize } from '../core/sanitize.js';
import { runWatch, simulatedClock } from '../core/watch/run.js';
import { formatValue } from '../core/watch/format.js';
import { openPrometheus } from '../engine/prometheus.js';
import { parseTime } from '../steps/watch.js';
import { cliContext, parseParams, resumeChecklist, runChecklist, type RunFlags } from './commands.js';
import { UsageError, Workspace, type GlobalOptions } from './setup.js';

export interface WatchFlags extends RunFlags {
  since?: string;
  duration?: string;
  interval?: string;
  prometheus?: string;
  headless?: boolean;
  backtest?: string;
  new?: boolean;
}

const out = (s: string) => void process.stdout.write(neutralize(s));
const utc = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

function checkDuration(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v);
  if (ms === null || ms < min) throw new UsageError(`${flag} ${v}: expected a duration of at least ${formatDuration(min)} (e.g. 15s, 1h)`);
  const tooLong = timerDurationProblem(v, ms);
  if (tooLong) throw new UsageError(`${flag} ${tooLong}`);
  return ms;
}

function checkTime(flag: string, v: string): number {
  const t = parseTime(v);
  if (t === null)
    throw new UsageError(`${flag} ${v}: expected a time: ISO-8601 (2026-01-05T12:00:00Z; without a zone it is UTC) or unix seconds`);
  return t;
}

export async function cmdWatch(g: GlobalOptions, flags: WatchFlags): Promise<number> {
  if (flags.prometheus) {
    if (!/^https?:\/\/[^\s]+$/.test(flags.prometheus))
      throw new UsageError(`--prometheus ${flags.prometheus}: expected http(s)://host:port`);
    process.env.COCKPIT_PROMETHEUS_URL = flags.prometheus;
  }
  const ws = new Workspace(g);
  const config = ws.watchConfig();
  if (!config) {
    throw new UsageError(
      'no Prometheus to watch: pass --prometheus http://host:9090, or set watch.prometheus.url in cockpit.config.yaml (the rules default to the policy’s alert thresholds)',
    );
  }
  const durationMs = checkDuration('--duration', flags.duration, 1000) ?? config.durationMs;
  const intervalMs = checkDuration('--interval', flags.interval, 100);
  if (flags.since !== undefined && flags.backtest === undefined) {
    const since = checkTime('--since', flags.since);
    if (since + durationMs <= Date.now()) {
      const end = utc(since + durationMs);
      throw new UsageError(
        `--since ${flags.since}: that watch would have ended at ${end}. For a past window: ${ws.command([
          'watch',
          '--backtest',
          `${utc(since).replace(' ', 'T')}..${end.replace(' ', 'T')}`,
          ...(flags.prometheus ? ['--prometheus', flags.prometheus] : []),
        ])}`,
      );
    }
    if (since > Date.now() + 60_000)
      throw new UsageError(`--since ${flags.since}: that is in the future; the deploy time is when traffic switched (default: now)`);
  }
  if (flags.backtest !== undefined) return backtest(ws, flags.backtest, { intervalMs, json: !!flags.json });

  // The watch's flags as its checklist's parameters; `-p` given too wins.
  const params: Record<string, string> = Object.assign(
    Object.create(null) as Record<string, string>,
    flags.since ? { since: flags.since } : {},
    flags.duration ? { duration: flags.duration } : {},
    flags.interval ? { interval: flags.interval } : {},
    flags.headless ? { stop_on_breach: 'true' } : {},
    parseParams(flags.param),
  );
  const runFlags: RunFlags = flags.headless ? { nonInteractive: true, json: true, yes: ['all'] } : flags;
  const ctx = cliContext(ws);

  // A watch of this hour that was stopped or killed: continue it rather than start the hour again. (One that
  // failed, on a breach or for want of data, is not continued behind the operator's back: `cockpit resume` retries it.)
  if (!flags.new && !flags.since) {
    const store = await ws.openStore();
    const { sessionStatus } = await import('./sessions.js');
    const { currentIdentity } = await import('../adapters/identity.js');
    // Only unfinished watches whose own hour is not over are looked at (each status reads the session's last event).
    const candidates = (await store.listSessions(50)).filter((s) => {
      if (s.checklistId !== 'watch' || s.outcome) return false;
      const own = s.params.duration;
      const hour = (typeof own === 'string' && own ? parseDuration(own) : null) ?? config.durationMs;
      return s.startedAt + hour > Date.now();
    });
    const locks = candidates.length ? await store.listLocks() : [];
    let open: { id: string; startedAt: number; status: string } | undefined;
    for (const s of candidates) {
      const status = await sessionStatus(store, s, locks, currentIdentity().host);
      if (/^(stopped|crashed)/.test(status)) {
        open = { id: s.id, startedAt: s.startedAt, status };
        break;
      }
    }
    if (open) {
      process.stderr.write(
        `continuing the watch started ${utc(open.startedAt)} (session ${open.id}, ${open.status}): its hour is not over. --new starts another\n`,
      );
      // The session keeps the parameters it started with (a resume takes only secret ones): not the flags' again.
      return resumeChecklist(ctx, { session: open.id, params: parseParams(flags.param), yes: runFlags.yes }, runFlags);
    }
  }
  return runChecklist(ctx, { checklist: 'watch', params, yes: runFlags.yes }, runFlags);
}

/** `FROM..TO`: the rules over a past window at full speed. */
async function backtest(ws: Workspace, range: string, o: { intervalMs?: number; json: boolean }): Promise<number> {
  const m = /^(.+?)\.\.(.+)$/.exec(range.trim());
  if (!m) throw new UsageError(`--backtest ${range}: expected FROM..TO (e.g. 2026-01-05T12:00:00Z..2026-01-05T13:00:00Z)`);
  const from = checkTime('--backtest FROM', m[1]);
  const to = checkTime('--backtest TO', m[2]);
  if (to <= from) throw new UsageError(`--backtest ${range}: TO must come after FROM`);
  if (to > Date.now())
    throw new UsageError(`--backtest ${range}: TO is in the future; a backtest replays a past window (use cockpit watch for a live one)`);
  const config = ws.watchConfig()!;
  const opened = openPrometheus(config);
  if ('error' in opened) throw new UsageError(opened.error);
  const intervalMs = o.intervalMs ?? config.intervalMs;
  const clock = simulatedClock(from);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const rules = new Map(config.rules.map((r) => [r.id, r]));
  let transitions = 0;
  if (!o.json) {
    out(
      `backtest ${utc(from)} .. ${utc(to)} (${formatDuration(to - from)}) every ${formatDuration(intervalMs)} against ${opened.client.url}: ${config.rules.length} rule(s)\n`,
    );
  }
  const show = (e: EventBody<WatchEventType>) => {
    if (o.json) return out(JSON.stringify({ type: e.type, ...e.data }) + '\n');
    const at = (t: unknown) => `${utc(Number(t))} (+${formatDuration(Number(t) - from)})`;
    switch (e.type) {
      case 'watch.baseline': {
        const d = e.data;
        const rule = rules.get(String(d.rule));
        return out(
          `  baseline ${rule?.title ?? d.rule}: ${d.value === null ? `none (${d.error ?? 'no data before the start'})` : formatValue(Number(d.value), rule?.unit ?? 'count')}\n`,
        );
      }
      case 'watch.preflight':
        return e.data.warnings.forEach((w) => out(`  ⚠ check: ${w}\n`));
      case 'watch.breach': {
        const d = e.data;
        transitions++;
        return out(`${at(d.t)}  ✖ ALERT ${d.reason}${d.advice === 'rollback' ? ' — the policy advises a rollback' : ''}\n`);
      }
      case 'watch.recovery': {
        const d = e.data;
        transitions++;
        return out(`${at(d.t)}  ✔ recovered: ${d.reason}\n`);
      }
      case 'watch.connection': {
        const d = e.data;
        return d.state === 'down' ? out(`${at(d.t)}  ⚠ Prometheus not answering: ${d.error}\n`) : undefined;
      }
      case 'watch.finished': {
        const d = e.data;
        out(`${transitions ? '' : 'no alert would have fired\n'}${d.text}\n`);
        for (const a of d.advice ?? []) out(`${a}\n`);
        return;
      }
      // Not shown: a backtest prints the baselines, the alerts, the recoveries and the verdict.
      case 'watch.started':
      case 'watch.sample':
        return;
      default:
        exhaustive(e);
        return;
    }
  };
  try {
    const r = await runWatch({
      config,
      client: opened.client,
      clock,
      since: from,
      durationMs: to - from,
      intervalMs,
      signal: abort.signal,
      record: async (events) => events.forEach(show),
    });
    return r.verdict === 'pass' ? 0 : r.verdict === 'stopped' ? 3 : 1;
  } finally {
    opened.client.close();
  }
}
