import { formatDuration } from '../core/duration.js';
import { exhaustive } from '../core/exhaustive.js';
import { approvalWords } from '../core/approval.js';
import { deployWords } from '../core/deploy/words.js';
import type { StoredEvent } from '../core/events.js';
import { groupStatus, reduce, type SessionState } from '../core/reducer.js';
import { GLYPH } from './style.js';
import { cockpitCommand, type CommandLine } from '../core/command-line.js';
import { inertMarkdown } from '../core/markdown.js';
import { clockText, readRecovery, recoveryJson, recoveryText } from '../core/recovery.js';

export interface TimelineEntry {
  time: number;
  actor: string;
  stepId: string | null;
  kind: 'session' | 'step' | 'note' | 'output';
  text: string;
  important: boolean;
}

const iso = (t: number) =>
  new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/** A report shows a step's output whole up to this many lines; a longer one by its first and last lines. */
export const OUTPUT_HEAD = 10;
export const OUTPUT_TAIL = 20;

/** One attempt's output as a report shows it: every line when it is short, else its head and tail (the rest counted). */
export interface OutputExcerpt {
  path: string;
  attempt: number;
  lines: number;
  head: string[];
  tail: string[];
}

/** A session folded for a report: its state, the timeline, each step's output, and what the header needs of the events. */
export interface Story {
  state: SessionState | null;
  entries: TimelineEntry[];
  outputs: OutputExcerpt[];
  count: number;
  first: StoredEvent<'session.started'> | null;
  last: StoredEvent | null;
}

/** How the report's commands are written (`--repo` when the reader is elsewhere: core/command-line.ts). */
export interface ReportOptions {
  command?: CommandLine;
}

/** The session's events as a story: output chunks are folded into a line count per step attempt. */
export function timeline(events: Iterable<StoredEvent>): Story {
  const b = storyBuilder();
  for (const e of events) b.add(e);
  return b.finish();
}

/** The same, read as the events come (a stream from the store): only the folded state is kept. */
export async function storyOf(events: AsyncIterable<StoredEvent> | Iterable<StoredEvent>): Promise<Story> {
  const b = storyBuilder();
  for await (const e of events) b.add(e);
  return b.finish();
}

/** How many line feeds `text` holds, counted without cutting it into lines. */
function newlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * One attempt's output read into its excerpt as it streams: the first lines whole, then only a count and the text
 * of the last lines (trimmed now and then at a line feed), so 70 MB pass through without being cut into lines.
 */
class ExcerptReader {
  private partial = '';
  private tail = '';
  private tailFeeds = 0;
  constructor(readonly excerpt: OutputExcerpt) {}

  /** `feeds`: the line feeds in `text`, counted once by the caller. */
  push(text: string, feeds: number): void {
    const head = this.excerpt.head;
    let rest = text;
    if (head.length >= OUTPUT_HEAD) {
      this.tailFeeds += feeds;
      return this.keep(rest);
    }
    while (head.length < OUTPUT_HEAD) {
      const nl = rest.indexOf('\n');
      if (nl < 0) {
        this.partial += rest;
        return;
      }
      head.push(this.partial + rest.slice(0, nl));
      this.partial = '';
      rest = rest.slice(nl + 1);
    }
    this.tailFeeds += newlines(rest);
    this.keep(rest);
  }

  private keep(rest: string): void {
    this.tail += rest;
    if (this.tail.length > 64 * 1024) {
      // Keep from after the (TAIL + 1)th line feed from the end: the last lines, and the one being written.
      let at = this.tail.length;
      for (let k = 0; k <= OUTPUT_TAIL && at > 0; k++) at = this.tail.lastIndexOf('\n', at - 1);
      if (at > 0) this.tail = this.tail.slice(at + 1);
    }
  }

  end(): void {
    const ex = this.excerpt;
    if (this.partial) ex.head.push(this.partial);
    this.partial = '';
    const lines = this.tail.split('\n');
    if (lines.at(-1) === '') lines.pop();
    ex.tail = lines.slice(-OUTPUT_TAIL);
    ex.lines = ex.head.length + this.tailFeeds + (this.tail && !this.tail.endsWith('\n') ? 1 : 0);
  }
}

function storyBuilder(): { add(e: StoredEvent): void; finish(): Story } {
  const entries: TimelineEntry[] = [];
  let state: SessionState | null = null;
  let count = 0;
  let first: StoredEvent<'session.started'> | null = null;
  let last: StoredEvent | null = null;
  let outLines = 0;
  let outStep: string | null = null;
  let outTime = 0;
  // Each attempt's output, head and tail kept as it streams by (a 70 MB output is never held).
  const outputs: OutputExcerpt[] = [];
  const reading = new Map<string, ExcerptReader>();
  const excerptFor = (path: string, attempt: number) => {
    reading.get(path)?.end();
    const r = new ExcerptReader({ path, attempt, lines: 0, head: [], tail: [] });
    reading.set(path, r);
    outputs.push(r.excerpt);
    return r;
  };
  const flushOutput = () => {
    if (outStep && outLines)
      entries.push({
        time: outTime,
        actor: 'cockpit',
        stepId: outStep,
        kind: 'output',
        text: `${outLines} line(s) of output`,
        important: false,
      });
    outLines = 0;
    outStep = null;
  };
  const add = (e: StoredEvent) => {
    state = reduce(state, e);
    count++;
    last = e;
    if (e.type === 'session.started') first ??= e;
    if (e.type === 'step.started' && e.stepId) excerptFor(e.stepId, e.data.attempt);
    if (e.type === 'step.output') {
      const t = e.data.text;
      const feeds = newlines(t);
      if (e.stepId) (reading.get(e.stepId) ?? excerptFor(e.stepId, 1)).push(t, feeds);
      if (outStep !== e.stepId) flushOutput();
      outStep = e.stepId;
      outTime = e.time;
      outLines += feeds + (t.endsWith('\n') ? 0 : 1);
      return;
    }
    flushOutput();
    const step = e.stepId ? `'${e.stepId}'` : '';
    // A notification without a step is the operator's issue update (the `u` key), about the step it names.
    const by = e.stepId
      ? `step ${step}`
      : `${e.actor}'s update${e.type === 'notify.sending' && e.data.about ? ` about '${e.data.about}'` : ''}`;
    const add = (kind: TimelineEntry['kind'], text: string, important = false) =>
      entries.push({ time: e.time, actor: e.actor, stepId: e.stepId, kind, text, important });
    switch (e.type) {
      case 'session.started': {
        const d = e.data;
        add(
          'session',
          `session started: ${d.checklist.title} [${d.checklist.id}] ${Object.entries(d.params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')} (${d.mode}, cockpit ${d.version}, pid ${d.pid} on ${d.host})`.replace(/\s+\(/, ' ('),
          true,
        );
        if (d.recovery) add('session', `recovery clock started: objective ${d.recovery.objective}; ${d.recovery.reason}`, true);
        break;
      }
      case 'session.resumed': {
        const d = e.data;
        add(
          'session',
          `session resumed by ${d.operator} on ${d.host}${d.forced ? ` — FORCED although the checklist changed (${d.forced.oldSha256.slice(0, 12)} → ${d.forced.newSha256.slice(0, 12)})` : ''}`,
          true,
        );
        break;
      }
      case 'session.paused': {
        const d = e.data;
        add('session', `session paused (${d.reason}): ${d.message}`, true);
        break;
      }
      case 'session.finished': {
        const d = e.data;
        add('session', `session finished: ${d.outcome}${d.reason ? ` — ${d.reason}` : ''}`, true);
        break;
      }
      case 'step.started': {
        const d = e.data;
        add('step', `step ${step} started${d.attempt > 1 ? ` (attempt ${d.attempt})` : ''}${d.description ? `: ${d.description}` : ''}`);
        if (d.asks) add('step', `step ${step} waits for the operator: ${d.asks}`);
        break;
      }
      case 'step.spawned': {
        const d = e.data;
        add('step', `step ${step}: process ${d.pid} started in ${d.cwd}`);
        break;
      }
      case 'step.confirmed': {
        const d = e.data;
        add(
          'step',
          `step ${step} confirmed by ${d.by} ${d.via === 'flag' ? '(confirmed by flag --yes)' : '(at the prompt)'}${d.note ? `: ${d.note}` : ''}`,
          true,
        );
        break;
      }
      case 'step.passed': {
        const d = e.data;
        add(
          'step',
          d.nothingToCheck
            ? `step ${step} had nothing to check: ${d.nothingToCheck}`
            : `step ${step} passed${d.exitCode !== undefined ? `, exit ${d.exitCode}` : ''}${d.durationMs !== undefined ? ` (${formatDuration(d.durationMs)})` : ''}${d.via === 'probe' ? ' — already done (probe)' : ''}`,
        );
        break;
      }
      case 'step.failed': {
        const d = e.data;
        add(
          'step',
          `step ${step} FAILED: ${d.reason}${d.exitCode !== null && d.exitCode !== undefined ? ` (exit ${d.exitCode})` : ''}${d.durationMs !== undefined ? ` after ${formatDuration(d.durationMs)}` : ''}`,
          true,
        );
        break;
      }
      case 'step.skipped': {
        const d = e.data;
        add('step', `step ${step} skipped ${d.by === 'operator' ? 'by the operator' : 'by condition'}: ${d.reason}`, true);
        break;
      }
      case 'step.interrupted': {
        const d = e.data;
        add('step', `step ${step} interrupted: ${d.reason}`, true);
        break;
      }
      case 'step.probed': {
        const d = e.data;
        add('step', `step ${step} probed: ${d.result} — ${d.detail}`);
        break;
      }
      case 'note.added': {
        const d = e.data;
        add('note', `note${step ? ` on ${step}` : ''}: ${d.text}`, true);
        break;
      }
      case 'smoke.check': {
        const d = e.data;
        const verdict = d.verdict === 'pass' ? 'passed' : d.verdict === 'fail' ? 'failed' : 'inconclusive';
        const tries = d.attempts > 1 ? ` after ${d.attempts} attempts` : '';
        add('step', `step ${step}: smoke check ${d.name} ${verdict}${tries}: ${d.method} ${d.url} — ${d.reason}`, d.verdict !== 'pass');
        break;
      }
      case 'deploy.built':
      case 'deploy.deployed':
      case 'deploy.switched':
      case 'deploy.rollback':
        add('step', `step ${step}: ${deployWords(e)}`, true);
        break;
      case 'notify.sending': {
        const d = e.data;
        // The operator's issue update (no step), or a step's message the operator was shown: the text as sent, edited
        // (and by whom, for a step's) or not.
        const said =
          d.text !== undefined ? `; ${d.edited ? `edited${d.editedBy ? ` by ${d.editedBy}` : ''}` : 'as rendered'}: "${d.text}"` : '';
        add('step', `${by}: sending ${d.message} to ${d.channel} (${d.provider}${d.status ? ` ${d.status}` : ''}, ${d.endpoint})${said}`);
        break;
      }
      case 'notify.retrying': {
        const d = e.data;
        add('step', `${by}: ${d.channel} try ${d.attempt} failed (${d.reason}); again in ${formatDuration(d.waitMs)}`);
        break;
      }
      case 'notify.delivered': {
        const d = e.data;
        const tries = d.attempts > 1 ? ` after ${d.attempts} attempts` : '';
        add('step', `${by}: delivered to ${d.channel}${tries}: HTTP ${d.status}${d.messageId ? `, id ${d.messageId}` : ''} (${d.detail})`);
        break;
      }
      case 'notify.failed': {
        const d = e.data;
        add(
          'step',
          d.onFailure === 'warn'
            ? `⚠ ${by}: not delivered to ${d.channel}: ${d.reason} (onFailure: warn: recorded, the step went on without it)`
            : `${by}: not delivered to ${d.channel}: ${d.reason}`,
          true,
        );
        break;
      }
      case 'release.published': {
        const d = e.data;
        add('step', `step ${step}: published ${d.version}${d.url ? ` at ${d.url}` : ' (the command printed no URL)'}: ${d.command}`, true);
        break;
      }
      case 'approval.requested':
      case 'approval.granted':
      case 'approval.rejected':
      case 'approval.resolved':
      case 'approval.ignored':
        add('step', `step ${step} ${approvalWords(e)}`, e.type !== 'approval.requested');
        break;
      // The watch's events are not in the timeline: it tells the session and its steps.
      case 'watch.started':
      case 'watch.preflight':
      case 'watch.baseline':
      case 'watch.sample':
      case 'watch.breach':
      case 'watch.recovery':
      case 'watch.connection':
      case 'watch.finished':
        break;
      default:
        exhaustive(e);
    }
  };
  return {
    add,
    finish() {
      flushOutput();
      for (const r of reading.values()) r.end();
      return { state, entries, outputs: outputs.filter((o) => o.lines > 0), count, first, last };
    },
  };
}

function stepRows(state: SessionState) {
  return state.plan.map((node, i) => {
    const s = state.steps[i];
    const group = node.kind === 'checklist' ? groupStatus(state, node.path) : s.status;
    // A pass that checked nothing is not shown as one (○ nothing to check, with why).
    const status = group === 'passed' && s.nothingToCheck ? 'unchecked' : group;
    return {
      n: i + 1,
      path: node.path,
      title: node.title,
      depth: node.depth,
      kind: node.kind,
      status,
      label: status === 'unchecked' ? 'nothing to check' : status,
      duration: s.durationMs !== undefined ? formatDuration(s.durationMs) : '',
      exit: s.exitCode !== undefined && s.exitCode !== null ? String(s.exitCode) : '',
      attempts: s.attempts,
      detail: [
        s.reason,
        s.nothingToCheck && `nothing to check: ${s.nothingToCheck}`,
        s.confirmedBy ? `confirmed by ${s.confirmedBy}${s.confirmedVia === 'flag' ? ' (by flag)' : ''}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    };
  });
}

function header(state: SessionState, story: Story): Array<[string, string]> {
  const last = story.last;
  const ended = state.endedAt ?? last?.time ?? state.startedAt;
  return [
    ['Session', state.id],
    ['Checklist', `${state.checklist.title} [${state.checklist.id}] sha256 ${state.checklist.sha256.slice(0, 16)}`],
    [
      'Parameters',
      Object.entries(state.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '—',
    ],
    ['Environment', state.environment ?? '—'],
    [
      'Operator',
      `${story.first?.data.operator ?? state.operator}${state.resumes.length ? `, resumed by ${state.resumes.map((r) => r.operator).join(', ')}` : ''}`,
    ],
    ['Host', state.host],
    ['Started', iso(state.startedAt)],
    ['Ended', state.endedAt ? iso(state.endedAt) : '— (not finished)'],
    ['Duration', formatDuration(ended - state.startedAt)],
    ['Outcome', state.outcome ?? `${state.status} (resumable)`],
    ...recoveryRows(state, last?.time ?? state.startedAt),
    ['Events', `${story.count} (last #${last?.seq ?? 0}, hash ${last?.hash.slice(0, 16) ?? ''})`],
  ];
}

/** The recovery clock's rows: at its end, or (not finished) as of the last event; and where it counted from. */
function recoveryRows(state: SessionState, lastTime: number): Array<[string, string]> {
  const r = readRecovery(state, lastTime);
  if (!r) return [];
  const text = recoveryText(r) + (r.state === 'running' ? ' — not recovered yet, as of the last event' : '');
  const m = r.mitigated;
  return [
    ['Recovery', text],
    ['Clock from', `${iso(r.start.since)}: ${r.start.reason}`],
    ...(m
      ? ([
          [
            'Mitigated',
            `${iso(m.at)}, ${clockText(m.afterMs)} after the clock's start: step ${m.step} passed after ${m.after} (traffic back on a healthy version)`,
          ],
        ] as Array<[string, string]>)
      : []),
  ];
}

/** A story, or the events to fold into one. */
const told = (input: StoredEvent[] | Story): Story => (Array.isArray(input) ? timeline(input) : input);

const commandFor = (opts: ReportOptions): CommandLine => opts.command ?? ((args) => cockpitCommand(args));

/** An attempt's output as the report shows it: head, the omission with the command that prints all of it, tail. */
function excerptParts(story: Story, o: OutputExcerpt, opts: ReportOptions) {
  const omitted = o.lines - o.head.length - o.tail.length;
  const title = `${o.lines.toLocaleString('en-US')} line${o.lines === 1 ? '' : 's'}`;
  const attempts = story.outputs.filter((x) => x.path === o.path).length > 1 || o.attempt > 1;
  return {
    heading: `Output of '${o.path}'${attempts ? ` (attempt ${o.attempt})` : ''}: ${title}`,
    head: omitted > 0 ? o.head : [...o.head, ...o.tail],
    omission:
      omitted > 0
        ? `… ${omitted.toLocaleString('en-US')} line${omitted === 1 ? '' : 's'} omitted; all of it: ${commandFor(opts)(['audit', 'show', story.state!.id, '--step', o.path])}`
        : null,
    tail: omitted > 0 ? o.tail : [],
  };
}

/** How to go on with a session that stopped: what each command does, and the command, runnable where the reader is. */
function toContinue(state: SessionState, opts: ReportOptions): Array<[string, string]> {
  if (state.outcome || !state.pause) return [];
  const cmd = commandFor(opts);
  const step = state.pause.stepId;
  const ways: Array<[string, string]> = [['To continue', cmd(['resume', state.id])]];
  if (step && state.pause.reason === 'confirmation-required')
    ways.push([`or confirm '${step}' by flag`, cmd(['resume', state.id, '--non-interactive', '--yes', step])]);
  if (step && state.pause.reason === 'step-failed')
    ways.push([`or skip '${step}'`, cmd(['resume', state.id, '--skip', step, '--reason', '…'])]);
  return ways;
}

export function renderText(input: StoredEvent[] | Story, opts: ReportOptions = {}): string {
  const story = told(input);
  const { state, entries } = story;
  if (!state) return 'empty session\n';
  const rows = stepRows(state);
  const out: string[] = [];
  for (const [k, v] of header(state, story)) out.push(`${(k + ':').padEnd(13)}${v}`);
  out.push('', 'Steps:');
  for (const r of rows) {
    out.push(
      `  ${GLYPH[r.status] ?? '·'} ${'  '.repeat(r.depth)}${r.title} (${r.path}) — ${r.label}${r.duration ? ` ${r.duration}` : ''}${r.exit ? ` exit ${r.exit}` : ''}${r.detail ? ` — ${r.detail}` : ''}`,
    );
  }
  out.push('', 'Timeline:');
  for (const e of entries)
    out.push(`  ${iso(e.time)}  +${formatDuration(e.time - state.startedAt).padEnd(7)} ${e.actor.padEnd(12)} ${e.text}`);
  if (state.notes.length) {
    out.push('', 'Notes:');
    for (const n of state.notes) out.push(`  ${iso(n.time)}  ${n.actor}${n.stepId ? ` on '${n.stepId}'` : ''}: ${n.text}`);
  }
  for (const o of story.outputs) {
    const p = excerptParts(story, o, opts);
    out.push('', `${p.heading}`, ...p.head.map((l) => `  │ ${l}`));
    if (p.omission) out.push(`  ${p.omission}`, ...p.tail.map((l) => `  │ ${l}`));
  }
  const ways = toContinue(state, opts);
  if (ways.length) out.push('', ...ways.map(([what, command], i) => `${i ? '  ' : ''}${what}: ${command}`));
  return out.join('\n') + '\n';
}

/** Text from outside in a report's Markdown (a cell, a heading, a list item): literal, one line (core/markdown.ts). */
const mdText = (s: string): string => inertMarkdown(s, 'literal');

const mdCell = mdText;

/** A fenced code block around `lines`: its fence longer than any run of backticks inside, so nothing can close it early. */
export function mdFence(lines: string[], info = 'text'): string[] {
  const longest = Math.max(0, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((run) => run.length))));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}${info}`, ...lines, fence];
}

/** A postmortem-ready timeline: who, what, when, exit codes, skips with reasons, notes. */
export function renderMarkdown(input: StoredEvent[] | Story, opts: ReportOptions = {}): string {
  const story = told(input);
  const { state, entries } = story;
  if (!state) return '_empty session_\n';
  const rows = stepRows(state);
  const out: string[] = [`# ${mdText(state.checklist.title)}: session ${state.id}`, ''];
  out.push('| | |', '|---|---|');
  for (const [k, v] of header(state, story)) out.push(`| ${k} | ${mdCell(v)} |`);
  out.push('', '## Timeline', '', '| Time (UTC) | Elapsed | Who | What |', '|---|---|---|---|');
  for (const e of entries) {
    const text = e.important ? `**${mdCell(e.text)}**` : mdCell(e.text);
    out.push(`| ${iso(e.time)} | +${formatDuration(e.time - state.startedAt)} | ${mdCell(e.actor)} | ${text} |`);
  }
  out.push('', '## Steps', '', '| # | Step | Kind | Status | Duration | Exit | Attempts | Detail |', '|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out.push(
      `| ${r.n} | ${'&nbsp;&nbsp;'.repeat(r.depth)}${mdCell(r.title)} \`${r.path}\` | ${r.kind} | ${GLYPH[r.status] ?? ''} ${r.label} | ${r.duration} | ${r.exit} | ${r.attempts || ''} | ${mdCell(r.detail)} |`,
    );
  }
  const skips = rows.filter((r) => r.status === 'skipped' && !r.detail.startsWith('inside skipped'));
  if (skips.length) {
    out.push('', '## Skipped steps', '');
    for (const r of skips) out.push(`- \`${r.path}\` ${mdCell(r.title)}: ${mdCell(r.detail)}`);
  }
  if (state.notes.length) {
    out.push('', '## Notes', '');
    for (const n of state.notes)
      out.push(`- ${iso(n.time)} **${mdCell(n.actor)}**${n.stepId ? ` on \`${n.stepId}\`` : ''}: ${mdCell(n.text)}`);
  }
  if (story.outputs.length) out.push('', '## Output');
  for (const o of story.outputs) {
    const p = excerptParts(story, o, opts);
    out.push('', `### ${mdText(p.heading)}`, '', ...mdFence(p.head));
    if (p.omission) out.push('', mdCode(p.omission), '', ...mdFence(p.tail));
  }
  const ways = toContinue(state, opts);
  if (ways.length) out.push('', '## To continue', '', ...ways.map(([what, command]) => `- ${mdText(what)}: ${mdCode(command)}`));
  return out.join('\n') + '\n';
}

/** A code span around `text` (one line): its backtick run longer than any inside, so it shows exactly that text. */
export function mdCode(text: string): string {
  const one = text.replace(/\r?\n|\r/g, ' ');
  const ticks = '`'.repeat(Math.max(0, ...(one.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  const pad = /^`|`$|^ .* $/.test(one) ? ' ' : '';
  return `${ticks}${pad}${one}${pad}${ticks}`;
}

/** How `audit show --step` prints a step's output: text as it was printed, Markdown in one fence, JSON chunks. */
export type StepOutputFormat = 'text' | 'md' | 'json';

/**
 * `audit show <session> --step <path>`: every line one step printed, every attempt, as the events stream from the
 * store (`events` is called once, or twice for Markdown: first to size the fence so nothing inside can close it).
 */
export async function writeStepOutput(
  events: () => AsyncIterable<StoredEvent>,
  sessionId: string,
  path: string,
  format: StepOutputFormat,
  write: (text: string) => Promise<void>,
): Promise<void> {
  let fence = '```';
  if (format === 'md') {
    // The longest run of backticks in the output, runs that cross a chunk's end included.
    let longest = 0;
    let run = 0;
    for await (const e of events())
      if (e.type === 'step.output' && e.stepId === path)
        for (const ch of e.data.text) {
          run = ch === '`' ? run + 1 : 0;
          if (run > longest) longest = run;
        }
    fence = '`'.repeat(Math.max(3, longest + 1));
    await write(`# Output of ${mdCode(path)}, session ${mdText(sessionId)}\n`);
  }
  if (format === 'json') await write(`{"session":${JSON.stringify(sessionId)},"step":${JSON.stringify(path)},"output":[`);
  let attempt = 1;
  // The attempt whose block is open (0: none yet); a new attempt's output starts a block of its own.
  let shown = 0;
  let n = 0;
  let endsLine = true;
  const close = () => write(`${endsLine ? '' : '\n'}${fence}\n`);
  for await (const e of events()) {
    if (e.stepId !== path) continue;
    if (e.type === 'step.started') attempt = e.data.attempt;
    if (e.type !== 'step.output') continue;
    const text = e.data.text;
    if (format === 'json') {
      await write(
        `${n++ ? ',' : ''}\n  {"attempt":${attempt},"stream":${JSON.stringify(e.data.stream)},"time":${e.time},"text":${JSON.stringify(text)}}`,
      );
      continue;
    }
    if (shown !== attempt) {
      if (format === 'md') {
        if (shown) await close();
        await write(`\n## Attempt ${attempt}\n\n${fence}text\n`);
      } else if (shown || attempt > 1) await write(`${endsLine ? '' : '\n'}── attempt ${attempt} ──\n`);
      shown = attempt;
      endsLine = true;
    }
    await write(text);
    endsLine = text.endsWith('\n');
  }
  if (format === 'json') await write(`${n ? '\n' : ''}]}\n`);
  else if (format === 'md' && shown) await close();
}

/** The recovery clock in the JSON summary (the definition with the reading; as of the last event when not finished). */
function recoverySummary(state: SessionState) {
  const r = readRecovery(state, state.lastTime);
  return r ? { recovery: recoveryJson(r) } : {};
}

function sessionSummary(state: SessionState | null) {
  return (
    state && {
      id: state.id,
      checklist: state.checklist,
      params: state.params,
      environment: state.environment,
      operator: state.operator,
      startedAt: state.startedAt,
      endedAt: state.endedAt ?? null,
      status: state.status,
      outcome: state.outcome ?? null,
      steps: stepRows(state),
      notes: state.notes,
      ...recoverySummary(state),
    }
  );
}

export function renderJson(events: StoredEvent[]): string {
  const { state } = timeline(events);
  return JSON.stringify({ session: sessionSummary(state), events }, null, 2) + '\n';
}

/** An event row as stored (its data still JSON text), as the JSON report reads it. */
export interface EventRow {
  sessionId: string;
  seq: number;
  time: number;
  type: string;
  stepId: string | null;
  actor: string;
  data: string;
  prevHash: string;
  hash: string;
}

/**
 * The JSON report written as the rows are read: `{"events": [...], "session": {...}}`. Each event is copied out with
 * its data as stored (JSON already: neither parsed nor written again, which is most of the cost of 70 MB of output);
 * the session's summary is folded from the rows, output chunks without their text (the summary holds none).
 */
export async function writeJson(rows: AsyncIterable<EventRow>, write: (text: string) => Promise<void>): Promise<void> {
  const b = storyBuilder();
  // Written in pieces of about 256 KB: one write per event costs more than the events themselves.
  let buf = '{\n  "events": [';
  let n = 0;
  for await (const r of rows) {
    const data: unknown = r.type === 'step.output' ? { stream: 'stdout', text: '' } : JSON.parse(r.data);
    b.add({ ...r, data } as StoredEvent);
    buf +=
      `${n++ ? ',' : ''}\n    {"sessionId":${JSON.stringify(r.sessionId)},"seq":${r.seq},"time":${r.time},"type":${JSON.stringify(r.type)},` +
      `"stepId":${JSON.stringify(r.stepId)},"actor":${JSON.stringify(r.actor)},"data":${r.data},"prevHash":${JSON.stringify(r.prevHash)},"hash":${JSON.stringify(r.hash)}}`;
    if (buf.length >= 256 * 1024) {
      await write(buf);
      buf = '';
    }
  }
  const { state } = b.finish();
  await write(`${buf}${n ? '\n  ' : ''}],\n  "session": ${JSON.stringify(sessionSummary(state), null, 2).replace(/\n/g, '\n  ')}\n}\n`);
}
