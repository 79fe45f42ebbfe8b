import { currentIdentity } from '../adapters/identity.js';
import { appContext, type AppContext } from '../app/context.js';
import { describeDryRun, prepareRun, resumeRun, startRun, type ResumeOptions, type RunOptions, type SessionDrive } from '../app/run.js';
import { abortStopped, addNote } from '../app/stopped.js';
import { sessionRows } from './sessions.js';
import { formatDuration } from '../core/duration.js';
import { missingParams } from '../core/params.js';
import { buildPlan } from '../core/plan.js';
import type { LiveDeps } from '../engine/live.js';
import { commandOf, type EngineDeps, type RunResult, type SessionRunner } from '../engine/session.js';
import { jsonPrinter, textPrinter } from '../report/live.js';
import { makeStyler } from '../report/style.js';
import { renderMarkdown, renderText, storyOf, writeJson, writeStepOutput } from '../report/timeline.js';
import type { AuditStore } from '../audit/store.js';
import type { PlanNode, StoredEvent } from '../core/events.js';
import { toStored } from '../audit/rows.js';
import { stepKindMap } from '../steps/index.js';
import { flagInteraction, parseYes, promptInteraction, type YesList } from './interaction.js';
import { UsageError, Workspace, type GlobalOptions } from './setup.js';
import { formatDiagnostics } from '../core/checklist/types.js';
import { escapeC1, neutralize } from '../core/sanitize.js';
import type { ChecklistBundle } from '../core/checklist/bundle.js';
import { notifySettings } from '../core/notify/config.js';

// What these commands print comes partly from files and databases (checklist titles, session ids, messages):
// neutralised, so a crafted checklist or a tampered log cannot drive the terminal. `styled` is for lines whose
// only escape sequences are the cockpit's own colours (their variable parts neutralised by the caller).
const out = (s: string) => process.stdout.write(neutralize(s));
const err = (s: string) => process.stderr.write(neutralize(s));
const styled = (s: string) => process.stdout.write(s);
/** Text to stdout, waiting when the pipe is full. */
const drained = (s: string | Buffer): Promise<void> =>
  new Promise((resolve) => (process.stdout.write(s) ? resolve() : process.stdout.once('drain', () => resolve())));
/**
 * JSON text to stdout, waiting when the pipe is full (a long report is never piled up in memory). JSON already
 * escapes C0 controls; the C1 ones it leaves raw are escaped here, so a terminal shows the text as text.
 */
const writeOut = (s: string): Promise<void> => {
  // Encoded once (the write would encode it anyway); a C1 character is 0xC2 0x80–0x9F in UTF-8, so the common case
  // (none) is one memchr over the bytes instead of a regular expression over the text.
  const bytes = Buffer.from(s, 'utf8');
  return drained(hasC1(bytes) ? escapeC1(s) : bytes);
};

/** Whether UTF-8 `b` holds a C1 control character (U+0080–U+009F). */
function hasC1(b: Buffer): boolean {
  for (let i = b.indexOf(0xc2); i !== -1; i = b.indexOf(0xc2, i + 1)) if (b[i + 1] >= 0x80 && b[i + 1] <= 0x9f) return true;
  return false;
}
/** Text from the log to stdout, neutralised, waiting when the pipe is full (a step's 70 MB of output streams through). */
const writeText = (s: string): Promise<void> => drained(neutralize(s));

export function parseParams(list: string[] | undefined): Record<string, string> {
  // No prototype: `-p __proto__=x` must be an unknown parameter, not a way into the object's prototype.
  const params: Record<string, string> = Object.create(null);
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`-p ${item}: expected key=value`);
    params[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return params;
}

export interface RunFlags {
  param?: string[];
  nonInteractive?: boolean;
  yes?: string[];
  json?: boolean;
  dryRun?: boolean;
  /** Ask on the line instead of the full-screen cockpit. */
  plain?: boolean;
  /** `run --recovery-since <session>`: that session's watch breach starts the recovery clock. */
  recoverySince?: string;
}

/** The full-screen cockpit drives the session when a person is at a terminal and did not ask for line mode. */
function wantsScreen(flags: RunFlags): boolean {
  return !flags.nonInteractive && !flags.json && !flags.plain && isTerminal();
}

/** The parameter form may be opened: the screen is wanted, and this is not a dry run (which starts nothing). */
export function wantsForm(flags: RunFlags): boolean {
  return wantsScreen(flags) && !flags.dryRun;
}

/**
 * The parameter form of a checklist in the full-screen cockpit: what `-p` gave filled in, the rest suggested where
 * the cockpit can (the versions), each checked as it is typed; enter starts the run on the screen.
 */
export async function paramForm(
  ws: Workspace,
  ref: string,
  given: Record<string, string>,
  yes?: string[],
  recoverySince?: string,
): Promise<number> {
  const { tuiForm } = await (await import('./load-tui.js')).loadTui();
  return tuiForm(ws, ref, given, yes, recoverySince);
}

function isTerminal(): boolean {
  return !!process.stdin.isTTY && !!process.stdout.isTTY;
}

/** The use cases' context for a command: the workspace (the config) is loaded when first needed, once. */
export function cliContext(g: GlobalOptions | Workspace): AppContext<Workspace> {
  return appContext(() => (g instanceof Workspace ? g : new Workspace(g)));
}

interface Driver {
  deps: EngineDeps;
  yes: YesList;
  abort: AbortController;
  detach(): void;
}

function makeDriver(base: LiveDeps, flags: RunFlags, again: string[]): Driver {
  const identity = base.identity;
  const interactive = !flags.nonInteractive && !flags.json;
  if (interactive && !isTerminal()) {
    throw new UsageError(
      'no terminal here (stdin or stdout is not a TTY), so the cockpit cannot ask for confirmations.\n' +
        `  Run non-interactively: ${commandOf(base)([...again, '--non-interactive'])} [--yes all|step,step] [--json]`,
    );
  }
  const yes = parseYes(flags.yes);
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
    err(`\n${sig}: stopping the running step (again to exit at once)…\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A lost SSH session: stop the step cleanly (the session stays resumable) instead of dying mid-step. Writes to a
  // terminal that is gone do not crash the run either (main ignores closed pipes): the audit log has everything.
  process.on('SIGHUP', onSignal);
  // Events are sanitised when stored, so they are printed as they are, with the cockpit's own colours.
  const printer = flags.json ? jsonPrinter(styled) : textPrinter(styled, process.stdout, base.store.location);
  const deps: EngineDeps = {
    ...base,
    interaction: interactive
      ? promptInteraction(yes, identity.operator, () => abort.abort())
      : flagInteraction(yes, identity.operator, commandOf(base)),
    signal: abort.signal,
    onEvent: (e, state) => printer(e, state),
  };
  return {
    deps,
    yes,
    abort,
    detach: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
    },
  };
}

function finish(result: RunResult, json: boolean): number {
  if (!json) {
    if (result.exitCode !== 0 && result.message) err(`${result.message}\n`);
  }
  return result.exitCode;
}

async function drive(runner: SessionRunner, driver: Driver, json: boolean): Promise<number> {
  try {
    const result = await runner.run();
    return finish(result, json);
  } finally {
    driver.detach();
  }
}

/**
 * The line (prompts, or `--yes` when non-interactive; text or `--json` lines): the session runs in this process until
 * it stops. `again`: this command's arguments, for the one it says to run instead when it cannot ask.
 */
function lineDrive(flags: RunFlags, again: string[]): SessionDrive<number> {
  return async (deps, open) => {
    const driver = makeDriver(deps, flags, again);
    let runner: SessionRunner;
    try {
      runner = await open(driver.deps);
    } catch (e) {
      driver.detach();
      throw e;
    }
    return drive(runner, driver, !!flags.json);
  };
}

/** The full-screen cockpit, opened on the session. */
function screenDrive(ws: Workspace): SessionDrive<number> {
  return async (deps, open, secrets) => {
    const { runTui } = await (await import('./load-tui.js')).loadTui();
    const { LiveSession } = await import('../engine/live.js');
    return runTui(ws, async () => ({ name: 'session', controls: await LiveSession.start(deps, open, secrets) }));
  };
}

/** How this command's session is driven: the screen when a person is at a terminal and did not ask for the line. */
function driveFor(ctx: AppContext<Workspace>, flags: RunFlags, again: string[]): SessionDrive<number> {
  return wantsScreen(flags) ? screenDrive(ctx.workspace()) : lineDrive(flags, again);
}

/** Run a checklist (`cockpit run`, and `release`, `hotfix`, `watch` with the parameters they decided). */
export async function runChecklist(ctx: AppContext<Workspace>, opts: RunOptions, flags: RunFlags): Promise<number> {
  // A person at a terminal is asked for what `-p` did not give; without one, prepareRun refuses (exit 2) naming it.
  if (wantsForm(flags)) {
    const defs = ctx.workspace().mustLoad(opts.checklist).bundle.root.checklist.params;
    const unknown = Object.keys(opts.params).some((k) => !Object.hasOwn(defs, k)); // refused below, by name
    if (!unknown && missingParams(defs, opts.params).length)
      return paramForm(ctx.workspace(), opts.checklist, opts.params, opts.yes, opts.recoverySince);
  }
  const run = prepareRun(ctx, opts);
  if (flags.dryRun) {
    for (const line of describeDryRun(run)) out(`${line}\n`);
    return 0;
  }
  const mode = flags.nonInteractive || flags.json ? 'non-interactive' : 'interactive';
  // This run again, as typed but for the secret parameters (never printed: the run then asks for them, or refuses).
  const again = [
    'run',
    opts.checklist,
    ...Object.entries(opts.params)
      .filter(([k]) => !Object.hasOwn(run.secrets, k))
      .flatMap(([k, v]) => ['-p', `${k}=${String(v)}`]),
    ...(opts.recoverySince ? ['--recovery-since', opts.recoverySince] : []),
  ];
  return startRun(ctx, run, { mode }, driveFor(ctx, flags, again));
}

export async function cmdRun(g: GlobalOptions, ref: string, flags: RunFlags): Promise<number> {
  const ctx = cliContext(g);
  ctx.workspace(); // the config is read (and its errors told) before the flags are
  const since = flags.recoverySince ? { recoverySince: flags.recoverySince } : {};
  return runChecklist(ctx, { checklist: ref, params: parseParams(flags.param), yes: flags.yes, ...since }, flags);
}

/** `cockpit resume`'s flags: the run flags and the resume options as they are (a new option needs no mapping here). */
export type ResumeFlags = RunFlags & Omit<ResumeOptions, 'session' | 'params'>;

/** Resume a stopped session (`cockpit resume`, and `watch` continuing the hour's watch). */
export async function resumeChecklist(ctx: AppContext<Workspace>, opts: ResumeOptions, flags: RunFlags): Promise<number> {
  return resumeRun(ctx, opts, driveFor(ctx, flags, ['resume', ...(opts.session ? [opts.session] : [])]));
}

export async function cmdResume(g: GlobalOptions, sessionRef: string | undefined, flags: ResumeFlags): Promise<number> {
  const ctx = cliContext(g);
  ctx.workspace(); // the config is read (and its errors told) before the flags are
  const opts: ResumeOptions = { ...flags, session: sessionRef, params: parseParams(flags.param) };
  return resumeChecklist(ctx, opts, flags);
}

export async function cmdChecklistList(g: GlobalOptions): Promise<number> {
  const ws = new Workspace(g);
  const rows: string[][] = [];
  for (const c of ws.listChecklists()) {
    const r = ws.loadBundle(ws.sourceFor(c.file).source);
    const title = r.bundle
      ? r.bundle.root.checklist.title
      : `(broken: ${r.diagnostics.length} problem(s); cockpit checklist validate ${c.file})`;
    const steps = r.bundle ? String(r.bundle.root.checklist.steps.length) : '';
    rows.push([c.id, title, steps, c.origin + (c.overrides ? ' (overrides default)' : '')]);
  }
  out(table(['ID', 'TITLE', 'STEPS', 'FROM'], rows));
  return 0;
}

export async function cmdChecklistShow(g: GlobalOptions, ref: string): Promise<number> {
  const ws = new Workspace(g);
  const { bundle } = ws.mustLoad(ref);
  const cl = bundle.root.checklist;
  out(`${cl.title} [${cl.id}]\n`);
  if (cl.description) out(`${cl.description.trim()}\n`);
  if (cl.policy) out(`Policy: ${cl.policy}\n`);
  const params = Object.entries(cl.params);
  if (params.length) {
    out('\nParameters:\n');
    for (const [name, def] of params) {
      const bits = [
        def.type,
        def.required ? 'required' : 'optional',
        def.default !== undefined ? `default ${def.default}` : '',
        def.choices ? `one of ${def.choices.join('|')}` : '',
        def.secret ? 'secret' : '',
      ].filter(Boolean);
      out(`  ${name} (${bits.join(', ')})${def.description ? ` — ${def.description}` : ''}\n`);
    }
  }
  const planned = samplePlan(bundle);
  out('\nSteps:\n');
  let n = 0;
  for (const node of planned.plan) {
    const pad = '  '.repeat(node.depth + 1);
    const label = node.kind === 'checklist' ? '' : `${++n}. `;
    const kind = stepKindMap.get(node.kind);
    const cond = [node.when ? `when ${JSON.stringify(node.when)}` : '', node.unless ? `unless ${JSON.stringify(node.unless)}` : '']
      .filter(Boolean)
      .join(', ');
    out(`${pad}${label}${node.title} [${node.path}] (${node.kind})${cond ? ` — ${cond}` : ''}\n`);
    if (kind && node.kind !== 'confirm')
      out(
        `${pad}   ${kind
          .describe(node, planned.scopes[node.scope]?.params ?? {}, {
            release: ws.config.release ?? {},
            command: (args) => ws.command(args),
            verify: ws.config.verify,
            deploy: ws.config.deploy,
            notify: notifySettings(ws.config.notify),
          })
          .trimEnd()
          .replace(/\n/g, `\n${pad}   `)}\n`,
      );
    if (node.help) out(node.help.trimEnd().replace(/^/gm, `${pad}   │ `) + '\n');
  }
  return 0;
}

export async function cmdChecklistValidate(g: GlobalOptions, files: string[]): Promise<number> {
  const ws = new Workspace(g);
  let bad = 0;
  for (const f of files) {
    const source = ws.readChecklistFile(f);
    if (!source) {
      err(`${f}: no such file\n`);
      bad++;
      continue;
    }
    const r = ws.loadBundle(source);
    if (r.bundle) {
      const own = r.bundle.root.checklist.steps.length;
      const total = samplePlan(r.bundle).plan.filter((n) => n.kind !== 'checklist').length;
      out(`ok  ${source.file}: ${r.bundle.root.checklist.id} — ${own} steps${total !== own ? ` (${total} with includes)` : ''}\n`);
    } else {
      bad++;
      err(`${formatDiagnostics(r.diagnostics)}\n`);
    }
  }
  return bad ? 2 : 0;
}

/** The plan with placeholders for parameters that have no default (`<version>`), so a checklist can be shown unrun. */
function samplePlan(bundle: ChecklistBundle) {
  const sample = Object.fromEntries(Object.entries(bundle.root.checklist.params).map(([k, d]) => [k, d.default ?? `<${k}>`]));
  return buildPlan(bundle, sample);
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export async function cmdAuditList(g: GlobalOptions, flags: { json?: boolean; limit?: string }): Promise<number> {
  const ws = new Workspace(g);
  const store = await ws.openStore({ readOnly: true });
  // With the repository, as home does: a stopped release whose version was released since is superseded, not resumable.
  const rows = (await sessionRows(store, Number(flags.limit ?? 50), currentIdentity().host, ws.repoDir)).map((s) => ({
    id: s.id,
    checklist: s.checklist,
    params: s.params,
    operator: s.operator,
    status: s.superseded
      ? s.superseded.by
        ? `superseded by ${s.superseded.by.id} (${s.superseded.tag})`
        : `superseded (${s.superseded.tag} tagged outside the cockpit)`
      : s.status,
    started: new Date(s.startedAt).toISOString().replace('T', ' ').slice(0, 19),
    took: s.endedAt ? formatDuration(s.endedAt - s.startedAt) : '',
    ...(s.superseded ? { superseded: s.superseded } : {}),
  }));
  if (flags.json) {
    out(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  if (!rows.length) {
    out(`no sessions yet in ${store.location}\n`);
    return 0;
  }
  out(
    table(
      ['SESSION', 'CHECKLIST', 'PARAMS', 'OPERATOR', 'STATUS', 'STARTED (UTC)', 'TOOK'],
      rows.map((r) => [r.id, r.checklist, r.params, r.operator, r.status, r.started, r.took]),
    ),
  );
  return 0;
}

export async function cmdAuditShow(g: GlobalOptions, ref: string, flags: { format?: string; step?: string }): Promise<number> {
  const format = flags.format ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'md') throw new UsageError(`--format ${format}: expected text, json or md`);
  const ws = new Workspace(g);
  const store = await ws.openStore({ readOnly: true });
  const r = await store.resolveSessionId(ref, ws.command(['audit', 'list']));
  if ('error' in r) throw new UsageError(r.error);
  const id = r.id;
  if (flags.step !== undefined) {
    const path = await stepPath(store, id, flags.step);
    await writeStepOutput(() => store.streamEvents(id), id, path, format, format === 'json' ? writeOut : writeText);
    return 0;
  }
  // Streamed: the events are read as they are written out (JSON) or folded (text, md), never held all at once.
  if (format === 'json') await writeJson(store.streamRows(id), writeOut);
  else {
    const story = await storyOf(store.streamEvents(id));
    const opts = { command: (args: string[]) => ws.command(args) };
    out(format === 'md' ? renderMarkdown(story, opts) : renderText(story, opts));
  }
  return 0;
}

const ANCHORS = '(anchors)';

/** A store's name from an anchor, decoded for reading (as written when it does not decode: anyone can write a ref). */
function shownStore(name: string): string {
  try {
    return decodeURI(name);
  } catch {
    return name;
  }
}

/** `--step`: a step of the session by its path, or by its id when one step has it (from the plan the session began with). */
async function stepPath(store: AuditStore, sessionId: string, ref: string): Promise<string> {
  let plan: PlanNode[] = [];
  for await (const e of store.streamEvents(sessionId)) {
    if (e.type === 'session.started') plan = e.data.plan;
    break;
  }
  const byId = plan.filter((n) => n.id === ref);
  const node = plan.find((n) => n.path === ref) ?? (byId.length === 1 ? byId[0] : undefined);
  if (node) return node.path;
  const steps = plan.filter((n) => n.kind !== 'checklist').map((n) => n.path);
  throw new UsageError(
    `--step ${ref}: ${byId.length > 1 ? `${byId.length} steps have that id; give the path: ${byId.map((n) => n.path).join(', ')}` : `no such step in session ${sessionId}; its steps: ${steps.join(', ')}`}`,
  );
}

export async function cmdAuditVerify(g: GlobalOptions, ref: string | undefined, flags: { json?: boolean }): Promise<number> {
  const ws = new Workspace(g);
  const store = await ws.openStore({ readOnly: true });
  let id: string | undefined;
  if (ref) {
    const r = await store.resolveSessionId(ref, ws.command(['audit', 'list']));
    if ('error' in r) throw new UsageError(r.error);
    id = r.id;
  }
  const { storeName } = await import('../app/anchor.js');
  const witness = await (
    await import('../app/anchors.js')
  ).readWitness(ws.repoDir, ws.config.release?.remote ?? 'origin', storeName(ws.repoDir, ws.auditLocation()), ws.auditAllowedSigners());
  // Approval decisions are picked out as verify reads the rows (one pass over the log), their signatures checked below.
  const decisions: Array<{ sessionId: string; event: StoredEvent }> = [];
  const report = await store.verify(id, witness.anchors, (sessionId, row) => {
    if (row.type !== 'approval.granted' && row.type !== 'approval.rejected') return;
    // A row edited so that it no longer parses is the chain check's finding (verify fails on it already).
    try {
      decisions.push({ sessionId, event: toStored(row) });
    } catch {
      return;
    }
  });
  // The signature of the newest anchor commit vouches for every anchor in its tree.
  // Not any one session's: the anchors themselves (JSON keeps the '(anchors)' marker; the text names the ref).
  for (const message of witness.signature.problems) report.problems.push({ sessionId: ANCHORS, seq: null, message });
  // Approvals recorded as signed: each signature verified again, for its approver, over the decision as recorded.
  const approvals = (await import('../app/approve.js')).verifyApprovalSignatures(decisions, ws.approvers()?.allowedSigners);
  report.problems.push(...approvals.problems);
  const signed = witness.signature.good ? report.anchored : 0;
  const unanchored = Math.max(0, report.sessions - report.anchored);
  const proved =
    `${report.anchored} anchored on refs/cockpit/audit${witness.remote ? ` (${witness.remote})` : ''}, ${unanchored} not anchored` +
    `${witness.why ? ` (${witness.why})` : ''}; ${signed} signed${witness.signature.checked ? '' : ' (no audit.allowedSigners)'}` +
    [...witness.elsewhere].map(([other, n]) => `; ${n} anchored for another store (${shownStore(other)}), not checked here`).join('') +
    (approvals.signed
      ? `; ${approvals.checked} of ${approvals.signed} signed approval(s) checked${approvals.checked < approvals.signed ? ' (no approvers.allowedSigners)' : ''}`
      : '');
  if (flags.json)
    out(
      JSON.stringify(
        {
          ok: report.problems.length === 0,
          ...report,
          notAnchored: unanchored,
          witness: { remote: witness.remote, why: witness.why ?? null, otherStores: Object.fromEntries(witness.elsewhere) },
          signed,
          ...(approvals.signed ? { approvals: { signed: approvals.signed, checked: approvals.checked } } : {}),
        },
        null,
        2,
      ) + '\n',
    );
  else {
    const c = makeStyler(process.stdout);
    if (!report.problems.length)
      styled(
        `${c('green', '✔ audit log intact')}: ${neutralize(`${report.sessions} session(s), ${report.events} event(s) verified in ${store.location}; ${proved}`)}\n`,
      );
    else {
      for (const p of report.problems)
        styled(
          `${c('red', '✖')} ${neutralize(`${p.sessionId === ANCHORS ? 'the anchors' : `session ${p.sessionId}`}${p.seq !== null ? `, event #${p.seq}` : ''}: ${p.message}`)}\n`,
        );
      styled(
        `${c('red', 'audit log verification FAILED')}: ${report.problems.length} session(s) with problems, ${report.sessions} checked\n`,
      );
    }
  }
  return report.problems.length ? 1 : 0;
}

export async function cmdApprove(
  g: GlobalOptions,
  ref: string,
  flags: { step?: string; note?: string; reject?: string; key?: string },
): Promise<number> {
  const { approve } = await import('../app/approve.js');
  const r = await approve(cliContext(g), { session: ref, ...flags });
  out(
    `${r.decision === 'approve' ? 'approved' : 'rejected'}: session ${r.sessionId}, step ${r.step}, as ${neutralize(r.approver)} (${r.role}, ${r.identity === 'ssh' ? 'signed' : 'identity claimed, unsigned'})\n`,
  );
  return 0;
}

export async function cmdNote(g: GlobalOptions, ref: string, text: string, flags: { step?: string }): Promise<number> {
  const { sessionId } = await addNote(cliContext(g), { session: ref, text, step: flags.step });
  out(`noted on session ${sessionId}${flags.step ? ` (step ${flags.step})` : ''}\n`);
  return 0;
}

export async function cmdAbort(g: GlobalOptions, ref: string, flags: { reason?: string }): Promise<number> {
  const { sessionId, state } = await abortStopped(cliContext(g), { session: ref, reason: flags.reason ?? '' });
  out(`session ${sessionId} (${state.checklist.title}) closed as aborted: ${flags.reason}\n`);
  return 0;
}
