/**
 * The operator's "issue or delay" update (the `u` key of a session screen): offered after a failed step or a watch
 * breach during a production deploy (`deploysToProduction`) when the config has `notify:` channels, to every channel (chat and webhooks get the message, a status page
 * goes to degraded_performance). Pure: what would be sent and why; app/issue-update.ts sends it.
 */
import { interpolate } from '../params.js';
import type { SessionState } from '../reducer.js';
import type { NotifyChannel, NotifySettings, StatuspageStatus } from './config.js';
import { endpointWords } from './delivery.js';
import { sessionFacts } from './facts.js';
import { renderMessage, type MessageFacts, type RenderedMessage } from './templates.js';

export interface IssueUpdateChannel {
  name: string;
  provider: NotifyChannel['type'];
  /** Method and endpoint, secrets masked. */
  endpoint: string;
  /** What a status page is set to (null for chat and webhooks). */
  status: StatuspageStatus | null;
}

export interface IssueUpdateOffer {
  /** Why it is offered: "step 'deploy' failed", "the watch breached". */
  why: string;
  /** The step it is about (the failed step, the watch), recorded with the delivery. */
  about: string | null;
  message: RenderedMessage;
  facts: MessageFacts;
  channels: IssueUpdateChannel[];
}

/** The status a status page is set to by the issue update. */
export const ISSUE_STATUS: StatuspageStatus = 'degraded_performance';

/** The environment whose failures and breaches the update is for (the policy: "during a production deploy"). */
export const PRODUCTION = 'production';

/** The step kinds that act on an environment named by their `env` field. */
const ENV_KINDS = new Set(['deploy', 'switch', 'rollback', 'smoke', 'build']);

/**
 * Whether the session deploys to, rolls back or watches production: its environment (or `target`) parameter, any
 * included checklist's, a deploy-kind step's `env`, or what its deploy steps recorded. A staging failure is not the
 * stakeholders' or the status page's business.
 */
export function deploysToProduction(state: SessionState): boolean {
  const named = (params: Record<string, unknown> | undefined) => params?.environment === PRODUCTION || params?.target === PRODUCTION;
  if (state.environment === PRODUCTION || named(state.params)) return true;
  if (Object.hasOwn(state.deploys ?? {}, PRODUCTION)) return true;
  if (Object.values(state.scopes ?? {}).some((s) => named(s.params))) return true;
  return state.plan.some((n) => {
    if (!ENV_KINDS.has(n.kind) || typeof n.spec.env !== 'string') return false;
    return interpolate(n.spec.env, state.scopes?.[n.scope]?.params ?? state.params) === PRODUCTION;
  });
}

/** The update this session may send now, or null: nothing failed or breached, no channels, or the session ended. */
export function issueUpdateOffer(state: SessionState, settings: NotifySettings | undefined, now: number): IssueUpdateOffer | null {
  const channels = Object.values(settings?.channels ?? {});
  if (!channels.length || state.outcome || !deploysToProduction(state)) return null;
  // A step that failed and is still failed (not retried or skipped since).
  const failed = [...state.steps].reverse().find((s) => s.status === 'failed');
  const breached = (state.watch?.breaches ?? 0) > 0;
  if (!failed && !breached) return null;
  const facts = sessionFacts(state, state.params, now);
  if (!facts.operator) facts.operator = settings?.operator ?? null;
  // Production named by a step or an included checklist rather than the session's own parameter: the update says it.
  facts.environment ??= PRODUCTION;
  let why: string;
  let about: string | null;
  if (failed) {
    why = `step '${failed.path}' failed`;
    about = failed.path;
  } else {
    const watch = state.watch!;
    const node = watch.step ? state.plan[state.index[watch.step]] : undefined;
    const rule = watch.rules.find((r) => r.breached);
    why = `the watch breached${rule ? ` (${rule.title})` : ''}`;
    about = watch.step;
    facts.failingStep = { title: node?.title ?? 'post-deploy watch', reason: `the watch breached${rule ? `: ${rule.title}` : ''}` };
  }
  return {
    why,
    about,
    facts,
    message: renderMessage('issue-or-delay', facts),
    channels: channels.map((c) => ({
      name: c.name,
      provider: c.type,
      endpoint: endpointWords(c),
      status: c.type === 'statuspage' ? ISSUE_STATUS : null,
    })),
  };
}
