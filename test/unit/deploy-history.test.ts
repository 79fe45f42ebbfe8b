import { describe, expect, it } from 'vitest';
import type { AuditEvent, EventDataMap, EventType, PlanNode, Scope } from '../../src/core/events.js';
import { SessionFold, type SessionFacts } from '../../src/core/stats.js';
import { lastStableFrom, rolledBackBy, historyOf } from '../../src/core/deploy/history.js';
import { lastStableText } from '../../src/report/stats.js';
import { planNode, startedData } from '../helpers/plan.js';

// The last stable version from sessions' facts, each session folded from its events by the stats' own SessionFold.

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const T0 = Date.UTC(2026, 11, 1, 10, 0);

type Verdict = 'pass' | 'fail' | 'inconclusive';

class Session {
  events: AuditEvent[] = [];
  private seq = 0;
  constructor(
    readonly id: string,
    checklist: string,
    plan: PlanNode[],
    scopes: Record<string, Scope>,
    at: number,
    operator = 'alice',
  ) {
    this.ev('session.started', null, at, startedData(checklist, plan, { params: scopes['']?.params ?? {}, scopes, operator }));
  }
  ev<T extends EventType>(type: T, stepId: string | null, time: number, data: EventDataMap[T]): this {
    this.events.push({ sessionId: this.id, seq: ++this.seq, time, type, stepId, actor: 'alice', data } as AuditEvent);
    return this;
  }
  pass(step: string, time: number): this {
    return this.ev('step.started', step, time, { attempt: 1 }).ev('step.passed', step, time, { via: 'confirmation' });
  }
  watch(step: string, time: number, verdict: Verdict): this {
    this.ev('step.started', step, time - H, { attempt: 1 }).ev('watch.finished', step, time, { verdict, text: verdict, advice: [] });
    return verdict === 'pass'
      ? this.ev('step.passed', step, time, {})
      : this.ev('step.failed', step, time, { exitCode: null, reason: `watch ${verdict}` });
  }
  finish(time: number, outcome: 'succeeded' | 'aborted' = 'succeeded'): this {
    return this.ev('session.finished', null, time, { outcome });
  }
  facts(): SessionFacts {
    const [first, ...rest] = this.events;
    const fold = new SessionFold(first as AuditEvent<'session.started'>);
    for (const e of rest) fold.add(e);
    return fold.result();
  }
}

const n = (path: string, kind: string, checklist: string, scope = '', spec: Record<string, unknown> = {}) =>
  planNode(path, kind, { checklist, scope, spec });

/** deploy-production of `version` to `env`: switched at `at`, its post-deploy watch (included) ending an hour later. */
function deploy(id: string, at: number, version: string, watch: Verdict | null = 'pass', operator = 'alice', env = 'production'): Session {
  const checklist = env === 'production' ? 'deploy-production' : 'deploy-staging';
  const plan = [
    n('deploy-new-env', 'confirm', checklist),
    n('switch-traffic', 'confirm', checklist),
    n('post-deploy-watch', 'checklist', checklist),
    n('post-deploy-watch/watch', 'watch', 'post-deploy-watch', 'post-deploy-watch'),
  ];
  const scopes = {
    '': { checklist, params: { version } },
    'post-deploy-watch': { checklist: 'post-deploy-watch', params: { version, environment: env } },
  };
  const s = new Session(id, checklist, plan, scopes, at - 10 * M, operator).pass('deploy-new-env', at - 5 * M).pass('switch-traffic', at);
  if (watch) s.watch('post-deploy-watch/watch', at + H, watch);
  return watch === 'pass' ? s.pass('post-deploy-watch', at + H).finish(at + H) : s;
}

function rollback(
  id: string,
  at: number,
  version: string | null,
  outcome: 'succeeded' | 'aborted' = 'succeeded',
  checklist = 'rollback-code',
): Session {
  const plan = [n('criteria', 'confirm', checklist), n('trigger-rollback', 'confirm', checklist)];
  const params: Record<string, string> = version ? { version } : {};
  return new Session(id, checklist, plan, { '': { checklist, params } }, at)
    .pass('criteria', at + M)
    .pass('trigger-rollback', at + 5 * M)
    .finish(at + 6 * M, outcome);
}

const stable = (...sessions: Session[]) =>
  lastStableFrom(
    sessions.map((s) => s.facts()),
    'production',
  );

describe('the last stable version from the audit log', () => {
  it('is the newest deploy whose watch passed; the why says who, where, when, the watch, and no rollback since', () => {
    const r = stable(deploy('S1', T0, '1.3.0'), deploy('S2', T0 + D, '1.4.0', 'pass', 'bob'));
    expect(r).toEqual({
      version: '1.4.0',
      session: 'S2',
      why: '1.4.0: deployed to production by bob in session S2 on 2026-12-02, watch passed (post-deploy-watch/watch), no rollback since',
    });
    expect(lastStableText('production', r)).toBe(
      'last stable: 1.4.0 (deployed to production by bob in session S2 on 2026-12-02, watch passed (post-deploy-watch/watch), no rollback since)',
    );
  });

  it('passes over a deploy whose watch failed, was inconclusive, or never finished, and says so', () => {
    const r = stable(
      deploy('S1', T0, '1.3.0'),
      deploy('S2', T0 + D, '1.4.0', 'fail'),
      deploy('S3', T0 + 2 * D, '1.4.1', 'inconclusive'),
      deploy('S4', T0 + 3 * D, '1.4.2', null),
    );
    expect(r?.version).toBe('1.3.0');
    expect(r?.why).toContain(
      "newer deploys passed over: 1.4.2 (session S4) has no finished post-deploy watch; 1.4.1's watch was inconclusive (session S3); 1.4.0's watch failed (session S2)",
    );
  });

  it('a deploy rolled back since is not stable; the version rolled back to is, and the why names the rollback', () => {
    const r = stable(deploy('S1', T0, '1.3.0'), deploy('S2', T0 + D, '1.4.0'), rollback('R1', T0 + D + 2 * H, '1.3.0'));
    expect(r?.version).toBe('1.3.0');
    expect(r?.why).toContain('no rollback away from it since (session R1 went back to 1.3.0)');
    expect(r?.why).toContain('1.4.0 was rolled back by session R1 (to 1.3.0)');
  });

  it('a rollback to a version deployed before rolls back every deploy since it; to an unknown version, every one above it', () => {
    const sessions = [
      deploy('S1', T0, '1.2.0'),
      deploy('S2', T0 + D, '1.3.0'),
      deploy('S3', T0 + 2 * D, '1.4.0'),
      rollback('R1', T0 + 3 * D, '1.2.0'),
    ];
    const { deploys, rollbacks } = historyOf(
      sessions.map((s) => s.facts()),
      'production',
    );
    expect(rolledBackBy(rollbacks[0], deploys).map((d) => d.version)).toEqual(['1.3.0', '1.4.0']);
    expect(stable(...sessions)?.version).toBe('1.2.0');
    // 1.1.0 was never deployed in the log: every deploy above it was rolled back; nothing is stable.
    expect(stable(deploy('S2', T0 + D, '1.3.0'), deploy('S3', T0 + 2 * D, '1.4.0'), rollback('R1', T0 + 3 * D, '1.1.0'))).toBeNull();
    // A rollback with no version: the newest deploy before it.
    expect(stable(deploy('S2', T0 + D, '1.3.0'), deploy('S3', T0 + 2 * D, '1.4.0'), rollback('R1', T0 + 3 * D, null))?.version).toBe(
      '1.3.0',
    );
  });

  it('names the three newest rollbacks since, and how many more', () => {
    const back = [1, 2, 3, 4].flatMap((k) => [deploy(`N${k}`, T0 + k * D, `1.4.${k}`), rollback(`R${k}`, T0 + k * D + 2 * H, '1.3.0')]);
    const r = stable(deploy('S1', T0, '1.3.0'), ...back);
    expect(r?.version).toBe('1.3.0');
    expect(r?.why).toContain(
      'no rollback away from it since (session R4 went back to 1.3.0; session R3 went back to 1.3.0; session R2 went back to 1.3.0 and 1 more)',
    );
    expect(r?.why).toMatch(/newer deploys passed over: 1\.4\.4 was rolled back by session R4 \(to 1\.3\.0\);.* and 1 more$/);
  });

  it('an aborted rollback (no criterion held) or a database rollback rolls no code back; a later deploy after a rollback is stable again', () => {
    expect(
      stable(deploy('S1', T0, '1.3.0'), deploy('S2', T0 + D, '1.4.0'), rollback('R1', T0 + D + 2 * H, '1.3.0', 'aborted'))?.version,
    ).toBe('1.4.0');
    // A database rollback leaves the code as it is.
    const db = rollback('D1', T0 + D + 2 * H, null, 'succeeded', 'rollback-db');
    expect(stable(deploy('S1', T0, '1.3.0'), deploy('S2', T0 + D, '1.4.0'), db)?.version).toBe('1.4.0');
    const r = stable(
      deploy('S1', T0, '1.3.0'),
      deploy('S2', T0 + D, '1.4.0'),
      rollback('R1', T0 + D + 2 * H, '1.3.0'),
      deploy('S3', T0 + 2 * D, '1.4.1'),
    );
    expect(r?.version).toBe('1.4.1');
    expect(r?.why).toContain('no rollback since');
  });

  it('only the environment asked for; none at all is null', () => {
    const staging = deploy('S1', T0, '1.5.0', 'pass', 'alice', 'staging');
    expect(stable(staging)).toBeNull();
    expect(lastStableFrom([staging.facts()], 'staging')?.version).toBe('1.5.0');
    expect(stable()).toBeNull();
    expect(lastStableText('production', null)).toContain('last stable: none in the audit log');
  });

  it('a session of another checklist whose plan has a deploy step with env: is a deploy of that environment', () => {
    const plan = [n('ship', 'deploy', 'ship-it', '', { env: '${target}', version: '${v}' }), n('watch', 'watch', 'ship-it')];
    const s = new Session('X1', 'ship-it', plan, { '': { checklist: 'ship-it', params: { target: 'production', v: '2.0.0' } } }, T0)
      .pass('ship', T0 + M)
      .watch('watch', T0 + H, 'pass')
      .finish(T0 + H);
    expect(stable(s)).toMatchObject({ version: '2.0.0', session: 'X1' });
  });
});
