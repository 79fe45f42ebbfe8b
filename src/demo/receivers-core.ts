/**
 * The demo's chat and status page, as the providers document them: a Slack-compatible incoming webhook and the
 * Atlassian Statuspage manage API (v1) subset the cockpit uses (src/core/notify/delivery.ts). Pure request handling:
 * each request is checked against the documented format (what breaks it is answered 400 and said), the status
 * page's components and incidents are kept in memory, and every message is returned in words for the demo's
 * record. The demo's receiver process (./receivers-main.ts) serves it over HTTP; the notify tests' receivers
 * (test/helpers/notify-receivers.ts) use the same checks.
 */

/** The Slack webhook's path; its last segment is the token (a secret: never logged or recorded). */
export const SLACK_PATH_PREFIX = '/services/T0DEMO/B0DEMO/';

/** A request as the receiver got it (the body parsed when it was JSON). */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON (unchecked: each handler checks what it reads). */
  body: unknown;
}

/** A Slack webhook body as it may come (each field checked before use). */
interface SlackBody {
  text?: unknown;
  blocks?: Array<{ type?: unknown; text?: { type?: unknown; text?: unknown } } | null>;
}

/** A Statuspage incident in a request body as it may come (each field checked before use). */
interface IncidentBody {
  name?: unknown;
  status?: string;
  body?: unknown;
  scheduled_for?: string;
  scheduled_until?: string;
  components?: unknown;
  metadata?: unknown;
}

/** What to answer, and what the request said in words (a message the demo records), or why it broke the format. */
export interface ReceiverAnswer {
  status: number;
  contentType: 'text/plain' | 'application/json';
  body: string;
  /** The format problems (the answer is then 400). */
  problems?: string[];
  /** A message a reader would see: posted in chat, or shown on the status page. */
  message?: { channel: 'chat' | 'status page'; text: string };
}

/** Slack's own limits on what a webhook message may hold. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

/** Why a Slack incoming-webhook POST breaks the documented format (empty: it does not). `token`: the webhook path's. */
export function slackProblems(req: ReceivedRequest, path: string): string[] {
  const problems: string[] = [];
  const body = (req.body && typeof req.body === 'object' ? req.body : {}) as SlackBody;
  if (req.method !== 'POST') problems.push(`method ${req.method}`);
  if (req.path !== path) problems.push(`path ${req.path.replace(/[^/]{8,}$/, '…')}`);
  if (!String(req.headers['content-type']).startsWith('application/json')) problems.push(`content-type ${req.headers['content-type']}`);
  if (typeof body.text !== 'string' || !body.text.trim()) problems.push('no text fallback');
  const blocks = Array.isArray(body.blocks) ? body.blocks : null;
  if (!blocks || !blocks.every((b) => typeof b?.type === 'string')) problems.push('blocks');
  for (const b of blocks ?? []) {
    if (b?.type === 'header' && (b.text?.type !== 'plain_text' || typeof b.text.text !== 'string' || b.text.text.length > HEADER_MAX))
      problems.push('header block');
    if (b?.type === 'section' && typeof b.text?.text === 'string' && b.text.text.length > SECTION_MAX)
      problems.push(`section block over ${SECTION_MAX} characters`);
  }
  return problems;
}

/** Slack's mrkdwn escapes undone: what a reader of the channel sees. */
export function slackUnescape(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The demo's Slack webhook: checks each POST, answers `ok` as text/plain (as Slack does), the fallback text as the message. */
export function slackAnswer(req: ReceivedRequest, path: string): ReceiverAnswer {
  const problems = slackProblems(req, path);
  if (problems.length) return { status: 400, contentType: 'text/plain', body: 'invalid_payload', problems };
  return {
    status: 200,
    contentType: 'text/plain',
    body: 'ok',
    message: { channel: 'chat', text: slackUnescape(String((req.body as SlackBody).text)) },
  };
}

export const RESOLVED_STATUSES = new Set(['resolved', 'completed', 'postmortem']);
export const INCIDENT_STATUSES = new Set([
  'investigating',
  'identified',
  'monitoring',
  'resolved',
  'scheduled',
  'in_progress',
  'verifying',
  'completed',
]);
export const COMPONENT_STATUSES = new Set(['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage']);

export interface StatusIncident {
  id: string;
  name: string;
  status: string;
  body: string | null;
  scheduled_for: string | null;
  scheduled_until: string | null;
  metadata: unknown;
  created_at: string;
  updated_at: string;
}

export interface StatusComponent {
  id: string;
  name: string;
  status: string;
  /** Every status it has had, oldest first (the first is its status at start). */
  history: string[];
}

/** What the status page shows: its components and incidents (saved by the demo's receiver, read by `--messages`). */
export interface StatusPageState {
  page: string;
  components: StatusComponent[];
  incidents: StatusIncident[];
}

export function newStatusPage(page: string, components: Array<{ id: string; name: string }>): StatusPageState {
  return { page, components: components.map((c) => ({ ...c, status: 'operational', history: ['operational'] })), incidents: [] };
}

/** A status in words: `under_maintenance` → "under maintenance". */
export const statusWords = (s: string) => s.replace(/_/g, ' ');

/**
 * The Statuspage manage API (v1) for one page: `Authorization: OAuth <key>`, JSON bodies; incidents (realtime and
 * scheduled maintenances) and components. Changes `state`; `now` stamps the incidents.
 */
export function statuspageAnswer(
  state: StatusPageState,
  req: ReceivedRequest,
  apiKey: string,
  now: () => Date = () => new Date(),
): ReceiverAnswer {
  const problems: string[] = [];
  const json = (status: number, body: unknown, message?: string): ReceiverAnswer => ({
    status,
    contentType: 'application/json',
    body: JSON.stringify(body),
    ...(message ? { message: { channel: 'status page' as const, text: message } } : {}),
  });
  const refuse = (status = 400): ReceiverAnswer => ({ ...json(status, { error: problems.join(', ') }), problems: [...problems] });
  const base = `/v1/pages/${state.page}`;
  // The key is never repeated: not in a problem, not in the record.
  if (req.headers.authorization !== `OAuth ${apiKey}`) {
    problems.push(req.headers.authorization ? 'authorization: not this page’s API key' : 'no authorization header');
    return refuse(401);
  }
  if (!req.path.startsWith(`${base}/`)) problems.push(`path ${req.path}`);
  if (req.method !== 'GET' && !String(req.headers['content-type']).startsWith('application/json')) problems.push('content-type');
  if (problems.length) return refuse();
  const rest = req.path.slice(base.length);
  const byId = new Map(state.components.map((c) => [c.id, c]));
  /** The components a body sets (`{id: status}`), checked; applied only once the whole request is valid. */
  const componentChanges = (v: unknown): Array<[StatusComponent, string]> => {
    if (v === undefined) return [];
    if (!v || typeof v !== 'object') {
      problems.push('components');
      return [];
    }
    const out: Array<[StatusComponent, string]> = [];
    for (const [id, st] of Object.entries(v as Record<string, unknown>)) {
      const c = byId.get(id);
      if (!c) problems.push(`unknown component ${id}`);
      else if (typeof st !== 'string' || !COMPONENT_STATUSES.has(st)) problems.push(`component status ${String(st)}`);
      else out.push([c, st]);
    }
    return out;
  };
  const apply = (changes: Array<[StatusComponent, string]>): string => {
    for (const [c, st] of changes) {
      c.status = st;
      c.history.push(st);
    }
    return changes.length ? `\n${changes.map(([c, st]) => `${c.name}: ${statusWords(st)}`).join(', ')}` : '';
  };
  const said = (body: unknown) => (typeof body === 'string' && body.trim() ? `\n${body.trim()}` : '');

  if (req.method === 'GET' && rest === '/incidents/unresolved')
    return json(
      200,
      state.incidents.filter((i) => !RESOLVED_STATUSES.has(i.status) && i.status !== 'scheduled'),
    );
  if (req.method === 'GET' && rest === '/incidents/scheduled')
    return json(
      200,
      state.incidents.filter((i) => i.status === 'scheduled'),
    );
  if (req.method === 'GET' && rest === '/components')
    return json(
      200,
      state.components.map(({ history: _h, ...c }) => c),
    );
  const inc = ((req.body as { incident?: IncidentBody } | null)?.incident ?? undefined) as IncidentBody | undefined;
  if (req.method === 'POST' && rest === '/incidents') {
    if (!inc || typeof inc.name !== 'string' || !inc.name.trim() || !INCIDENT_STATUSES.has(String(inc.status)))
      problems.push('incident name/status');
    if (inc?.status === 'scheduled' && (!inc.scheduled_for || !inc.scheduled_until)) problems.push('scheduled without times');
    const changes = componentChanges(inc?.components);
    if (problems.length || !inc) return refuse();
    const name = String(inc.name);
    const status = String(inc.status);
    const at = now().toISOString();
    const created: StatusIncident = {
      id: `inc${state.incidents.length + 1}`,
      name,
      status,
      body: typeof inc.body === 'string' ? inc.body : null,
      scheduled_for: inc.scheduled_for ?? null,
      scheduled_until: inc.scheduled_until ?? null,
      metadata: inc.metadata ?? null,
      created_at: at,
      updated_at: at,
    };
    state.incidents.push(created);
    const what =
      status === 'scheduled'
        ? `maintenance '${name}' scheduled ${inc.scheduled_for} to ${inc.scheduled_until}`
        : `incident '${name}' opened (${statusWords(status)})`;
    return json(201, created, `${what}${apply(changes)}${said(inc.body)}`);
  }
  const incident = /^\/incidents\/([\w-]+)$/.exec(rest);
  if (req.method === 'PATCH' && incident) {
    const found = state.incidents.find((i) => i.id === incident[1]);
    if (!inc || typeof inc !== 'object' || (inc.status !== undefined && !INCIDENT_STATUSES.has(inc.status)))
      problems.push('incident status');
    const changes = componentChanges(inc?.components);
    if (!found) {
      problems.push('no such incident');
      return refuse(404);
    }
    if (problems.length || !inc) return refuse();
    if (inc.status) found.status = inc.status;
    if (typeof inc.body === 'string') found.body = inc.body;
    if (inc.scheduled_for) found.scheduled_for = inc.scheduled_for;
    if (inc.scheduled_until) found.scheduled_until = inc.scheduled_until;
    found.updated_at = now().toISOString();
    const what = `'${found.name}'${inc.status ? ` → ${statusWords(inc.status)}` : ' updated'}`;
    return json(200, found, `${what}${apply(changes)}${said(inc.body)}`);
  }
  const component = /^\/components\/([\w-]+)$/.exec(rest);
  if (req.method === 'PATCH' && component) {
    const changes = componentChanges({ [component[1]]: (req.body as { component?: { status?: unknown } } | null)?.component?.status });
    if (problems.length) return refuse(byId.has(component[1]) ? 400 : 404);
    const [c] = changes[0];
    const text = apply(changes).slice(1);
    return json(200, { id: c.id, name: c.name, status: c.status }, text);
  }
  problems.push(`no such endpoint ${req.method} ${req.path}`);
  return refuse(404);
}
