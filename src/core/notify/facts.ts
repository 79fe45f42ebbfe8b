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
  return {
    ...facts,
    environment: state.environment ?? facts.environment,
    operator: state.operator,
    failingStep: failed && node ? { title: node.title, reason: failed.reason ?? null } : null,
    recovery: r ? `${clockText(r.elapsedMs)} of the ${clockText(r.start.objectiveMs)} objective` : null,
  };
}
