import type { ParamValue } from '../core/checklist/types.js';
import type { DeployConfig } from '../core/deploy/config.js';
import type { CommandLine } from '../core/command-line.js';
import type { StepKindValidator } from '../core/checklist/load.js';
import type { PlanNode, ReleaseCommits } from '../core/events.js';
import type { RawCommit } from '../core/release/commits.js';
import type { Schedule } from '../core/release/schedule.js';
import type { VersionFileSpec } from '../core/release/version-files.js';
import type { VerifyConfig } from '../core/verify.js';
import type { ServiceName, Services } from '../engine/services.js';
import type { NotifySettings } from '../core/notify/config.js';

export type Decision =
  | { decision: 'yes'; by: string; via: 'flag' | 'prompt'; note?: string }
  | { decision: 'skip'; by: string; reason: string }
  | { decision: 'abort'; by: string; reason: string }
  /** Nobody can answer now (non-interactive, not named by --yes): the session waits. */
  | { decision: 'unavailable'; hint: string };

/**
 * A message a step is about to send, shown to the operator first (the `notify` step): what goes to each channel, and
 * the text, which the operator may edit. `edited`: the text is an edit recorded by an earlier attempt of the step
 * (a resume sends it, not the template again).
 */
export interface MessageReview {
  /** The template's name (`deployment-started` …) and its one-line title. */
  message: string;
  title: string;
  text: string;
  edited: { by: string } | null;
  /** Per channel, what it shows: a chat's title and text, a status page's incident name, its status and the body. */
  channels: Array<{ name: string; provider: 'slack' | 'webhook' | 'statuspage'; endpoint: string; shows: string }>;
}

export type ReviewDecision =
  /** Send `text` (the template's, or the operator's edit of it). */
  | { decision: 'send'; by: string; via: 'prompt'; text: string }
  | { decision: 'skip'; by: string; reason: string }
  | { decision: 'abort'; by: string; reason: string }
  /** Nobody reviews it here (`--yes` names the step, `--non-interactive`, no screen): sent as it is, and said why. */
  | { decision: 'unattended'; why: string }
  /** The operator quit while it was shown: the session waits. */
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
  /** A file's text in the tree of `ref` (null: no such ref or file). */
  fileAt(ref: string, file: string): Promise<string | null>;
  /** Who git would commit as, or why it cannot (no user.email …). */
  identity(): Promise<{ ok: true; ident: string } | { ok: false; why: string }>;
}

/** Files of the session's repository, by path relative to it (a path that leaves the repository is refused). */
export interface RepoFiles {
  read(rel: string): string | null;
  write(rel: string, text: string): void;
}

/**
 * What every step knows about itself, whatever its kind. The services it may use (git, files, run …) are not here:
 * a kind declares them (`needs`) and receives only those (engine/services.ts builds them).
 */
export interface StepFacts {
  node: PlanNode;
  params: Record<string, ParamValue>;
  repoDir: string;
  attempt: number;
  /** Environment for commands: the parameters as COCKPIT_PARAM_*, the session's ids. */
  env: Record<string, string>;
  signal: AbortSignal;
}

/** What a kind's `execute` and `probe` receive: the step, its spec as its schema parsed it, and the services it declared. */
export type StepContext<Spec = unknown, N extends ServiceName = never> = StepFacts & { spec: Spec } & Pick<Services, N>;

/** What a kind's `describe` receives (a dry run, a listing: nothing runs, no service is given). */
export interface DescribeContext<Spec = unknown> {
  spec: Spec;
  node: PlanNode;
  params: Record<string, ParamValue>;
  /** The settings the run would use (the config's `release:`), so a description names what is configured. */
  settings?: DescribeSettings;
}

/** What a description may read of the configuration: nothing runs, so only settings, never services. */
export interface DescribeSettings {
  release?: ReleaseSettings;
  /** The `verify:` section: the test command and the Day-2 scripts. */
  verify?: VerifyConfig;
  /** The `deploy:` settings: a dry run names each environment's script and URLs. */
  deploy?: DeployConfig;
  /** How a command the description names is printed (`--repo` when elsewhere; core/command-line.ts). */
  command?: CommandLine;
  /** The session the step runs in (none in a dry run or a listing). */
  session?: string;
  /** The config's `notify:` channels: a notify step describes each message as it would be sent, with its endpoint. */
  notify?: NotifySettings;
}

/** The services a kind declared, built by the engine for one step. */
export type ServiceProvider = <N extends ServiceName>(needs: readonly N[]) => Pick<Services, N>;

export interface ReleaseSettings {
  versionFiles?: VersionFileSpec[];
  remote?: string;
  schedule?: Schedule;
  /** `release.publish`: the command that publishes a release's notes on the forge (core/release/publish.ts). */
  publish?: string[];
}

export type StepOutcome =
  | {
      status: 'passed';
      exitCode?: number;
      via?: 'command' | 'confirmation' | 'probe';
      confirmation?: { by: string; via: 'flag' | 'prompt'; note?: string };
      /** Nothing was there to check, and why: shown apart from a pass that proved something (○, not ✔). */
      nothingToCheck?: string;
      /** A release's commits, recorded with the pass (the notes step). */
      release?: ReleaseCommits;
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
 * A step kind as the engine, the loader and the dry run see it (docs/architecture.md §3): its schema, how it describes itself,
 * how it executes with the services it declared, and, where it has an external effect, how to probe whether it
 * already happened (used when resuming a step that was interrupted). Made by `defineStepKind` (steps/define.ts),
 * which types the spec from the schema and the services from `needs`.
 */
export interface StepKind extends StepKindValidator {
  /** The services the kind uses: the engine builds these, and only these, for its steps. */
  readonly needs: readonly ServiceName[];
  describe(node: PlanNode, params: Record<string, ParamValue>, settings?: DescribeSettings): string;
  execute(step: StepFacts, services: ServiceProvider): Promise<StepOutcome>;
  /** Present when the kind can tell whether its effect already happened. */
  probe?(step: StepFacts, services: ServiceProvider): Promise<ProbeResult | null>;
  /** Manual steps are asked again after an interruption instead of being re-run or probed. */
  manual?: boolean;
  /** Safe to run again after an interruption, without asking (it only reads, or continues where it was). */
  rerunSafe?: boolean;
  /** Fields naming git refs, with their words: checked with git's rules once the parameters are known. */
  refs?: Readonly<Record<string, string>>;
}
