// A Slack-compatible incoming webhook on loopback (a free port, closed by `close`), checking each request against
// Slack's documented format as test/integration/notify.test.ts's receiver does (POST to /services/T…/B…/<token>,
// JSON with a non-empty `text` fallback and typed `blocks`, a header block of plain_text ≤ 150 characters) and
// recording it. `answer` decides each answer (default: 200 `ok`); a request it leaves unanswered is held.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SlackRequest {
  path: string;
  body: any;
  at: number;
}

export interface SlackReceiver {
  /** The webhook URL to configure (with its token). */
  webhook: string;
  token: string;
  received: SlackRequest[];
  /** Requests that broke Slack's documented format: must stay empty. */
  violations: string[];
  close(): Promise<void>;
}

export async function slackReceiver(answer?: (req: SlackRequest, res: http.ServerResponse, n: number) => void): Promise<SlackReceiver> {
  const token = 'Pb8hooktoken' + 'Wm3'.repeat(6);
  const sockets = new Set<Socket>();
  const held: http.ServerResponse[] = [];
  const r: SlackReceiver = { webhook: '', token, received: [], violations: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const problems: string[] = [];
      let body: any = null;
      try {
        body = JSON.parse(raw);
      } catch {
        problems.push('body is not JSON');
      }
      if (req.method !== 'POST') problems.push(`method ${req.method}`);
      if (req.url !== `/services/T0001/B0001/${token}`) problems.push(`path ${req.url}`);
      if (!String(req.headers['content-type']).startsWith('application/json')) problems.push('content-type');
      if (typeof body?.text !== 'string' || !body.text.trim()) problems.push('no text fallback');
      if (!Array.isArray(body?.blocks) || !body.blocks.every((b: any) => typeof b.type === 'string')) problems.push('blocks');
      for (const b of body?.blocks ?? []) {
        if (b.type === 'header' && (b.text?.type !== 'plain_text' || b.text.text.length > 150)) problems.push('header block');
        if (b.type === 'section' && b.text?.text.length > 3000) problems.push('section block over 3000 characters');
      }
      const got = { path: req.url ?? '', body, at: Date.now() };
      r.received.push(got);
      if (problems.length) {
        r.violations.push(problems.join(', '));
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        return;
      }
      held.push(res);
      if (answer) answer(got, res, r.received.length);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0001/B0001/${token}`;
  r.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return r;
}
