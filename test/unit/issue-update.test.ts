import { describe, expect, it } from 'vitest';
import type { AuditEvent, EventDataMap, EventType } from '../../src/core/events.js';
import { notifySettings } from '../../src/core/notify/config.js';
import { issueUpdateOffer } from '../../src/core/notify/issue-update.js';
import { reduceAll, type SessionState } from '../../src/core/reducer.js';
import { planNode, startedData } from '../helpers/plan.js';

// What the `u` key would send (core/notify/issue-update.ts): only after a failure, only with channels, every channel,
// the status page degraded; the words name the failed step and why.

const PLAN = [planNode('build'), planNode('deploy', 'run', { title: 'Deploy to production' }), planNode('after')];
let seq = 0;
const ev = <T extends EventType>(type: T, stepId: string | null, data: EventDataMap[T]): AuditEvent<T> => ({
  sessionId: 's1',
  seq: ++seq,
  time: 1000 + seq,
  type,
  stepId,
  actor: 'alice',
  data,
});
const session = (...more: AuditEvent[]): SessionState => sessionOf(PLAN, { version: '1.4.0', environment: 'production' }, ...more);
const sessionOf = (plan: typeof PLAN, params: Record<string, string>, ...more: AuditEvent[]): SessionState =>
  reduceAll([
    ((seq = 0), ev('session.started', null, startedData('ship', plan, { params }))),
    ev('step.started', 'build', { attempt: 1 }),
    ev('step.passed', 'build', {}),
    ...more,
  ])!;
const failed = () => [
  ev('step.started', 'deploy', { attempt: 1 }),
  ev('step.failed', 'deploy', { exitCode: 3, reason: 'exit 3: health check failed' }),
];
const settings = notifySettings(
  {
    chat: { type: 'slack', url: { env: 'SLACK_URL' } },
    status: { type: 'statuspage', page: 'pg1', apiKey: 'k', components: ['c1'] },
  },
  'alice',
);

describe('the issue update offer', () => {
  it('after a failed step: every channel, the status page degraded, the words name the step and its reason', () => {
    const o = issueUpdateOffer(session(...failed()), settings, 5000)!;
    expect(o.why).toBe("step 'deploy' failed");
    expect(o.about).toBe('deploy');
    expect(o.message.title).toBe('Issue or delay: v1.4.0 to production');
    expect(o.message.text).toContain("is delayed: step 'Deploy to production' failed: exit 3: health check failed.");
    expect(o.channels).toEqual([
      { name: 'chat', provider: 'slack', endpoint: 'POST $SLACK_URL', status: null },
      expect.objectContaining({ name: 'status', provider: 'statuspage', status: 'degraded_performance' }),
    ]);
    // The API key is never part of what is shown.
    expect(JSON.stringify(o.channels)).not.toContain('"k"');
  });

  it('none while nothing failed (or the failed step runs again), without channels, or once the session ended', () => {
    expect(issueUpdateOffer(session(), settings, 5000)).toBeNull();
    // Retried: it runs again, nothing is failed now.
    expect(issueUpdateOffer(session(...failed(), ev('step.started', 'deploy', { attempt: 2 })), settings, 5000)).toBeNull();
    expect(issueUpdateOffer(session(...failed()), undefined, 5000)).toBeNull();
    expect(issueUpdateOffer(session(...failed()), notifySettings({}), 5000)).toBeNull();
    expect(
      issueUpdateOffer(session(...failed(), ev('session.finished', null, { outcome: 'aborted', reason: 'x' })), settings, 5000),
    ).toBeNull();
  });

  it("only during a production deploy: named by the session's environment or target, or by a deploy step's env", () => {
    expect(issueUpdateOffer(sessionOf(PLAN, { version: '1.4.0', environment: 'staging' }, ...failed()), settings, 5000)).toBeNull();
    expect(issueUpdateOffer(sessionOf(PLAN, { version: '1.4.0' }, ...failed()), settings, 5000)).toBeNull();
    expect(issueUpdateOffer(sessionOf(PLAN, { version: '1.4.0', target: 'production' }, ...failed()), settings, 5000)).not.toBeNull();
    // deploy-production has no environment parameter: its steps say production, and so does the update.
    const steps = [
      planNode('build'),
      planNode('deploy', 'deploy', { title: 'Deploy to production', spec: { env: 'production' } }),
      planNode('after'),
    ];
    const o = issueUpdateOffer(sessionOf(steps, { version: '1.4.0' }, ...failed()), settings, 5000)!;
    expect(o.message.title).toBe('Issue or delay: v1.4.0 to production');
    const staging = [planNode('build'), planNode('deploy', 'deploy', { spec: { env: 'staging' } }), planNode('after')];
    expect(issueUpdateOffer(sessionOf(staging, { version: '1.4.0' }, ...failed()), settings, 5000)).toBeNull();
  });
});
