/**
 * Real HTTP receivers on loopback for the notify tests (free ports, closed by the test): a Slack-compatible incoming
 * webhook and the Atlassian Statuspage manage API, each checking every request against the provider's documented
 * format and recording it. Used by test/integration/notify.test.ts and the issue-update terminal test.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { COMPONENT_STATUSES, INCIDENT_STATUSES, RESOLVED_STATUSES, slackProblems } from '../../src/demo/receivers-core.js';

export const SLACK_TOKEN = 'Xq7hooktoken' + 'Zr4'.repeat(6);
export const API_KEY = 'sp-key-' + 'Kd9'.repeat(8);
export const PAGE = 'pg7x';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests that broke the provider's documented format (each with why): must stay empty. */
  violations: string[];
  /** Requests held without an answer (the SIGKILL test). */
  held: http.ServerResponse[];
  close(): Promise<void>;
}

export type Answer = (req: Received, res: http.ServerResponse) => void;

export async function listen(handle: (req: Received, res: http.ServerResponse) => void): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const r: Receiver = { url: '', received: [], violations: [], held: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      let body: any = raw;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          r.violations.push(`${req.method} ${req.url}: body is not JSON`);
        }
      }
      const got: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() };
      r.received.push(got);
      handle(got, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return r;
}

/**
 * A Slack incoming webhook: POST to /services/T…/B…/<token>, JSON with a non-empty `text` (the notification
 * fallback) and `blocks` (typed blocks, a section's text at most 3000 characters); answers `ok` as text/plain.
 * `script` answers the n-th request otherwise, or, as one function, every request.
 */
export async function slackReceiver(script: Record<number, Answer> | Answer = {}): Promise<Receiver> {
  let n = 0;
  const r = await listen((req, res) => {
    n++;
    // The documented format, as the demo's own chat checks it (src/demo/receivers-core.ts).
    const problems = slackProblems(req, `/services/T0001/B0001/${SLACK_TOKEN}`);
    if (problems.length) {
      r.violations.push(`slack: ${problems.join(', ')}`);
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
      return;
    }
    const scripted = typeof script === 'function' ? script : script[n];
    if (scripted) return scripted(req, res);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  return r;
}

export interface StatusPage extends Receiver {
  components: Record<string, string[]>;
  incidents: Array<{ id: string; name: string; status: string; scheduled_for: string | null; metadata: unknown }>;
}

const RESOLVED = RESOLVED_STATUSES;

/** The Statuspage manage API (v1) for one page: incidents (realtime and scheduled) and components, in memory. */
export async function statuspageReceiver(opts: { holdFirstCreateMs?: number } = {}): Promise<StatusPage> {
  let creates = 0;
  const components: Record<string, string[]> = { cmpA: ['operational'], cmpB: ['operational'] };
  const incidents: StatusPage['incidents'] = [];
  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const base = `/v1/pages/${PAGE}`;
  const applyComponents = (v: unknown, problems: string[]) => {
    if (v === undefined) return;
    for (const [id, st] of Object.entries(v as Record<string, string>)) {
      if (!components[id]) problems.push(`unknown component ${id}`);
      else if (!COMPONENT_STATUSES.has(st)) problems.push(`component status ${st}`);
      else components[id].push(st);
    }
  };
  const r = (await listen((req, res) => {
    const problems: string[] = [];
    if (req.headers.authorization !== `OAuth ${API_KEY}`) problems.push(`authorization ${req.headers.authorization}`);
    if (!req.path.startsWith(`${base}/`)) problems.push(`path ${req.path}`);
    if (req.method !== 'GET' && !String(req.headers['content-type']).startsWith('application/json')) problems.push('content-type');
    const done = () => {
      if (problems.length) {
        r.violations.push(`statuspage ${req.method} ${req.path}: ${problems.join(', ')}`);
        json(res, 400, { error: problems.join(', ') });
        return true;
      }
      return false;
    };
    if (done()) return;
    const rest = req.path.slice(base.length);
    if (req.method === 'GET' && rest === '/incidents/unresolved')
      return json(
        res,
        200,
        incidents.filter((i) => !RESOLVED.has(i.status) && i.status !== 'scheduled'),
      );
    if (req.method === 'GET' && rest === '/incidents/scheduled')
      return json(
        res,
        200,
        incidents.filter((i) => i.status === 'scheduled'),
      );
    if (req.method === 'POST' && rest === '/incidents') {
      const inc = req.body?.incident;
      if (!inc || typeof inc.name !== 'string' || !INCIDENT_STATUSES.has(inc.status)) problems.push('incident name/status');
      if (inc?.status === 'scheduled' && (!inc.scheduled_for || !inc.scheduled_until)) problems.push('scheduled without times');
      applyComponents(inc?.components, problems);
      if (done()) return;
      const created = {
        id: `inc${incidents.length + 1}`,
        name: inc.name,
        status: inc.status,
        scheduled_for: inc.scheduled_for ?? null,
        metadata: inc.metadata ?? null,
      };
      incidents.push(created);
      // Made, but the answer comes too late: the cockpit cannot know it was made.
      if (++creates === 1 && opts.holdFirstCreateMs)
        return void setTimeout(() => !res.destroyed && json(res, 201, created), opts.holdFirstCreateMs);
      return json(res, 201, created);
    }
    const patchIncident = /^\/incidents\/([\w-]+)$/.exec(rest);
    if (req.method === 'PATCH' && patchIncident) {
      const found = incidents.find((i) => i.id === patchIncident[1]);
      const inc = req.body?.incident;
      if (!found) problems.push('no such incident');
      if (!inc || (inc.status !== undefined && !INCIDENT_STATUSES.has(inc.status))) problems.push('incident status');
      applyComponents(inc?.components, problems);
      if (done()) return;
      if (inc.status) found!.status = inc.status;
      return json(res, 200, found);
    }
    const patchComponent = /^\/components\/([\w-]+)$/.exec(rest);
    if (req.method === 'PATCH' && patchComponent) {
      const st = req.body?.component?.status;
      applyComponents({ [patchComponent[1]]: st }, problems);
      if (done()) return;
      return json(res, 200, { id: patchComponent[1], status: st });
    }
    r.violations.push(`statuspage: no such endpoint ${req.method} ${req.path}`);
    json(res, 404, { error: 'not found' });
  })) as StatusPage;
  r.components = components;
  r.incidents = incidents;
  return r;
}
