import type { Clock } from '../adapters/clock.js';
import type { ShellRequest, ShellResult } from '../adapters/shell.js';
import type { ParamValue } from '../core/checklist/types.js';
import type { StepKindValidator } from '../core/checklist/load.js';
import type { EventBody, PlanNode, StoredEvent } from '../core/events.js';
import type { WatchConfig } from '../core/watch/config.js';
import type { PrometheusPort } from '../core/watch/run.js';
import type { RawCommit } from '../core/release/commits.js';
import type { Schedule } from '../core/release/schedule.js';

export type Decision =
  | { decision: 'yes'; by: string; via: 'flag' | 'prompt'; note?: string }
  | { decision: 'skip'; by: string; reason: string }
  | { decision: 'abort'; by: string; reason: string }
  /** Nobody can answer now (non-interactive, not named by --yes): the session waits. */
  | { decision: 'unavailable'; hint: string };

/** Read-only git queries on the session's repository (the engine binds src/adapters/git.ts here). */
export interface GitReader {
  revParse(ref: string): Promise<string | null>;
  branchExists(name: string): Promise<boolean>;
  tagCommit(tag: string): Promise<string | null>;
  isAncestor(a: string, b: string): Promise<boolean>;
  mergeBase(a: string, b: string): Promise<string | null>;
  currentBranch(): Promise<string | null>;
  conflictedFiles(): Promise<string[]>;
  lastRelease(ref?: string): Promise<{ tag: string; version: string; commit: string } | null>;
  commitsBetween(from: string | null, to: string): Promise<RawCommit[]>;
  probeRemote(remote: string): Promise<{ ok: true; refs: Map<string, string> } | { ok: false; why: string }>;
}

/** Files of the session's repository, by path relative to it (a path that leaves the repository is refused). */
export interface RepoFiles {
  read(rel: string): string | null;
  write(rel: string, text: string): void;
}

/** What a step kind may use. Adapters come in through here, so step files import no I/O themselves. */
export interface StepContext {
  node: PlanNode;
  params: Record<string, ParamValue>;
  repoDir: string;
  attempt: number;
  /** Environment for commands: the parameters as COCKPIT_PARAM_*, the session's ids. */
  env: Record<string, string>;
  clock: Clock;
  signal: AbortSignal;
  run(req: Omit<ShellRequest, 'signal' | 'onOutput' | 'onSpawn'>): Promise<ShellResult>;
  confirm(prompt: string): Promise<Decision>;
  git: GitReader;
  files: RepoFiles;
  /** How to run this cockpit as a command (node and its bin), for steps that use its own commands. */
  self: string[];
  /** Text for the step's output (shown live, kept in the audit log), as a command's output is. */
  log(text: string): void;
  /** The `release:` part of cockpit.config.yaml (version files, remote, branches), when there is one. */
  release: ReleaseSettings;
  /** Record events of this step (durable before the promise settles, shown live like any event). */
  record(events: Array<EventBody & { time?: number }>): Promise<void>;
  /** This step's events so far in the session, earlier attempts included (a resumed watch continues its hour). */
  history(): Promise<StoredEvent[]>;
  /** The `watch:` part of cockpit.config.yaml (resolved: defaults from the policy), when it loads. */
  watch?: WatchConfig;
  /** A Prometheus client for the watch (its secrets resolved from the environment), or why there is none. */
  prometheus(config: WatchConfig): Promise<{ client: PrometheusPort & { close(): void } } | { error: string }>;
  /** Wait (cut short by a stop). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface ReleaseSettings {
  versionFiles?: Array<Record<string, unknown> & { file: string }>;
  remote?: string;
  schedule?: Schedule;
}

export type StepOutcome =
  | {
      status: 'passed';
      exitCode?: number;
      via?: 'command' | 'confirmation' | 'probe';
      confirmation?: { by: string; via: 'flag' | 'prompt'; note?: string };
    }
  | { status: 'failed'; exitCode: number | null; signal?: string | null; timedOut?: boolean; reason: string }
  | { status: 'skipped'; reason: string }
  | { status: 'waiting'; message: string; hint: string }
  | { status: 'aborted'; reason: string };

export interface ProbeResult {
  result: 'done' | 'not-done' | 'unknown';
  detail: string;
}

/**
 * The contract of a step kind (DESIGN.md §1): its schema, how it describes itself for a dry run,
 * how it executes through adapters, and, where it has an external effect, how to probe whether it
 * already happened (used when resuming a step that was interrupted).
 */
export interface StepKind extends StepKindValidator {
  describe(node: PlanNode, params: Record<string, ParamValue>): string;
  execute(ctx: StepContext): Promise<StepOutcome>;
  /** Present when the kind can tell whether its effect already happened. */
  probe?(ctx: StepContext): Promise<ProbeResult | null>;
  /** Manual steps are asked again after an interruption instead of being re-run or probed. */
  manual?: boolean;
}
