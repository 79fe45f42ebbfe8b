/**
 * The demo's chat and status-page receiver as a process (bundled as dist/demo-receivers.js; ./receivers.ts starts
 * it): one HTTP server on a free loopback port serving a Slack-compatible incoming webhook at
 * /services/T0DEMO/B0DEMO/<token> and the Statuspage manage API at /v1/pages/<page>/… (./receivers-core.ts).
 *
 *   node demo-receivers.js --state <dir> --parent <pid> --page <id> --component <id>=<name> …
 *   (the webhook token and the API key come in the environment: DEMO_RECEIVER_TOKEN, DEMO_RECEIVER_KEY)
 *
 * In <dir>: server.json (pid, port, URLs: written once it listens), messages.jsonl (every message received: time,
 * channel, text; never the token or the key), statuspage.json (the components and incidents, after each change).
 * It exits by itself when the parent process is gone (checked every 2 s), and on SIGTERM/SIGINT.
 */
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  newStatusPage,
  SLACK_PATH_PREFIX,
  slackAnswer,
  statuspageAnswer,
  type ReceivedRequest,
  type ReceiverAnswer,
  type StatusPageState,
} from './receivers-core.js';

const MAX_BODY = 1024 * 1024;

function args(argv: string[]) {
  const out = { state: '', parent: 0, page: '', components: [] as Array<{ id: string; name: string }> };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--state') out.state = path.resolve(v);
    else if (argv[i] === '--parent') out.parent = Number(v);
    else if (argv[i] === '--page') out.page = v;
    else if (argv[i] === '--component') {
      const eq = v.indexOf('=');
      out.components.push(eq > 0 ? { id: v.slice(0, eq), name: v.slice(eq + 1) } : { id: v, name: v });
    } else continue;
    i++;
  }
  return out;
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

/** The page as the last run left it, when it is the same page with the same components. */
function restored(file: string, page: string, components: Array<{ id: string; name: string }>): StatusPageState | null {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as StatusPageState;
    const same = s.page === page && s.components.map((c) => c.id).join() === components.map((c) => c.id).join();
    return same && Array.isArray(s.incidents) ? s : null;
  } catch {
    return null;
  }
}

function main(): void {
  const a = args(process.argv.slice(2));
  const token = process.env.DEMO_RECEIVER_TOKEN ?? '';
  const apiKey = process.env.DEMO_RECEIVER_KEY ?? '';
  if (!a.state || !a.page || !token || !apiKey) {
    process.stderr.write('demo-receivers: needs --state, --page, DEMO_RECEIVER_TOKEN and DEMO_RECEIVER_KEY\n');
    process.exit(2);
  }
  mkdirSync(a.state, { recursive: true });
  const messagesFile = path.join(a.state, 'messages.jsonl');
  const stateFile = path.join(a.state, 'statuspage.json');
  // A status page keeps its state: a restarted demo finds its components and incidents as they were.
  const page = restored(stateFile, a.page, a.components) ?? newStatusPage(a.page, a.components);
  writeJson(stateFile, page);
  const slackPath = SLACK_PATH_PREFIX + token;

  const handle = (req: ReceivedRequest): ReceiverAnswer => {
    if (req.method === 'GET' && req.path === '/health')
      return { status: 200, contentType: 'application/json', body: JSON.stringify({ status: 'ok' }) };
    if (req.path.startsWith('/services/')) return slackAnswer(req, slackPath);
    if (req.path.startsWith('/v1/')) {
      const before = JSON.stringify(page);
      const answer = statuspageAnswer(page, req, apiKey);
      if (JSON.stringify(page) !== before) writeJson(stateFile, page);
      return answer;
    }
    return { status: 404, contentType: 'text/plain', body: 'not found', problems: [`no such endpoint ${req.method} ${req.path}`] };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      let notJson = false;
      if (raw) {
        try {
          body = JSON.parse(raw);
        } catch {
          notJson = true;
        }
      }
      // The path without its query; the webhook's token is its last segment (never logged whole).
      const pathOnly = (req.url ?? '/').split('?')[0];
      const got: ReceivedRequest = { method: req.method ?? '', path: pathOnly, headers: req.headers, body };
      const answer: ReceiverAnswer = notJson
        ? { status: 400, contentType: 'text/plain', body: 'invalid_payload', problems: ['body is not JSON'] }
        : size > MAX_BODY
          ? { status: 413, contentType: 'text/plain', body: 'too large', problems: ['body over 1 MB'] }
          : handle(got);
      const shownPath = pathOnly.startsWith('/services/') ? `${SLACK_PATH_PREFIX}[token]` : pathOnly;
      if (answer.problems?.length)
        process.stderr.write(`${new Date().toISOString()} ${got.method} ${shownPath}: ${answer.status}: ${answer.problems.join(', ')}\n`);
      if (answer.message)
        appendFileSync(
          messagesFile,
          JSON.stringify({ time: new Date().toISOString(), channel: answer.message.channel, text: answer.message.text }) + '\n',
        );
      res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
    });
  });

  const stop = () => {
    server.close();
    // Open keep-alive connections do not hold the exit.
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    writeJson(path.join(a.state, 'server.json'), {
      pid: process.pid,
      port,
      chat: `${url}${SLACK_PATH_PREFIX}[token]`,
      statuspage: `${url}/v1`,
      startedAt: new Date().toISOString(),
    });
    process.stderr.write(`${new Date().toISOString()} listening on ${url} (chat webhook and status page ${a.page})\n`);
  });

  if (a.parent > 0) {
    setInterval(() => {
      try {
        process.kill(a.parent, 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') {
          process.stderr.write(`${new Date().toISOString()} the demo (pid ${a.parent}) is gone: stopping\n`);
          stop();
        }
      }
    }, 2000).unref();
  }
}

main();
