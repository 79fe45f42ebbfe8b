import { formatDuration } from '../core/duration.js';
import type { StableVersion } from '../core/deploy/history.js';
import { DEPLOY_TIME_WORDS, type DeployTimeSource, type EnvironmentStats, type Stats } from '../core/stats.js';

/** What each figure measures, in words: printed under the figures and carried in the JSON. */
export const STATS_DEFINITIONS = {
  deploymentFrequency:
    'deploys that reached the environment in the window, a week: a deploy-production (or deploy-staging) checklist run alone or inside another (a hotfix)',
  deployTime: DEPLOY_TIME_WORDS,
  leadTime:
    "from the first commit of the release (the oldest author date among the commits its notes describe, as the release's notes step recorded it) to the deploy reaching the environment",
  changeFailureRate:
    'deploys followed by a rollback (rollback-code, rollback-db) or a hotfix before the next deploy; a deploy counts once however many follow it',
  lastStable:
    'the newest deploy (over the whole log) that reached the environment, whose post-deploy watch passed, and that no rollback since went back from; what the rollback step goes back to',
  timeToRestore:
    'per failed deploy: from the first watch breach or failed step after it (else the start of the rollback or hotfix) to the first recovery: a rollback that finished successfully, or the hotfix reaching the environment',
} as const;

/** A span for people: 850ms, 42s, 12m40s, 3h5m, 4d3h. */
export function formatSpan(ms: number): string {
  if (ms < 86_400_000) return formatDuration(ms);
  const d = Math.floor(ms / 86_400_000);
  const h = Math.round((ms - d * 86_400_000) / 3_600_000);
  return h ? `${d}d${h}h` : `${d}d`;
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const minute = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 16);

/** A few session ids and how many more (the JSON has them all). */
export function someSessions(ids: readonly string[], shown = 3): string {
  if (!ids.length) return 'no session';
  const head = ids.slice(0, shown).join(', ');
  return ids.length > shown ? `${head} and ${ids.length - shown} more (--json lists them all)` : head;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "last stable: 1.4.0 (deployed to production by alice in session … on 2026-12-01, watch passed, no rollback since)". */
export function lastStableText(env: string, s: StableVersion | null): string {
  if (!s)
    return `last stable: none in the audit log (no deploy to ${env} reached it with a passed post-deploy watch and stayed; a rollback takes the previous release tag)`;
  const why = s.why.startsWith(`${s.version}: `) ? s.why.slice(s.version.length + 2) : s.why;
  return `last stable: ${s.version} (${why})`;
}

function environmentText(e: EnvironmentStats, s: Stats): string[] {
  const pad = (label: string) => `  ${label.padEnd(23)}`;
  const from = (ids: readonly string[]) => `${' '.repeat(25)}from ${someSessions(ids)}`;
  const lines = [e.environment];
  if (e.lastStable !== undefined) lines.push(`  ${lastStableText(e.environment, e.lastStable)}`);
  const notReached = e.deploys.notReached.length
    ? [
        `${pad('not reached')}${plural(e.deploys.notReached.length, 'deploy attempt')} stopped, failed or still running before ${e.environment}: ${someSessions(e.deploys.notReached)}`,
      ]
    : [];
  if (!e.deploys.count) {
    lines.push(`  no ${e.environment} deploys since ${day(s.since)}: no frequency, lead time, failure rate or time to restore to give`);
    return [...lines, ...notReached];
  }
  lines.push(
    `${pad('deployment frequency')}${e.deploys.perWeek.toFixed(1)} a week (${plural(e.deploys.count, 'deploy')})`,
    from(e.deploys.sessions),
  );
  const lt = e.leadTime;
  if (lt.n) {
    lines.push(
      `${pad('lead time for changes')}median ${formatSpan(lt.medianMs ?? 0)} over ${plural(lt.n, 'deploy')}, first commit to ${e.environment}`,
    );
    lines.push(from(lt.sessions));
  } else lines.push(`${pad('lead time for changes')}unknown: no deploy's release recorded its first commit`);
  if (lt.missing.length)
    lines.push(
      `${' '.repeat(25)}${plural(lt.missing.length, 'deploy')} without a recorded first commit (a hotfix, or a version no release session recorded it for): ${someSessions(lt.missing.map((m) => m.session))}`,
    );
  const cf = e.changeFailure;
  lines.push(
    `${pad('change failure rate')}${Math.round((cf.rate ?? 0) * 100)}% (${cf.failed} of ${plural(cf.of, 'deploy')} followed by a rollback or hotfix)`,
  );
  if (cf.failed) lines.push(from(cf.sessions));
  const r = e.restore;
  if (r.n) {
    lines.push(
      `${pad('time to restore')}median ${formatSpan(r.medianMs ?? 0)} over ${plural(r.n, 'failed deploy')}, breach or failed step to recovery`,
    );
    lines.push(from(r.sessions));
  } else if (!cf.failed) lines.push(`${pad('time to restore')}nothing to restore: no failed deploy`);
  else lines.push(`${pad('time to restore')}unknown: no failed deploy has recovered`);
  for (const o of r.open)
    lines.push(`${' '.repeat(25)}not restored: the deploy of ${o.deploy.session} (failing since ${minute(o.since)} UTC)`);
  const counts = new Map<DeployTimeSource, number>();
  for (const d of e.deploys.items) counts.set(d.timeFrom, (counts.get(d.timeFrom) ?? 0) + 1);
  lines.push(`${pad('counted at')}${[...counts].map(([k, n]) => `${DEPLOY_TIME_WORDS[k].replace(/^its |^it /, '')} (${n})`).join('; ')}`);
  return [...lines, ...notReached];
}

/** The figures as a person reads them: per environment, each figure with a few of its sessions. */
export function renderStatsText(s: Stats, location: string): string {
  const days = Math.round((s.now - s.since) / 86_400_000);
  const head = [
    `The four keys from the audit log ${location}`,
    `since ${minute(s.since)} UTC (${plural(days, 'day')}) until ${minute(s.now)} UTC`,
    '',
  ];
  const body = s.environments.flatMap((e) => [...environmentText(e, s), '']);
  return [...head, ...body, 'Definitions: README "Delivery statistics"; --json carries them with every session.', ''].join('\n');
}

const TIME_KEY = /^(at|since|now|startedAt|deployedAt|firstCommitAt)$/;

/** The figures as JSON: every session, times as ISO-8601 (durations stay milliseconds), the definitions beside them. */
export function renderStatsJson(s: Stats, location: string): string {
  const value = { store: location, ...s, definitions: STATS_DEFINITIONS };
  return (
    JSON.stringify(value, (key, v: unknown) => (typeof v === 'number' && TIME_KEY.test(key) ? new Date(v).toISOString() : v), 2) + '\n'
  );
}
