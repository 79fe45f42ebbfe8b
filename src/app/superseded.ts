/**
 * Sessions that were overtaken: a release or hotfix session left waiting, failed or stopped while another session
 * released the same version. Its version's tag exists now, so resuming it can only fail at "the tag is free"; the
 * home screen and the session screen say so, naming the session that released it, and offer to abort it.
 */
import { tagCommit } from '../adapters/git.js';
import type { AuditStore, SessionRow } from '../audit/store.js';
import type { PlanNode } from '../core/events.js';

export interface Superseded {
  version: string;
  /** The tag that exists now (`v1.2.3`). */
  tag: string;
  /** The session that released it (finished ok), or null when the tag was made outside the cockpit. */
  by: { id: string; operator: string; endedAt: number } | null;
}

/** The checklists that release a version (and tag it). */
const RELEASING = new Set(['release', 'hotfix']);

/**
 * Which of `open` (sessions not finished and not running) are superseded: a release or hotfix session whose version
 * is tagged now, by another session of the same version that finished ok (looked up in `all`) — or, when none did,
 * by someone outside the cockpit, unless this session's own tag step made the tag.
 */
export async function supersededSessions(
  store: Pick<AuditStore, 'streamRows'>,
  open: SessionRow[],
  all: SessionRow[],
  repoDir: string,
): Promise<Map<string, Superseded>> {
  const found = new Map<string, Superseded>();
  for (const s of open) {
    const version = s.params.version;
    if (!RELEASING.has(s.checklistId) || typeof version !== 'string' || !version) continue;
    const tag = `v${version}`;
    const tagged = await tagCommit(repoDir, tag).catch(() => null); // not a repository here: nothing to say
    if (!tagged) continue;
    const winner = all
      .filter((o) => o.id !== s.id && RELEASING.has(o.checklistId) && o.params.version === version && o.outcome === 'succeeded')
      .sort((a, b) => (b.endedAt ?? 0) - (a.endedAt ?? 0))[0];
    // No other session released it: the tag may be this session's own (tagged, then the push failed).
    if (!winner && (await taggedItself(store, s.id))) continue;
    found.set(s.id, {
      version,
      tag,
      by: winner ? { id: winner.id, operator: winner.operator, endedAt: winner.endedAt ?? winner.startedAt } : null,
    });
  }
  return found;
}

/**
 * Whether a git.tag step of the session passed. Read from the raw rows (the home screen asks every few seconds): only
 * the plan is parsed, never a step's output, which may be tens of megabytes.
 */
async function taggedItself(store: Pick<AuditStore, 'streamRows'>, sessionId: string): Promise<boolean> {
  let tagSteps = new Set<string>();
  for await (const r of store.streamRows(sessionId)) {
    if (r.type === 'session.started')
      tagSteps = new Set((JSON.parse(r.data) as { plan: PlanNode[] }).plan.filter((n) => n.kind === 'git.tag').map((n) => n.path));
    else if (r.type === 'step.passed' && r.stepId !== null && tagSteps.has(r.stepId)) return true;
  }
  return false;
}
