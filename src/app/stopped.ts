/** Recording on a session that is not running: a note for the postmortem, an abort that closes it for good. */
import type { AuditStore } from '../audit/store.js';
import type { SessionState } from '../core/reducer.js';
import { abortSession, withStoppedSession } from '../engine/session.js';
import type { AppContext } from './context.js';
import { stoppedDeps } from './deps.js';
import { UsageError } from './errors.js';

export async function resolveId(ctx: AppContext, store: AuditStore, ref: string): Promise<string> {
  const r = await store.resolveSessionId(ref, ctx.workspace().command?.(['audit', 'list']));
  if ('error' in r) throw new UsageError(r.error);
  return r.id;
}

export interface NoteOptions {
  /** A session id or a unique prefix. */
  session: string;
  text: string;
  /** The step the note is about (id or path); none: the session as a whole. */
  step?: string;
}

/** Add a note to a stopped session (refused while it runs in a live process). */
export async function addNote(ctx: AppContext, opts: NoteOptions): Promise<{ sessionId: string; state: SessionState }> {
  if (!opts.text.trim()) throw new UsageError('the note is empty');
  const store = await ctx.workspace().openStore();
  const sessionId = await resolveId(ctx, store, opts.session);
  const state = await withStoppedSession(stoppedDeps(ctx, store), sessionId, 'note', async (runner) => {
    let stepId: string | null = null;
    if (opts.step) {
      const node = runner.findStep(opts.step);
      if (!node) throw new UsageError(`no step '${opts.step}' in session ${sessionId}`);
      stepId = node.path;
    }
    await runner.addNote(opts.text, stepId);
  });
  return { sessionId, state };
}

export interface AbortOptions {
  session: string;
  reason: string;
}

/** Close a stopped session as aborted, with the reason: it cannot be resumed afterwards. */
export async function abortStopped(ctx: AppContext, opts: AbortOptions): Promise<{ sessionId: string; state: SessionState }> {
  const store = await ctx.workspace().openStore();
  const sessionId = await resolveId(ctx, store, opts.session);
  const state = await abortSession(stoppedDeps(ctx, store), sessionId, opts.reason);
  return { sessionId, state };
}
