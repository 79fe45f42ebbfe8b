import type { AuditStore } from '../audit/store.js';
import { formatDiagnostics } from '../core/checklist/types.js';
import type { LiveDeps } from '../engine/live.js';
import { recordingDeps, type BaseDeps, type EngineDeps } from '../engine/session.js';
import { stepKindMap } from '../steps/index.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { anchorPortFor } from './anchor.js';
import { preConfirmed, type YesList } from './yes.js';
import { notifySecretValues, notifySettings } from '../core/notify/config.js';
import { issueUpdates } from './issue-update.js';

/**
 * What the engine gets for any session, however it is driven: the store, the step kinds, who and when, where, the
 * config's env, release and watch settings, and how to reload the checklist of a session being resumed. A driver
 * adds who answers confirmations, the stop signal and where events go (the screen's LiveSession, the line's
 * printer); recording on a stopped session adds nobody (`stoppedDeps`).
 */
export function sessionDeps(ctx: AppContext, store: AuditStore, yes?: YesList): LiveDeps {
  const ws = ctx.workspace();
  const notify = notifySettings(ws.config.notify, ctx.identity().operator);
  // The channels' URLs and keys are redacted from everything the store writes, before any step can send.
  if (notify) store.addSecrets(notifySecretValues(notify.channels, process.env));
  return {
    store,
    kinds: stepKindMap,
    identity: ctx.identity(),
    clock: ctx.clock,
    repoDir: ws.repoDir,
    env: Object.fromEntries(Object.entries(ws.config.env ?? {}).map(([k, v]) => [k, String(v)])),
    version: ctx.version,
    settings: {
      release: ws.config.release ?? {},
      watch: ws.watchConfig(),
      approvers: ws.approvers?.(),
      notify,
      ...(ws.config.deploy ? { deploy: ws.config.deploy } : {}),
      ...(ws.config.verify ? { verify: ws.config.verify } : {}),
    },
    anchor: anchorPortFor(ctx),
    ...(ws.command ? { command: (args: string[]) => ws.command!(args) } : {}),
    reload: (origin, sessionId) => {
      const reloaded = ws.reloadOrigin(origin, sessionId);
      if (reloaded && !reloaded.bundle) throw new UsageError(`the checklist no longer loads:\n${formatDiagnostics(reloaded.diagnostics)}`);
      return reloaded?.bundle ?? null;
    },
    ...(yes ? { preconfirmed: (node) => preConfirmed(yes, node) } : {}),
    // The operator's "issue or delay" update (`u` after a failure or a breach): only with `notify:` channels.
    ...(notify ? { updates: issueUpdates(notify, () => ctx.clock.now()) } : {}),
  };
}

/** Deps for recording on a stopped session: no commands run, nothing is asked. */
export function stoppedDeps(ctx: AppContext, store: AuditStore): EngineDeps {
  return recordingDeps(sessionDeps(ctx, store) satisfies BaseDeps);
}
