import { formatDuration } from '../core/duration.js';
import type { ParamValue } from '../core/checklist/types.js';
import type { PlanNode } from '../core/events.js';
import { interpolate } from '../core/params.js';
import { groupStatus, nextStep, type SessionState, type StepState, type StepStatus } from '../core/reducer.js';

/** Pure helpers the checklist screens share (unit-tested without Ink). */

/** Step numbers as the operator counts them: leaf steps 1..n; includes are headings without a number. */
export function leafNumbers(plan: readonly PlanNode[]): Array<number | null> {
  let n = 0;
  return plan.map((p) => (p.kind === 'checklist' ? null : ++n));
}

/** The step the session is at: running, asking, stopped at, or next to run. */
export function focusPath(state: SessionState, asking: { path: string } | null): string | null {
  return state.current ?? asking?.path ?? state.pause?.stepId ?? (state.outcome ? null : (nextStep(state)?.path ?? null));
}

export function displayStatus(state: SessionState, i: number): StepStatus {
  return state.plan[i].kind === 'checklist' ? groupStatus(state, state.plan[i].path) : state.steps[i].status;
}

/** What a step does, from its spec with the run's parameters filled in (the same words `checklist show` uses). */
export function stepAction(node: PlanNode, params: Record<string, ParamValue> = {}): string {
  const s = node.spec;
  switch (node.kind) {
    case 'run': {
      // An argv's elements are filled from the parameters (a shell script is not: it reads $COCKPIT_PARAM_…).
      const cmd = Array.isArray(s.run) ? (s.run as unknown[]).map((a) => interpolate(String(a), params)).join(' ') : String(s.run ?? '');
      const bits = [`runs: ${cmd}`];
      if (s.cwd) bits.push(`in ${String(s.cwd)}`);
      if (s.timeout) bits.push(`timeout ${String(s.timeout)}`);
      return bits.join('  ');
    }
    case 'confirm':
      return `asks: ${interpolate(String(s.prompt ?? `Done: ${node.title}?`), params)}`;
    case 'checklist':
      return `includes checklist '${String(s.use ?? '')}'`;
    case 'notify': {
      const channels = Array.isArray(s.channels) ? (s.channels as unknown[]).map(String).join(', ') : '';
      return `sends '${String(s.message ?? '')}' to ${channels}${s.status ? ` (status page: ${String(s.status)})` : ''}; the message as sent is shown when it starts`;
    }
    default:
      return `${node.kind} step (what it does is shown once it starts; cockpit checklist show lists it)`;
  }
}

export function stepDuration(step: StepState, now: number): string {
  if (step.durationMs !== undefined) return formatDuration(step.durationMs);
  if (step.status === 'running' && step.startedAt !== undefined) return formatDuration(Math.max(0, now - step.startedAt));
  return '';
}

/** The state line under a step's title: why it failed, was skipped, or is waiting. */
export function stepOutcomeLine(step: StepState): string {
  switch (step.status) {
    case 'passed':
      if (step.nothingToCheck) return `nothing to check: ${step.nothingToCheck}`;
      // A passed approval says who approved.
      return `passed${step.via === 'probe' ? ' (already done: found by probe)' : ''}${step.confirmedBy ? ` · confirmed by ${step.confirmedBy}${step.confirmedVia === 'flag' ? ' (--yes)' : ''}` : ''}${step.exitCode !== undefined && step.exitCode !== null ? ` · exit ${step.exitCode}` : ''}${step.approval ? ` · ${step.approval}` : ''}`;
    case 'failed':
      return `FAILED${step.exitCode !== undefined && step.exitCode !== null ? ` · exit ${step.exitCode}` : ''}${step.timedOut ? ' · timed out' : ''}${step.signal ? ` · ${step.signal}` : ''}: ${step.reason ?? ''}`;
    case 'skipped':
      return `skipped${step.skippedBy === 'condition' ? ' (condition)' : ' by the operator'}: ${step.reason ?? ''}`;
    case 'interrupted':
      return `interrupted: ${step.reason ?? ''}`;
    case 'waiting':
      return `waiting for confirmation`;
    case 'running':
      // A running step that waits for someone (an approval) says for whom: its reason.
      return `running${step.attempts > 1 ? ` (attempt ${step.attempts})` : ''}${step.pid ? ` · pid ${step.pid}` : ''}${step.reason ? ` · ${step.reason}` : ''}`;
    default:
      return 'not started';
  }
}

export function sessionLabel(state: SessionState, phase: string): string {
  if (state.outcome === 'succeeded') return 'DONE';
  if (state.outcome === 'aborted') return 'ABORTED';
  if (state.outcome === 'failed') return 'FAILED';
  if (phase === 'asking') return 'WAITING FOR YOU';
  if (phase === 'stopping') return 'STOPPING';
  if (state.status === 'running') return 'RUNNING';
  if (state.status === 'failed') return 'FAILED';
  if (state.status === 'waiting') return 'WAITING';
  return 'STOPPED';
}

export function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** Output lines of a step as kept in the state: the tail plus the line still being written. */
export function outputLines(step: StepState): string[] {
  return step.output.partial ? [...step.output.tail, step.output.partial] : step.output.tail;
}

export { supersededWords } from './home-layout.js';

/**
 * A replayed moment as it was on the operator's screen: the log has a confirmation's step running until it is
 * answered, but the operator saw it waiting for them, so a confirm step that runs is drawn waiting (its question
 * as the reason).
 */
export function asShownLive(state: SessionState): SessionState {
  const i = state.current ? state.index[state.current] : undefined;
  const node = i === undefined ? undefined : state.plan[i];
  if (i === undefined || node?.kind !== 'confirm' || state.steps[i].status !== 'running') return state;
  const prompt = String(node.spec.prompt ?? `Done: ${node.title}?`);
  const steps = state.steps.map((s, k) => (k === i ? { ...s, status: 'waiting' as const, reason: prompt } : s));
  return { ...state, steps, status: 'waiting' };
}

/** The step a finished moment leaves selected: the last one that started (not the first). */
export function lastStarted(state: SessionState): number {
  for (let i = state.steps.length - 1; i >= 0; i--) if (state.steps[i].status !== 'pending') return i;
  return 0;
}

/** The approve step that waits for a decision now (its request recorded, not yet resolved), or null. */
export function waitingApproval(state: SessionState): PlanNode | null {
  const i = state.current ? state.index[state.current] : undefined;
  if (i === undefined) return null;
  const node = state.plan[i];
  const step = state.steps[i];
  return node?.kind === 'approve' && step?.status === 'running' && !!step.reason?.startsWith('waiting for') ? node : null;
}
