/**
 * What `audit verify` holds the store to: the heads anchored on refs/cockpit/audit here, and on the remote (the
 * team's witness) when it can be reached. Both are checked: a local ref rewritten to hide a cut or an edit is still
 * caught by the remote's.
 */
import {
  ANCHOR_REF,
  anchorPlace,
  anchorSignature,
  fetchAnchors,
  readAnchors,
  remoteAnchorRef,
  type AnchorHead,
} from '../adapters/anchor.js';

export interface Witness {
  /** Per session, every head anchored for it (here, and on the remote when they differ). */
  anchors: Map<string, AnchorHead[]>;
  /** The remote whose anchors were read too, when it could be. */
  remote: string | null;
  /** Why the anchors are partial: no repository, no remote, the remote unreachable. */
  why?: string;
  /** Sessions anchored for another audit store (the repository moved stores), by store: not this store's to hold. */
  elsewhere: Map<string, number>;
  /** With an allowed-signers file: whether the newest anchor commit (here, and on the remote) is signed by an allowed key. */
  signature: { checked: boolean; good: boolean; problems: string[] };
}

/** The anchors' signatures against `allowedSigners`: every tip read must be signed by an allowed key. */
async function signatures(repoDir: string, refs: string[], allowedSigners: string | undefined): Promise<Witness['signature']> {
  if (!allowedSigners) return { checked: false, good: false, problems: [] };
  const problems: string[] = [];
  for (const ref of refs) {
    const s = await anchorSignature(repoDir, ref, allowedSigners);
    if (s.state === 'unsigned')
      problems.push(`${s.detail}, though audit.allowedSigners is set: the anchors may have been rewritten by someone without the key`);
    else if (s.state === 'bad')
      problems.push(`${ref}: the signature of the newest anchor does not verify against ${allowedSigners}: ${s.detail}`);
  }
  return { checked: true, good: problems.length === 0, problems };
}

/**
 * The anchors `store` is held to. An anchor naming another store is set aside (counted in `elsewhere`); one naming
 * none (written before stores were named) is held to whichever store is verified.
 */
export async function readWitness(repoDir: string, remote: string, store: string, allowedSigners?: string): Promise<Witness> {
  const w = await readAll(repoDir, remote, allowedSigners);
  const elsewhere = new Map<string, number>();
  for (const [id, heads] of w.anchors) {
    const mine = heads.filter((h) => !h.store || h.store === store);
    const other = heads.find((h) => h.store && h.store !== store);
    if (mine.length) w.anchors.set(id, mine);
    else {
      w.anchors.delete(id);
      if (other?.store) elsewhere.set(other.store, (elsewhere.get(other.store) ?? 0) + 1);
    }
  }
  return { ...w, elsewhere };
}

async function readAll(repoDir: string, remote: string, allowedSigners?: string): Promise<Omit<Witness, 'elsewhere'>> {
  const place = await anchorPlace(repoDir, remote);
  const unsigned = { checked: false, good: false, problems: [] };
  if (!place.repo) return { anchors: new Map(), remote: null, why: `${repoDir} is not a git repository`, signature: unsigned };
  const anchors = new Map([...(await readAnchors(repoDir))].map(([id, h]) => [id, [h]]));
  const local = anchors.size ? [ANCHOR_REF] : [];
  if (!place.remote)
    return { anchors, remote: null, why: `no remote '${remote}'`, signature: await signatures(repoDir, local, allowedSigners) };
  const theirs = await fetchAnchors(repoDir, remote);
  if (!theirs.ok)
    return {
      anchors,
      remote: null,
      why: `${remote} unreachable: ${theirs.why}`,
      signature: await signatures(repoDir, local, allowedSigners),
    };
  // Both are held to the store: a local ref rewritten to match a recomputed chain still disagrees with the remote's.
  for (const [id, h] of theirs.anchors) {
    const mine = anchors.get(id) ?? [];
    if (!mine.some((m) => m.seq === h.seq && m.hash === h.hash)) anchors.set(id, [...mine, h]);
  }
  const refs = [...local, ...(theirs.anchors.size ? [remoteAnchorRef(remote)] : [])];
  return { anchors, remote, signature: await signatures(repoDir, refs, allowedSigners) };
}
