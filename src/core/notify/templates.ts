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
  'release-notes',
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
  /** The session rolls back (its plan has a `rollback` step): its `version` is where it goes back to. */
  rollingBack?: boolean;
  /** What a rollback step of the session did (the version it went back to, and how), when one ran. */
  rolledBack?: { env: string; to: string; how: 'switch-back' | 'redeploy' } | null;
  /** The approved release notes: the version's section of the changelog (the `release-notes` message's body). */
  notes?: { text: string; file: string } | null;
  /** Where the session's publish step published the release (the URL its command printed). */
  published?: { version: string; url: string } | null;
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
  /** URLs in the text a chat shows as links with these words (Slack's `<url|words>`); plain elsewhere. */
  links?: Array<{ url: string; label: string }>;
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

/**
 * The chat providers' limits on one message's text: Slack's section block takes 3000 characters (its `text` more,
 * but the blocks are what is shown), Mattermost and Rocket.Chat more. Release notes longer than this are cut at a
 * line and say where the rest is.
 */
export const NOTES_TEXT_LIMIT = 2800;

/**
 * A changelog section as a chat message's body: its "## version (date)" heading dropped (the title says it),
 * "### Group" headings and **bold** in the chat's *bold*; cut at a line to `limit` characters, saying where the rest is.
 */
export function notesForChat(section: string, file: string, limit = NOTES_TEXT_LIMIT): string {
  const lines = section
    .replace(/\r\n/g, '\n')
    .split('\n')
    .filter((l, i) => !(i === 0 && /^##\s/.test(l)))
    .map((l) => l.replace(/^###\s+(.*)$/, '*$1*').replace(/\*\*([^*\n]+)\*\*/g, '*$1*'));
  while (lines.length && !lines[0].trim()) lines.shift();
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  const whole = lines.join('\n');
  if (whole.length <= limit) return whole;
  const out: string[] = [];
  let used = 0;
  for (const l of lines) {
    if (used + l.length + 1 > limit - 80) break;
    out.push(l);
    used += l.length + 1;
  }
  const rest = lines.length - out.length;
  return `${out.join('\n')}\n… ${rest} more line${rest === 1 ? '' : 's'} in ${file}`;
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
  const links: NonNullable<RenderedMessage['links']> = [];
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
      // A rollback's version is where it goes back to: "the rollback of production to v1.3.0", not a deployment of it.
      const subject = facts.rollingBack
        ? `The rollback${facts.environment ? ` of ${facts.environment}` : ''}${facts.version ? ` to ${short({ ...facts, environment: null })}` : ''}`
        : `Deployment of ${rel}${where(facts)}`;
      title = `Issue or delay: ${facts.rollingBack ? subject.replace(/^The r/, 'r') : short(facts)}`;
      const what = facts.failingStep
        ? `step '${facts.failingStep.title}' failed${facts.failingStep.reason ? `: ${facts.failingStep.reason}` : ''}`
        : 'it is taking longer than planned';
      text =
        `${subject} is delayed: ${what}.` +
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
    case 'release-notes': {
      const v = facts.version ? (/^\d/.test(facts.version) ? `v${facts.version}` : facts.version) : 'the release';
      title = `Release notes: ${v}`;
      text = facts.notes
        ? notesForChat(facts.notes.text, facts.notes.file)
        : `The release notes for ${rel}${facts.notesUrl ? `: ${facts.notesUrl}` : ' are not written yet.'}`;
      // The release the session's publish step made comes first: it is where these very notes are.
      const published = facts.published?.url ?? null;
      if (facts.notes && published) {
        text += `\n\nPublished: ${published}`;
        links.push({ url: published, label: `${v} release` });
      } else if (facts.notes && facts.notesUrl) text += `\n\nPublished: ${facts.notesUrl}`;
      break;
    }
    case 'status-operational':
      title = `Operational: ${short(facts)}`;
      text = `All systems are operational again after the deployment of ${rel}${where(facts)}.`;
      break;
  }
  return { name, title, text: override?.trim() ? override.trim() : text, ...(links.length ? { links } : {}) };
}
