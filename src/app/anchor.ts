/**
 * The engine's anchor port (EngineDeps.anchor): each session's chain head written to git's refs/cockpit/audit at
 * every step's end (adapters/anchor.ts), and pushed to the release remote at the session's end. Anchoring never
 * stops a release: a failure is said once, on stderr, and `audit verify` then counts the session as not anchored.
 */
import path from 'node:path';
import { anchorPlace, pushAnchors, writeAnchor } from '../adapters/anchor.js';
import type { AnchorPort } from '../engine/session.js';
import type { AppContext, StoreLocation } from './context.js';

/** The remote the anchors are pushed to and read from: the release remote. */
export const anchorRemote = (ctx: AppContext): string => ctx.workspace().config.release?.remote ?? 'origin';

/** The anchor port of a context's workspace: its repository, its release remote, its signing key; warnings through ctx.warn. */
export function anchorPortFor(ctx: AppContext): AnchorPort {
  const ws = ctx.workspace();
  return anchorPort(
    ws.repoDir,
    anchorRemote(ctx),
    storeName(ws.repoDir, ws.auditLocation()),
    (line) => ctx.warn(line),
    ws.auditSigningKey(),
  );
}

/**
 * The audit store's name in an anchor: `sqlite:` and the file's path from the repository (absolute when outside it),
 * or `postgres://host:port/database` (no user, password or options). Percent-encoded: it holds no spaces.
 */
export function storeName(repoDir: string, where: StoreLocation): string {
  if (where.kind === 'sqlite') {
    const rel = path.relative(repoDir, where.file);
    const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : where.file;
    return encodeURI(`sqlite:${shown.split(path.sep).join('/')}`);
  }
  const u = new URL(where.url);
  return encodeURI(`postgres://${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`);
}

function anchorPort(repoDir: string, remote: string, store: string, warn: (line: string) => void, signingKey?: string): AnchorPort {
  let place: ReturnType<typeof anchorPlace> | null = null;
  let warned = false;
  const fail = (what: string, why: unknown) => {
    if (warned) return;
    warned = true;
    warn(
      `warning: ${what}: ${why instanceof Error ? why.message : String(why)}. The audit log itself is intact; audit verify counts this session as not anchored.\n`,
    );
  };
  return {
    async record(sessionId, head) {
      place ??= anchorPlace(repoDir, remote);
      if (!(await place).repo) return;
      try {
        await writeAnchor(repoDir, sessionId, { ...head, store }, signingKey);
      } catch (e) {
        fail(`the audit log could not be anchored in git (refs/cockpit/audit in ${repoDir})`, e);
      }
    },
    async publish() {
      place ??= anchorPlace(repoDir, remote);
      const p = await place;
      if (!p.repo || !p.remote) return;
      const r = await pushAnchors(repoDir, remote, signingKey);
      if (!r.ok) fail(`the audit anchors could not be pushed to ${remote}`, r.why);
    },
  };
}
