import { describe, expect, it } from 'vitest';
import type { AuditEvent, EventDataMap, EventType, PlanNode, Scope } from '../../src/core/events.js';
import { median, parseSince, statsFromEvents, type EnvironmentStats } from '../../src/core/stats.js';
import { renderStatsJson, renderStatsText } from '../../src/report/stats.js';
import { planNode, startedData } from '../helpers/plan.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const NOW = Date.UTC(2026, 11, 6, 4, 0);
const SINCE = NOW - 90 * D;
const opts = { since: SINCE, now: NOW };

/** One session's events, built in order. */
class Session {
  events: AuditEvent[] = [];
  private seq = 0;
  constructor(
    readonly id: string,
    checklist: string,
    plan: PlanNode[],
    scopes: Record<string, Scope>,
    readonly at: number,
  ) {
    this.ev(
      'session.started',
      null,
      at,
      startedData(checklist, plan, { params: scopes['']?.params ?? {}, mode: 'non-interactive', scopes }),
    );
  }
  ev<T extends EventType>(type: T, stepId: string | null, time: number, data: EventDataMap[T]): this {
    this.events.push({ sessionId: this.id, seq: ++this.seq, time, type, stepId, actor: 'alice', data } as AuditEvent);
    return this;
  }
  pass(step: string, time: number, extra: Partial<EventDataMap['step.passed']> = {}): this {
    return this.ev('step.started', step, time, { attempt: 1 }).ev('step.passed', step, time, { via: 'confirmation', ...extra });
  }
  fail(step: string, time: number): this {
    return this.ev('step.started', step, time, { attempt: 1 }).ev('step.failed', step, time, { exitCode: 1, reason: `${step} failed` });
  }
  breach(step: string, time: number): this {
    return this.ev('watch.breach', step, time, { rule: 'error-rate', t: time, reason: 'errors up', advice: 'rollback', policy: 'p' });
  }
  finish(time: number, outcome: 'succeeded' | 'aborted' = 'succeeded'): this {
    return this.ev('session.finished', null, time, { outcome });
  }
}

function node(path: string, kind: string, checklist: string, scope: string): PlanNode {
  return planNode(path, kind, { checklist, scope });
}

/** deploy-production as the default checklist has it (confirmations, the switch, the post-deploy watch), at `prefix`. */
function deployPlan(prefix = '', version = '2.0.0', withSwitch = true): { plan: PlanNode[]; scopes: Record<string, Scope> } {
  const p = (id: string) => (prefix ? `${prefix}/${id}` : id);
  const plan = [
    node(p('approval'), 'confirm', 'deploy-production', prefix),
    node(p('deploy-new-env'), 'confirm', 'deploy-production', prefix),
    ...(withSwitch ? [node(p('switch-traffic'), 'confirm', 'deploy-production', prefix)] : []),
    node(p('post-deploy-watch'), 'checklist', 'deploy-production', prefix),
    node(p('post-deploy-watch/watch'), 'watch', 'post-deploy-watch', p('post-deploy-watch')),
  ];
  const scopes: Record<string, Scope> = {
    [prefix]: { checklist: 'deploy-production', params: { version } },
    [p('post-deploy-watch')]: { checklist: 'post-deploy-watch', params: { version, environment: 'production' } },
  };
  return { plan, scopes };
}

/** A production deploy that switched at `at` and passed its watch. */
function deploy(id: string, at: number, version = '2.0.0'): Session {
  const { plan, scopes } = deployPlan('', version);
  return new Session(id, 'deploy-production', plan, scopes, at - 10 * M)
    .pass('approval', at - 9 * M)
    .pass('deploy-new-env', at - 5 * M)
    .pass('switch-traffic', at)
    .pass('post-deploy-watch/watch', at + H)
    .pass('post-deploy-watch', at + H)
    .finish(at + H);
}

function rollback(id: string, at: number, took = 10 * M, finished = true): Session {
  const plan = [node('criteria', 'confirm', 'rollback-code', ''), node('trigger-rollback', 'confirm', 'rollback-code', '')];
  const s = new Session(id, 'rollback-code', plan, { '': { checklist: 'rollback-code', params: { version: '1.9.0' } } }, at).pass(
    'criteria',
    at + M,
  );
  return finished ? s.pass('trigger-rollback', at + took).finish(at + took) : s;
}

function hotfix(id: string, at: number, switchAfter: number, version = '2.0.1'): Session {
  const d = deployPlan('deploy-production', version);
  const plan = [node('fix', 'confirm', 'hotfix', ''), node('deploy-production', 'checklist', 'hotfix', ''), ...d.plan];
  return new Session(id, 'hotfix', plan, { '': { checklist: 'hotfix', params: { version } }, ...d.scopes }, at)
    .pass('fix', at + M)
    .pass('deploy-production/approval', at + 2 * M)
    .pass('deploy-production/deploy-new-env', at + 3 * M)
    .pass('deploy-production/switch-traffic', at + switchAfter)
    .pass('deploy-production/post-deploy-watch/watch', at + switchAfter + H)
    .pass('deploy-production/post-deploy-watch', at + switchAfter + H)
    .pass('deploy-production', at + switchAfter + H)
    .finish(at + switchAfter + H);
}

/** A release whose notes step recorded its first commit, with its staging deploy included. */
function release(id: string, at: number, version: string, firstCommitAt: number | null): Session {
  const plan = [
    node('release-notes', 'notes', 'release', ''),
    node('staging', 'checklist', 'release', ''),
    node('staging/deploy', 'confirm', 'deploy-staging', 'staging'),
  ];
  const scopes = { '': { checklist: 'release', params: { version } }, staging: { checklist: 'deploy-staging', params: { version } } };
  const notes = firstCommitAt === null ? {} : { release: { version, commits: 4, firstCommitAt, lastCommitAt: at, previousTag: 'v1.9.0' } };
  return new Session(id, 'release', plan, scopes, at)
    .pass('release-notes', at + M, notes)
    .pass('staging/deploy', at + 2 * M)
    .pass('staging', at + 3 * M)
    .finish(at + 4 * M);
}

const stats = (...sessions: Session[]) =>
  statsFromEvents(
    sessions.flatMap((s) => s.events),
    opts,
  );
const env = (s: ReturnType<typeof stats>, name = 'production'): EnvironmentStats => s.environments.find((e) => e.environment === name)!;

describe('the four keys from recorded events', () => {
  it('with no production deploy says so instead of 0%', () => {
    const s = stats(rollback('r1', NOW - 5 * D));
    const p = env(s);
    expect(p.deploys.count).toBe(0);
    expect(p.changeFailure.rate).toBeNull();
    expect(p.restore.medianMs).toBeNull();
    const text = renderStatsText(s, 'audit.db');
    expect(text).toContain(`no production deploys since ${new Date(SINCE).toISOString().slice(0, 10)}`);
    expect(text).not.toMatch(/\d+%/);
  });

  it('counts deploys at their switch, a week, with their sessions; those before --since are left out', () => {
    const s = stats(deploy('old', SINCE - D), deploy('d1', NOW - 20 * D), deploy('d2', NOW - 10 * D), deploy('d3', NOW - 3 * D));
    const p = env(s);
    expect(p.deploys.count).toBe(3);
    expect(p.deploys.sessions).toEqual(['d1', 'd2', 'd3']);
    expect(p.deploys.perWeek).toBeCloseTo(3 / (90 / 7), 5);
    expect(p.deploys.items.map((d) => [d.timeFrom, d.step, d.at])).toEqual([
      ['switch', 'switch-traffic', NOW - 20 * D],
      ['switch', 'switch-traffic', NOW - 10 * D],
      ['switch', 'switch-traffic', NOW - 3 * D],
    ]);
    expect(p.changeFailure).toMatchObject({ failed: 0, of: 3, rate: 0 });
    const text = renderStatsText(s, 'audit.db');
    expect(text).toContain('0.2 a week (3 deploys)');
    expect(text).toContain('from d1, d2, d3');
    expect(text).toContain('0% (0 of 3 deploys followed by a rollback or hotfix)');
    expect(text).toContain('nothing to restore: no failed deploy');
  });

  it('without a switch step a deploy is counted at its last deploy step, else at its successful finish, and says so', () => {
    const noSwitch = deployPlan('', '2.0.0', false);
    const a = new Session('a', 'deploy-production', noSwitch.plan, noSwitch.scopes, NOW - 5 * D)
      .pass('deploy-new-env', NOW - 5 * D + M)
      .finish(NOW - 5 * D + 2 * M);
    const bare = [node('go', 'confirm', 'deploy-production', '')];
    const b = new Session('b', 'deploy-production', bare, { '': { checklist: 'deploy-production', params: { version: '2.0.1' } } }, NOW - D)
      .pass('go', NOW - D + M)
      .finish(NOW - D + 2 * M);
    const p = env(stats(a, b));
    expect(p.deploys.items.map((d) => [d.session, d.timeFrom, d.at])).toEqual([
      ['a', 'deploy-step', NOW - 5 * D + M],
      ['b', 'finished', NOW - D + 2 * M],
    ]);
  });

  it('a rollback after a failed deploy counts it once, as a failed deploy, and times the restore from its failed step', () => {
    const { plan, scopes } = deployPlan('', '2.1.0');
    const t = NOW - 2 * D;
    const failed = new Session('d2', 'deploy-production', plan, scopes, t).pass('approval', t + M).fail('deploy-new-env', t + 5 * M);
    const s = stats(deploy('d1', NOW - 9 * D), failed, rollback('r1', t + 8 * M, 10 * M), rollback('r2', t + 30 * M, 5 * M));
    const p = env(s);
    expect(p.deploys.count).toBe(2);
    expect(p.deploys.items[1]).toMatchObject({ session: 'd2', timeFrom: 'failed-step', step: 'deploy-new-env', at: t + 5 * M });
    expect(p.changeFailure).toMatchObject({ failed: 1, of: 2, rate: 0.5 });
    expect(p.changeFailure.items[0].deploy.session).toBe('d2');
    expect(p.changeFailure.items[0].followedBy.map((f) => f.session)).toEqual(['r1', 'r2']);
    expect(p.restore.items).toHaveLength(1);
    expect(p.restore.items[0].from).toMatchObject({ kind: 'failed-step', session: 'd2', at: t + 5 * M });
    expect(p.restore.items[0].to).toMatchObject({ kind: 'rollback-finished', session: 'r1', at: t + 18 * M });
    expect(p.restore.medianMs).toBe(13 * M);
    // The failed attempt has no lead time (it never reached production).
    expect(p.leadTime.missing.map((m) => m.session)).toEqual(['d1']);
  });

  it('a hotfix within the window fails the deploy before it; its own deploy counts, and its switch is the recovery', () => {
    const d1 = deploy('d1', NOW - 6 * D).breach('post-deploy-watch/watch', NOW - 6 * D + 20 * M);
    const h = hotfix('h1', NOW - 6 * D + 2 * H, 3 * H, '2.0.1');
    const s = stats(d1, h);
    const p = env(s);
    expect(p.deploys.sessions).toEqual(['d1', 'h1']);
    expect(p.changeFailure).toMatchObject({ failed: 1, of: 2 });
    expect(p.changeFailure.items[0]).toMatchObject({ deploy: { session: 'd1' }, followedBy: [{ session: 'h1', kind: 'hotfix' }] });
    expect(p.restore.items[0].from).toMatchObject({ kind: 'breach', at: NOW - 6 * D + 20 * M, session: 'd1' });
    expect(p.restore.items[0].to).toMatchObject({ kind: 'hotfix-deployed', at: NOW - 6 * D + 5 * H, session: 'h1' });
    expect(p.restore.medianMs).toBe(5 * H - 20 * M);
    const text = renderStatsText(s, 'audit.db');
    expect(text).toContain('50% (1 of 2 deploys followed by a rollback or hotfix)');
    expect(text).toContain('median 4h40m over 1 failed deploy');
  });

  it('a rollback whose deploy was before --since fails nothing in the window; a rollback not finished leaves the failure open', () => {
    const s = stats(
      deploy('old', SINCE - D),
      rollback('r0', SINCE - D + 2 * H),
      deploy('d1', NOW - 3 * D),
      rollback('r1', NOW - 3 * D + H, 0, false),
    );
    const p = env(s);
    expect(p.deploys.sessions).toEqual(['d1']);
    expect(p.changeFailure).toMatchObject({ failed: 1, of: 1 });
    expect(p.restore.n).toBe(0);
    expect(p.restore.open).toEqual([
      expect.objectContaining({ deploy: expect.objectContaining({ session: 'd1' }), since: NOW - 3 * D + H }),
    ]);
    expect(renderStatsText(s, 'audit.db')).toContain('unknown: no failed deploy has recovered');
  });

  it('lead time runs from the first commit a release recorded to the switch; a version without a record is named', () => {
    const first = NOW - 12 * D;
    const s = stats(
      release('rel', NOW - 8 * D, '2.0.0', first),
      release('rel-old', NOW - 30 * D, '1.9.0', null),
      deploy('d1', NOW - 7 * D, '2.0.0'),
      deploy('d0', NOW - 29 * D, '1.9.0'),
    );
    const p = env(s);
    expect(p.leadTime.items).toEqual([
      { session: 'd1', version: '2.0.0', firstCommitAt: first, deployedAt: NOW - 7 * D, ms: 5 * D, releaseSession: 'rel' },
    ]);
    expect(p.leadTime.medianMs).toBe(5 * D);
    expect(p.leadTime.missing).toEqual([{ session: 'd0', version: '1.9.0' }]);
    expect(p.leadTime.sessions).toEqual(['rel', 'd1']);
    // The releases' included staging deploys are staging's.
    const st = env(s, 'staging');
    expect(st.deploys.items.map((d) => [d.session, d.timeFrom])).toEqual([
      ['rel-old', 'deploy-step'],
      ['rel', 'deploy-step'],
    ]);
    expect(st.leadTime.items.map((l) => l.ms)).toEqual([NOW - 8 * D + 2 * M - first]);
    const text = renderStatsText(s, 'audit.db');
    expect(text).toContain('median 5d over 1 deploy, first commit to production');
    expect(text).toContain('1 deploy without a recorded first commit');
  });

  it('a deploy attempt stopped before the switch and not rolled back is not a deploy, and is named', () => {
    const { plan, scopes } = deployPlan('', '2.2.0');
    const stopped = new Session('d9', 'deploy-production', plan, scopes, NOW - D)
      .pass('approval', NOW - D + M)
      .fail('deploy-new-env', NOW - D + 2 * M);
    const p = env(stats(deploy('d1', NOW - 4 * D), stopped));
    expect(p.deploys.sessions).toEqual(['d1']);
    expect(p.deploys.notReached).toEqual(['d9']);
    expect(p.changeFailure).toMatchObject({ failed: 0, of: 1 });
  });

  it('a breach seen by a separate watch session starts the restore of the deploy before it; a failure fixed before the switch is no failure', () => {
    const { plan, scopes } = deployPlan('', '2.3.0');
    const t = NOW - 3 * D;
    // Failed at the idle colour, fixed and resumed: it reached production at its switch, and nothing rolled it back.
    const retried = new Session('d1', 'deploy-production', plan, scopes, t - H)
      .fail('deploy-new-env', t - 50 * M)
      .pass('deploy-new-env', t - 10 * M)
      .pass('switch-traffic', t)
      .finish(t + H);
    const watch = new Session(
      'w1',
      'watch',
      [node('watch', 'watch', 'watch', '')],
      { '': { checklist: 'watch', params: {} } },
      NOW - 2 * D,
    ).breach('watch', NOW - 2 * D + 5 * M);
    const p1 = env(stats(retried));
    expect(p1.deploys.items[0]).toMatchObject({ session: 'd1', timeFrom: 'switch' });
    expect(p1.changeFailure).toMatchObject({ failed: 0, of: 1 });
    const p2 = env(stats(retried, watch, rollback('r1', NOW - 2 * D + 9 * M, 6 * M)));
    expect(p2.restore.items[0].from).toMatchObject({ kind: 'breach', session: 'w1', at: NOW - 2 * D + 5 * M });
    expect(p2.restore.items[0].ms).toBe(10 * M);
    expect(p2.restore.sessions).toEqual(['d1', 'w1', 'r1']);
  });

  it('--env keeps one environment, and the JSON lists every session with ISO times and the definitions', () => {
    const many = Array.from({ length: 5 }, (_, i) => deploy(`d${i}`, NOW - (i + 1) * D));
    const s = statsFromEvents(
      many.flatMap((m) => m.events),
      { ...opts, environment: 'production' },
    );
    expect(s.environments.map((e) => e.environment)).toEqual(['production']);
    expect(renderStatsText(s, 'audit.db')).toContain('and 2 more (--json lists them all)');
    const json = JSON.parse(renderStatsJson(s, 'audit.db'));
    expect(json.environments[0].deploys.sessions).toHaveLength(5);
    expect(json.environments[0].deploys.items[0].at).toBe(new Date(NOW - 5 * D).toISOString());
    expect(json.definitions.leadTime).toContain('first commit');
  });
});

describe('parseSince and median', () => {
  it('takes spans and dates, and refuses anything else in one sentence', () => {
    expect(parseSince('90d', NOW)).toEqual({ ok: true, at: NOW - 90 * D });
    expect(parseSince('2w', NOW)).toEqual({ ok: true, at: NOW - 14 * D });
    expect(parseSince('2026-09-01', NOW)).toEqual({ ok: true, at: Date.UTC(2026, 8, 1) });
    for (const bad of ['ninety', '0d', '90', '-3d', '2027-01-01', '2026-13-45']) {
      const r = parseSince(bad, NOW);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.why).toMatch(/^--since .*[^.]$/);
    }
  });

  it('median of an even count is the mean of the middle two', () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(3);
  });
});
