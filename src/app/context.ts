/**
 * What every use case runs against, handed out lazily (the GitHub CLI's factory): the workspace (the config is
 * read on first use, once), the process's streams and whether they are a terminal, the clock, who is at the
 * keyboard. The commands (cli/) and the screens' services build one and pick a driver; the use cases (app/) do the
 * rest, without knowing which driver it is.
 */
import { systemClock, type Clock } from '../adapters/clock.js';
import { currentIdentity, type Identity } from '../adapters/identity.js';
import type { AuditStore } from '../audit/store.js';
import type { BundleResult, ChecklistBundle } from '../core/checklist/bundle.js';
import type { WatchConfig } from '../core/watch/config.js';
import type { VerifyConfig } from '../core/verify.js';
import type { ApproversSettings } from '../core/approval.js';
import type { ReleaseSettings } from '../steps/types.js';
import type { DeployConfig } from '../core/deploy/config.js';
import type { NotifyConfigInput } from '../core/notify/config.js';
import { cockpitVersion } from '../version.js';

/** Where a checklist was found: a file path, or an id looked up in checklists/ and the defaults. */
export interface Origin {
  file: string;
  byId: boolean;
}

/** The repository the cockpit works in, as the use cases need it (cli/setup.ts's Workspace is one). */
export interface AppWorkspace {
  readonly repoDir: string;
  readonly config: {
    env?: Record<string, string | number | boolean>;
    release?: ReleaseSettings;
    deploy?: DeployConfig;
    verify?: VerifyConfig;
    notify?: NotifyConfigInput;
  };
  openStore(): Promise<AuditStore>;
  /** A checklist by id or path, with its includes; throws a UsageError listing every problem. */
  mustLoad(ref: string): { bundle: ChecklistBundle; origin: Origin };
  /** The checklist as it is now, from where session `sessionId` found it: null if it is gone. */
  reloadOrigin(origin: Origin, sessionId?: string): BundleResult | null;
  watchConfig(): WatchConfig | undefined;
  /** The config's `approvers:` (roles, signing, timeout), when there is one. */
  approvers?(): ApproversSettings | undefined;
  /** The SSH key that signs the audit anchors (audit.signingKey, `~` expanded), when one is set. */
  auditSigningKey(): string | undefined;
  /** The allowed-signers file the anchors' signatures are checked against (audit.allowedSigners), when one is set. */
  auditAllowedSigners(): string | undefined;
  /** Where the audit store is (the anchors name it). */
  auditLocation(): StoreLocation;
  /** A cockpit command as the operator runs it from here (`--repo` when elsewhere): what hints print. */
  command?(args: string[]): string;
}

/** Where an audit store is: a SQLite file (absolute path) or a PostgreSQL URL. */
export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface AppIO {
  stdin: { isTTY?: boolean };
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** Both ends are a terminal: someone can be asked, a screen can be drawn. */
  isTerminal(): boolean;
}

export interface AppContext<W extends AppWorkspace = AppWorkspace> {
  /** The workspace, loaded on first use and kept. */
  workspace(): W;
  io: AppIO;
  clock: Clock;
  identity(): Identity;
  version: string;
  /**
   * A warning about work in the background (the audit anchors could not be written): on stderr, or, while a screen is
   * drawn, kept and printed once it is gone (a line on stderr would tear the frame).
   */
  warn(line: string): void;
}

export function processIO(): AppIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTerminal: () => !!process.stdin.isTTY && !!process.stdout.isTTY,
  };
}

/** A context over the workspace `load` gives (called once, when first needed); the rest defaults to this process. */
export function appContext<W extends AppWorkspace>(
  load: () => W,
  parts: Partial<Pick<AppContext, 'io' | 'clock' | 'version' | 'warn'>> & { identity?: Identity } = {},
): AppContext<W> {
  let ws: W | undefined;
  let who: Identity | undefined = parts.identity;
  const io = parts.io ?? processIO();
  return {
    workspace: () => (ws ??= load()),
    io,
    warn: parts.warn ?? ((line) => void io.stderr.write(line)),
    clock: parts.clock ?? systemClock,
    identity: () => (who ??= currentIdentity()),
    version: parts.version ?? cockpitVersion(),
  };
}
