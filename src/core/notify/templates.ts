/**
 * The messages the cockpit sends (the policy's "Communication"), one template each, rendered from the session's
 * facts. Pure: the same facts give the same words, in a dry run, on screen and on the wire.
 */
import { formatDuration, parseDuration } from '../duration.js';
import type { ParamValue } from '../checklist/types.js';

export const MESSAGE_NAMES = [
  'release-announcement',
  'maintenance-window',
  'deployment-started',
  'issue-or-delay',
  'deployment-confirmation',
  'rollback-notice',
  'status-operational',
] as const;
export type MessageName = (typeof MESSAGE_NAMES)[number];

/** What a message may say: what the session knows, each absent when it does not. */
export interface MessageFacts {
  version: string | null;
  environment: string | null;
  operator: string | null;
  /** The maintenance window, from the `window_start` and `window_length` parameters. */
  window: { start: string | null; length: string | null } | null;
  /** The step that failed last in the session, and why. */
  failingStep: { title: string; reason: string | null } | null;
  /** The recovery clock in words ("12m of the 15m objective"), for a session that has one. */
  recovery: string | null;
  /** The release notes' address, from the `notes_url` parameter. */
  notesUrl: string | null;
  /** What a rollback step of the session did (the version it went back to, and how), when one ran. */
  rolledBack?: { env: string; to: string; how: 'switch-back' | 'redeploy' } | null;
}

export const NO_FACTS: MessageFacts = {
  version: null,
  environment: null,
  operator: null,
  window: null,
  failingStep: null,
  recovery: null,
  notesUrl: null,
};

export interface RenderedMessage {
  name: MessageName;
  /** One line: a chat message's first words, a status page incident's name. */
  title: string;
  /** The whole message in plain text (Slack's notification fallback; what Mattermost shows). */
  text: string;
}

const str = (v: ParamValue | undefined): string | null => (v === undefined || v === '' ? null : String(v));

/** The facts a session's parameters give (version, target environment, window, notes URL), before the session's own. */
export function factsFromParams(params: Record<string, ParamValue>): MessageFacts {
  const start = str(params.window_start);
  const length = str(params.window_length);
  return {
    ...NO_FACTS,
    version: str(params.version),
    environment: str(params.environment) ?? str(params.target),
    window: start || length ? { start, length } : null,
    notesUrl: str(params.notes_url),
  };
}

/** A title's short name of the release and where it goes: `v1.2.3 to production`. */
function short(f: MessageFacts, on = 'to'): string {
  const v = f.version ? (/^\d/.test(f.version) ? `v${f.version}` : f.version) : 'the release';
  return `${v}${f.environment ? ` ${on} ${f.environment}` : ''}`;
}

/** `v1.2.3` for a bare version, as written otherwise. */
function release(f: MessageFacts): string {
  if (!f.version) return 'the release';
  return /^\d/.test(f.version) ? `release v${f.version}` : `release ${f.version}`;
}

function where(f: MessageFacts): string {
  return f.environment ? ` to ${f.environment}` : '';
}

function windowLength(f: MessageFacts): string | null {
  const l = f.window?.length;
  if (!l) return null;
  const ms = parseDuration(l);
  return ms ? formatDuration(ms) : l;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The message `name` with `facts`; `override` (the step's `text:`) replaces the body, the title stays. */
export function renderMessage(name: MessageName, facts: MessageFacts, override?: string): RenderedMessage {
  const rel = release(facts);
  const length = windowLength(facts);
  const start = facts.window?.start ?? null;
  const by = facts.operator ? ` Operator: ${facts.operator}.` : '';
  let title: string;
  let text: string;
  switch (name) {
    case 'release-announcement':
      title = `Release announcement: ${short(facts)}`;
      text =
        `${capital(rel)} is planned${where(facts).replace(' to ', ' for ')}${start ? ` on ${start}` : ''}.` +
        `${length ? ` Expected maintenance: ${length}.` : ''}` +
        `${facts.notesUrl ? ` What changes: ${facts.notesUrl}` : ''}` +
        ` A maintenance window follows at least 24 hours before the deployment.`;
      break;
    case 'maintenance-window':
      title = `Maintenance window: ${short(facts, 'on')}`;
      text =
        `Maintenance window for ${rel}${where(facts).replace(' to ', ' on ')}: ` +
        `${start ? `starts ${start}` : 'start to be confirmed'}` +
        `${length ? `, expected to last ${length}` : ''}.` +
        ` Expect short interruptions while it runs; status updates follow here and on the status page.`;
      break;
    case 'deployment-started':
      title = `Deployment started: ${short(facts)}`;
      text = `Deployment of ${rel}${where(facts)} has started.${length ? ` Expected to take ${length}.` : ''}${by}`;
      break;
    case 'issue-or-delay': {
      title = `Issue or delay: ${short(facts)}`;
      const what = facts.failingStep
        ? `step '${facts.failingStep.title}' failed${facts.failingStep.reason ? `: ${facts.failingStep.reason}` : ''}`
        : 'it is taking longer than planned';
      text =
        `Deployment of ${rel}${where(facts)} is delayed: ${what}.` +
        `${facts.recovery ? ` Recovery: ${facts.recovery}.` : ''}` +
        ` We are working on it; the next update follows.${by}`;
      break;
    }
    case 'deployment-confirmation':
      title = `Deployment complete: ${short(facts)}`;
      text =
        `Deployment of ${rel}${where(facts)} is complete.` +
        `${facts.notesUrl ? ` Release notes: ${facts.notesUrl}` : ''}` +
        ` Please report anything unusual in the deployment channel.${by}`;
      break;
    case 'rollback-notice': {
      const rb = facts.rolledBack;
      if (rb) {
        // The session's own rollback: its `version` is where it went back to, not what was withdrawn.
        title = `Rollback: ${rb.env} back on ${rb.to}`;
        text =
          `${capital(rb.env)} was rolled back to ${rb.to} (${rb.how === 'switch-back' ? 'traffic switched back to the colour still running it' : 'redeployed'})` +
          `${facts.failingStep ? ` after step '${facts.failingStep.title}' failed${facts.failingStep.reason ? ` (${facts.failingStep.reason})` : ''}` : ''}.` +
          `${facts.recovery ? ` Recovery: ${facts.recovery}.` : ''}` +
          ` The next update follows.${by}`;
        break;
      }
      title = `Rollback: ${short(facts, 'on')}`;
      text =
        `${capital(rel)}${where(facts).replace(' to ', ' on ')} is being rolled back` +
        `${facts.failingStep ? ` after step '${facts.failingStep.title}' failed${facts.failingStep.reason ? ` (${facts.failingStep.reason})` : ''}` : ''}.` +
        `${facts.recovery ? ` Recovery: ${facts.recovery}.` : ''}` +
        ` The previous version stays in service; the next update follows.${by}`;
      break;
    }
    case 'status-operational':
      title = `Operational: ${short(facts)}`;
      text = `All systems are operational again after the deployment of ${rel}${where(facts)}.`;
      break;
  }
  return { name, title, text: override?.trim() ? override.trim() : text };
}
