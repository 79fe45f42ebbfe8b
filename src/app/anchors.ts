/**
 * What `audit verify` holds the store to: the heads anchored on refs/cockpit/audit here, and on the remote (the
 * team's witness) when it can be reached. Both are checked: a local ref rewritten to hide a cut or an edit is still
 * caught by the remote's.
 */
import { anchorPlace, fetchAnchors, readAnchors, type AnchorHead } from '../adapters/anchor.js';

export interface Witness {
  /** Per session, every head anchored for it (here, and on the remote when they differ). */
  anchors: Map<string, AnchorHead[]>;
  /** The remote whose anchors were read too, when it could be. */
  remote: string | null;
  /** Why the anchors are partial: no repository, no remote, the remote unreachable. */
  why?: string;
}

export async function readWitness(repoDir: string, remote: string): Promise<Witness> {
  const place = await anchorPlace(repoDir, remote);
  if (!place.repo) return { anchors: new Map(), remote: null, why: `${repoDir} is not a git repository` };
  const anchors = new Map([...(await readAnchors(repoDir))].map(([id, h]) => [id, [h]]));
  if (!place.remote) return { anchors, remote: null, why: `no remote '${remote}'` };
  const theirs = await fetchAnchors(repoDir, remote);
  if (!theirs.ok) return { anchors, remote: null, why: `${remote} unreachable: ${theirs.why}` };
  // Both are held to the store: a local ref rewritten to match a recomputed chain still disagrees with the remote's.
  for (const [id, h] of theirs.anchors) {
    const mine = anchors.get(id) ?? [];
    if (!mine.some((m) => m.seq === h.seq && m.hash === h.hash)) anchors.set(id, [...mine, h]);
  }
  return { anchors, remote };
}
