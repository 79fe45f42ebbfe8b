import type { ParamDef } from '../core/checklist/types.js';
import type { ParamSuggestion } from '../core/params.js';
import type { AuditEvent } from '../core/events.js';
import type { MigrateLine } from '../core/migrate/events.js';
import type { IssueUpdateOffer } from '../core/notify/issue-update.js';

/**
 * What the screens get from the engine (docs/architecture.md §2: tui/ never touches adapters or the audit store). State
 * comes in as `reduce(events)`, already durable; operator intents go out as calls.
 */

/** What a session screen shows (the state, the phase of the run, the open question, the last message) is the engine's LiveView. */
import type { LiveView } from '../engine/live.js';
import type { DueMessage } from '../core/notify/due.js';

export interface SessionControls {
  subscribe(listener: () => void): () => void;
  view(): LiveView;
  /** Confirm the step that asks; or continue a stopped session (re-runs a failed step). */
  proceed(note?: string): void;
  skip(reason: string): void;
  abort(reason: string): void;
  note(text: string, stepId: string | null): void;
  /** Quit: stop the running step (or leave the question unanswered); the session stays resumable. */
  stop(): Promise<void>;
  /** The process exit code this session stands for now (README, "Exit codes"). */
  exitCode(): number;
  /** Hold the run while the operator is asked whether to quit: the running step goes on, the next does not start. */
  hold(): void;
  /** Let the held run go on (the operator answered no). */
  release(): void;
  /** Send the message a notify step shows (`view().asking.review`) with `text`: as shown, or the operator's edit. */
  send?(text: string): void;
  /** The "issue or delay" update that may be sent now (`u`): null when nothing failed or breached, or without `notify:` channels. */
  issueUpdate?(): IssueUpdateOffer | null;
  /** Send it with `text` (as rendered or edited): recorded, the outcome said on the message line. */
  sendIssueUpdate?(offer: IssueUpdateOffer, text: string): Promise<void>;
}

export interface ChecklistEntry {
  id: string;
  title: string;
  description?: string;
  origin: string;
  params: Record<string, ParamDef>;
  /** Why it cannot be started (it does not load). */
  broken?: string;
  /** Values already given (`-p` on the command line): the form starts with them. */
  given?: Record<string, string>;
  /** `--yes` of the command that opened the form: the run starts with it. */
  yes?: string[];
  /** The session whose watch breach starts the recovery clock (`R` on a watch, `run --recovery-since`). */
  recoverySince?: string;
}

export interface SessionEntry {
  id: string;
  checklist: string;
  params: string;
  operator: string;
  status: string;
  resumable: boolean;
  running: boolean;
  finished: boolean;
  startedAt: number;
  endedAt?: number;
  /** Secret parameters a resume must be told again. */
  secrets: string[];
  /** A release left open while another session released its version: which, and when (see app/superseded.ts). */
  superseded?: SupersededBy;
}

/** The version a stopped release session was to make, released since: by which session (null: outside the cockpit). */
export interface SupersededBy {
  version: string;
  tag: string;
  by: { id: string; operator: string; endedAt: number } | null;
}

export interface HomeData {
  /** The next scheduled release (release.schedule in the config), when there is a schedule. */
  schedule?: {
    release: number;
    freezeStart: number;
    announceBy: number;
    /** The pre-release messages of that release: when each is due and whether it was sent (core/notify/due.ts). */
    due?: DueMessage[];
  };
  repoDir: string;
  auditLocation: string;
  checklists: ChecklistEntry[];
  sessions: SessionEntry[];
}

export interface AppServices {
  version: string;
  operator: string;
  now(): number;
  home(): Promise<HomeData>;
  /** The sessions alone, read again (the home screen's periodic refresh: the checklists do not change under it). */
  sessions(): Promise<SessionEntry[]>;
  /**
   * `yes`: steps confirmed in advance (`--yes` of the command that opened the form); `recoverySince`: the session
   * whose watch breach starts the recovery clock.
   */
  start(checklistId: string, params: Record<string, string>, yes?: string[], recoverySince?: string): Promise<SessionControls>;
  /** Resume a stopped session; `secrets` are its secret parameters, asked again (the log never held them). */
  resume(sessionId: string, secrets?: Record<string, string>): Promise<SessionControls>;
  events(sessionId: string): Promise<AuditEvent[]>;
  /** What the parameter form offers for a checklist's parameters (versions from git), each with its reason. */
  suggest?(checklistId: string): Promise<Record<string, ParamSuggestion>>;
  /** Close a stopped session as aborted, with the reason (recorded); it cannot be resumed afterwards. */
  abort?(sessionId: string, reason: string): Promise<void>;
  /** Whether this session was overtaken (its version released by another session since), and by which. */
  superseded?(sessionId: string): Promise<SupersededBy | null>;
  /** Full validation of one checklist (steps, includes): null when it loads, else why not. */
  check(checklistId: string): Promise<string | null>;
  /** Ring the terminal bell (a watch breach). */
  bell?(): void;
  /** The application database's migrations (`cockpit migrate` in a terminal). */
  migrations?: MigrationServices;
  /** A cockpit command as the operator runs it (`--repo` when started outside the repository): what hints print. */
  command?(args: string[]): string;
  /** Only on the demo's sandbox (`cockpit demo`, src/demo/mode.ts): its story and its second person's approval. */
  demo?: DemoServices;
}

/** What the screens offer on the demo's sandbox, and nowhere else. */
export interface DemoServices {
  /** The demo's senior developer (the sandbox's approvers: senior), who approves a production deploy. */
  senior: { name: string; email: string };
  /** The command that prints what the demo's chat and status page received. */
  messagesCommand: string;
  /** Approve the session's waiting approval as the senior: the `cockpit approve` they would run, as a process of its own. */
  approve(sessionId: string): Promise<{ ok: boolean; text: string }>;
}

export interface MigrationFinding {
  severity: 'error' | 'warning';
  rule: string;
  /** `file:line` */
  where: string;
  message: string;
  fix: string;
}

export interface MigrationRow {
  id: string;
  name: string;
  file: string;
  state: 'applied' | 'pending' | 'failed';
  /** Applied by whom and when; or the failure; or why it is pending the way it is. */
  detail: string;
  noTransaction: boolean;
  /** A direction whose SQL is only known when it runs (a module that reads the database). */
  dynamic: boolean;
  findings: MigrationFinding[];
  /** What upgrade (pending) or downgrade (applied) would send, as `--sql` prints it. */
  sql: string;
  problems: string[];
}

export interface MigrationView {
  /** The database, its password shown as ***. */
  database: string;
  folder: string;
  rows: MigrationRow[];
  /** Problems not tied to a file (a history row without one). */
  problems: string[];
  /** migrations/backfills/<name>.yaml */
  backfills: string[];
  /** Why the database could not be read (the files are still listed). */
  error?: string;
}

export interface MigrationServices {
  load(): Promise<MigrationView>;
  /**
   * `cockpit migrate <args> --json` as a child (recorded in the audit log as a command-line session): its typed
   * events as they come, and any text it writes that is not one (an error it stopped on).
   */
  run(args: string[], on: { event(e: MigrateLine): void; text(text: string): void }): { done: Promise<number>; stop(): void };
}
