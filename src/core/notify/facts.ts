/** What a session knows that its messages may say: its parameters, who runs it, the step that failed, its recovery clock. */
import type { ParamValue } from '../checklist/types.js';
import type { SessionState } from '../reducer.js';
import { clockText, readRecovery } from '../recovery.js';
import { factsFromParams, type MessageFacts } from './templates.js';

export function sessionFacts(state: SessionState, params: Record<string, ParamValue>, now: number): MessageFacts {
  const facts = factsFromParams(params);
  const failed = [...state.steps].reverse().find((s) => s.status === 'failed');
  const node = failed ? state.plan[state.index[failed.path]] : undefined;
  const r = readRecovery(state, now);
  // A step in an included checklist sees its own scope's parameters: the session's own version counts too.
  const rolled = Object.entries(state.deploys ?? {}).find(([, d]) => d.rollback);
  const rootVersion = typeof state.params.version === 'string' && state.params.version ? state.params.version : null;
  return {
    ...facts,
    version: facts.version ?? rootVersion,
    // A rollback checklist names its environment in its steps (`env: production`): what its rollback step did says it.
    environment: state.environment ?? facts.environment ?? rolled?.[0] ?? null,
    operator: state.operator,
    failingStep: failed && node ? { title: node.title, reason: failed.reason ?? null } : null,
    recovery: r ? `${clockText(r.elapsedMs)} of the ${clockText(r.start.objectiveMs)} objective` : null,
    rollingBack: state.plan.some((n) => n.kind === 'rollback'),
    rolledBack: rolled ? { env: rolled[0], to: rolled[1].rollback!.version, how: rolled[1].rollback!.how } : null,
    published: state.published?.url ? { version: state.published.version, url: state.published.url } : null,
  };
}
