/**
 * A command run straight from the command line (`cockpit migrate upgrade`, `cockpit migrate backfill …`) that
 * changes something shared is recorded in the audit log like a checklist session of one step: who ran what, with
 * which flags (the database password redacted), everything it printed, any override and its reason, and how it
 * ended. Run as a checklist step (COCKPIT_SESSION set by the engine), the command records nothing itself: the
 * step's session already holds its command line, output and exit code.
 *
 * Such a session cannot be resumed (there is no checklist to resume): a failed one ends as `failed`, a stopped one as
 * `aborted`, and one whose process was killed shows as crashed until `cockpit abort` closes it.
 */
import type { AuditStore } from '../audit/store.js';
import { exitCodeOf } from '../core/errors.js';
import { bundleSha } from '../core/checklist/bundle.js';
import { COMMAND_LINE_ORIGIN, type NewEvent, type Outcome, type PlanNode } from '../core/events.js';
import { makeRedactor, sanitizeText, sanitizeValue } from '../core/sanitize.js';
import type { Clock } from '../adapters/clock.js';
import { OutputBuffer } from '../engine/output-buffer.js';
import { newSessionId, newSessionRecord } from '../engine/session.js';
import type { AppContext, AppIO } from './context.js';
import type { AnchorPort } from '../engine/session.js';
import { anchorPortFor } from './anchor.js';

const STEP = 'run';
/** Output is appended in batches: at most this often (and at the end). */
const FLUSH_MS = 250;
/** A terminal's redrawn progress line (`\r\x1b[K…`) is recorded at most this often. */
const REDRAW_RECORD_MS = 5_000;

export interface CommandSpec {
  /** `migrate upgrade`: the checklist id becomes `cockpit-migrate-upgrade`. */
  command: string;
  /** The command's flags as given (values already fit to show: passwords redacted by the caller). */
  params: Record<string, string>;
  /** Values to redact wherever they appear (e.g. the database password). */
  secrets?: string[];
  /** Notes recorded before the command runs (e.g. an override and its reason). */
  notes?: string[];
  /**
   * How what the command writes to stdout is kept in the log, when not as written: `migrate … --json` writes events
   * as JSON lines, kept in words (core/migrate/describe.ts) so that a replay reads as the command's own output would.
   */
  recordStdout?: (text: string) => Array<{ stream: 'stdout' | 'stderr'; text: string }>;
}

/** Run `body` with what it prints (stdout and stderr) recorded as one session; its exit code decides the outcome. */
export async function recordCommand(ctx: AppContext, spec: CommandSpec, body: () => Promise<number>): Promise<number> {
  if (ctx.io.env.COCKPIT_SESSION) return body();
  const store = await ctx.workspace().openStore();
  store.addSecrets((spec.secrets ?? []).filter((s) => s.length > 0));
  const who = ctx.identity();
  const now = ctx.clock.now();
  const id = newSessionId(now);
  const checklistId = `cockpit-${spec.command.trim().replace(/\s+/g, '-')}`;
  const title = `cockpit ${spec.command} (command line)`;
  // Redacted here as the store would (its header hash must match the text it keeps).
  const redactor = makeRedactor(spec.secrets ?? []);
  const params = sanitizeValue(spec.params, redactor);
  const args = Object.entries(params).map(([k, v]) => (v === 'true' ? `--${k}` : `--${k} ${v}`));
  const commandText = sanitizeText(['cockpit', spec.command, ...args].join(' '), redactor);
  // Stored as the session's checklist text: what was run, so `audit show` and the session hash cover it.
  const text = `# ${title}\nid: ${checklistId}\ntitle: ${JSON.stringify(title)}\nsteps:\n  - id: ${STEP}\n    kind: command\n    run: ${JSON.stringify(commandText)}\n`;
  const node: PlanNode = {
    path: STEP,
    id: STEP,
    title: commandText,
    kind: 'command',
    depth: 0,
    parent: null,
    checklist: checklistId,
    scope: '',
    spec: { run: commandText },
  };
  const sources = { [checklistId]: text };
  const { header, first } = newSessionRecord({
    id,
    time: now,
    identity: who,
    version: ctx.version,
    checklist: { id: checklistId, title, sha256: bundleSha(sources), text, sources },
    origin: { file: COMMAND_LINE_ORIGIN, byId: false },
    params,
    environment: null,
    mode: ctx.io.isTerminal() ? 'interactive' : 'non-interactive',
    plan: [node],
    scopes: { '': { checklist: checklistId, params } },
  });
  const begin = () => store.createSession(header, first);
  // The session is created with its first event: a command refused before doing anything (bad flags, no database)
  // leaves nothing in the log.
  const anchor = anchorPortFor(ctx);
  const rec = new Recorder(store, id, who.operator, begin, ctx.clock, ctx.io, anchor);
  rec.push({ type: 'step.started', stepId: STEP, data: { attempt: 1, description: commandText } });
  for (const n of spec.notes ?? []) rec.note(n);
  const restore = rec.tee(spec.recordStdout);
  const started = ctx.clock.now();
  let code: number;
  try {
    code = await body();
  } catch (e) {
    restore();
    const message = e instanceof Error ? e.message : String(e);
    const exitCode = exitCodeOf(e);
    rec.output.flush(true);
    rec.push({ type: 'step.output', stepId: STEP, data: { stream: 'stderr', text: `error: ${message}\n` } });
    await rec.end(exitCode, ctx.clock.now() - started, message);
    throw e;
  }
  restore();
  await rec.end(code, ctx.clock.now() - started);
  return code;
}

class Recorder {
  private queue: NewEvent[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private lastRedraw = 0;
  private failure: unknown = null;

  constructor(
    private readonly store: AuditStore,
    private readonly sessionId: string,
    private readonly actor: string,
    private readonly begin: () => Promise<unknown>,
    private readonly clock: Clock,
    private readonly io: AppIO,
    private readonly anchor?: AnchorPort,
  ) {}

  private started = false;
  /** The chain's head as last appended (anchored in git at the end). */
  head: { seq: number; hash: string } | null = null;

  /**
   * What the command writes goes through the buffer a checklist step's output goes through: whole lines, and a
   * secret written in two pieces (a pause, a long line) is handed on whole, so the store can redact it.
   */
  readonly output = new OutputBuffer((chunks) => {
    for (const c of chunks) this.push({ type: 'step.output', stepId: STEP, data: { stream: c.stream, text: c.text } });
  });

  push(e: NewEvent): void {
    this.queue.push({ actor: this.actor, time: this.clock.now(), ...e });
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  note(text: string): void {
    this.push({ type: 'note.added', stepId: STEP, data: { text } });
  }

  private flush(): Promise<unknown> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    if (batch.length) {
      if (!this.started) {
        this.started = true;
        this.chain = this.chain.then(this.begin);
      }
      this.chain = this.chain
        .then(() => this.store.append(this.sessionId, batch))
        .then((stored) => (this.head = stored.at(-1) ?? this.head))
        .catch((e) => (this.failure ??= e));
    }
    return this.chain;
  }

  /**
   * Everything written to stdout/stderr while the command runs is also recorded (the store redacts secrets), through
   * {@link output}: shown at once, recorded as whole lines.
   */
  tee(recordStdout?: CommandSpec['recordStdout']): () => void {
    const streams = [
      ['stdout', this.io.stdout],
      ['stderr', this.io.stderr],
    ] as const;
    const originals = streams.map(([name, stream]) => {
      const write = stream.write.bind(stream);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
        if (name === 'stdout' && recordStdout) for (const s of recordStdout(text)) this.capture(s.stream, s.text);
        else this.capture(name, text);
        return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
      return () => void (stream.write = write);
    });
    return () => originals.forEach((r) => r());
  }

  /** The last line the command wrote to stderr: the failure's reason when it fails. */
  private lastError = '';

  private capture(stream: 'stdout' | 'stderr', text: string): void {
    if (stream === 'stderr')
      this.lastError =
        text
          .trim()
          .split('\n')
          .pop()
          ?.replace(/^\s*✖\s*/, '') || this.lastError;
    // A progress line redrawn in place on a terminal: kept now and then (as a line), not at every redraw.
    if (text.startsWith('\r')) {
      const now = this.clock.now();
      if (now - this.lastRedraw < REDRAW_RECORD_MS) return;
      this.lastRedraw = now;
      text = text.replace(/^\r(\x1b\[K)?/, '') + '\n';
    }
    if (text) this.output.push(stream, text);
  }

  async end(exitCode: number, durationMs: number, error?: string): Promise<void> {
    this.output.flush(true);
    // Refused at once (bad flags, no database: exit 2 before anything was written): nothing to record.
    if (!this.started && exitCode === 2) {
      if (this.timer) clearTimeout(this.timer);
      this.queue = [];
      return;
    }
    let outcome: Outcome;
    if (exitCode === 0) {
      this.push({ type: 'step.passed', stepId: STEP, data: { durationMs, exitCode, via: 'command' } });
      outcome = 'succeeded';
    } else if (exitCode === 3) {
      this.push({ type: 'step.interrupted', stepId: STEP, data: { reason: 'stopped by the operator' } });
      outcome = 'aborted';
    } else {
      this.push({
        type: 'step.failed',
        stepId: STEP,
        data: { durationMs, exitCode, reason: error ?? (this.lastError || 'the command failed') },
      });
      outcome = 'failed';
    }
    const reason =
      outcome === 'succeeded'
        ? undefined
        : outcome === 'aborted'
          ? 'stopped by the operator; the same command continues'
          : `exit ${exitCode}${error ? `: ${error}` : ''}`;
    this.push({ type: 'session.finished', data: reason ? { outcome, reason } : { outcome } });
    await this.flush();
    if (this.failure) throw this.failure;
    if (this.head && this.anchor) {
      await this.anchor.record(this.sessionId, { seq: this.head.seq, hash: this.head.hash });
      await this.anchor.publish();
    }
  }
}
