/**
 * The full workspace: the light one (cli/workspace.ts: repository, paths, audit store, checklist files) with the whole
 * config read with its schema, checklists loaded with their step kinds, the watch and approvers settings. Every
 * command but the home screen starts from this one; the home screen's services make it when first needed.
 */
import { UsageError } from '../app/errors.js';
import { loadBundle, type BundleResult } from '../core/checklist/bundle.js';
import { formatDiagnostics, type ChecklistSource } from '../core/checklist/types.js';
import { STEP_KINDS } from '../steps/index.js';
import { loadConfig, type CockpitConfig } from './config.js';
import { COMMAND_LINE_ORIGIN } from '../core/events.js';
import { resolveWatchConfig, WatchConfigError, type WatchConfig, type WatchConfigInput } from '../core/watch/config.js';
import { DEFAULT_APPROVAL_TIMEOUT, type ApproversSettings } from '../core/approval.js';
import { parseDuration } from '../core/duration.js';
import { BaseWorkspace, type GlobalOptions } from './workspace.js';

// Defined with the use cases (app/ imports nothing of cli/); the command modules import it from here.
export { UsageError };
export { BaseWorkspace, isInside, NO_REPO_REFUSAL, withoutPassword, type GlobalOptions } from './workspace.js';

export class Workspace extends BaseWorkspace {
  declare readonly config: CockpitConfig;

  constructor(opts: GlobalOptions, program = 'cockpit') {
    super(opts, program, loadConfig);
  }

  override full(): Promise<Workspace> {
    return Promise.resolve(this);
  }

  /**
   * The `watch:` settings, resolved over the policy's defaults; `prometheusUrl` (`cockpit watch --prometheus`, or
   * COCKPIT_PROMETHEUS_URL) stands in for or replaces `watch.prometheus.url`. Undefined when no Prometheus is named.
   */
  watchConfig(prometheusUrl = process.env.COCKPIT_PROMETHEUS_URL || undefined): WatchConfig | undefined {
    const input = this.config.watch;
    // No URL anywhere (a `watch:` section with the windows only, its URL given per machine or on the command line):
    // no watch, as without the section; resolving it would fail every session, not only a watch.
    if (!input?.prometheus?.url && !prometheusUrl) return undefined;
    // (The job labels default to `app` and `db` in core/watch/config.ts: a wrong one gives "no data", never a pass.)
    const merged = {
      ...(input ?? {}),
      prometheus: { ...(input?.prometheus ?? {}), ...(prometheusUrl ? { url: prometheusUrl } : {}) },
    } as WatchConfigInput;
    try {
      return resolveWatchConfig(merged);
    } catch (e) {
      if (e instanceof WatchConfigError) throw new UsageError(`${this.configFile}: ${e.message}`);
      throw e;
    }
  }

  /** The `approvers:` section as the approve step and `cockpit approve` use it (roles, signing, paths resolved), if any. */
  approvers(): ApproversSettings | undefined {
    const a = this.config.approvers;
    if (!a) return undefined;
    const { signing, allowedSigners, timeout, ...roles } = a;
    return {
      roles: roles as Record<string, string[]>,
      ...(signing ? { signing } : {}),
      ...(allowedSigners ? { allowedSigners: this.configPath(allowedSigners) } : {}),
      timeoutMs: parseDuration(timeout ?? DEFAULT_APPROVAL_TIMEOUT)!,
    };
  }

  loadBundle(source: ChecklistSource): BundleResult {
    return loadBundle(source, this.resolver(), STEP_KINDS);
  }

  /** Load a checklist (and its includes) or throw a UsageError listing every problem as file:line:column. */
  mustLoad(ref: string) {
    const { source, origin } = this.sourceFor(ref);
    const r = this.loadBundle(source);
    if (!r.bundle) throw new UsageError(formatDiagnostics(r.diagnostics));
    return { bundle: r.bundle, origin };
  }

  /** The checklist as it is now, from where session `sessionId` found it: null if it is gone; diagnostics if it is broken. */
  reloadOrigin(origin: { file: string; byId: boolean }, sessionId?: string): BundleResult | null {
    if (origin.file === COMMAND_LINE_ORIGIN) {
      const abort = sessionId ? this.command(['abort', sessionId]) : `${this.command(['abort'])} <session>`;
      throw new UsageError(
        `that session recorded a command run from the command line (cockpit migrate …), not a checklist: it cannot be resumed. Run the command again; ${abort} --reason "…" closes the session`,
      );
    }
    const source = origin.byId ? this.resolver().find(origin.file) : this.readChecklistFile(origin.file);
    return source ? this.loadBundle(source) : null;
  }
}
