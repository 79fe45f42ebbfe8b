/**
 * Audit anchors in the repository's git: the head (seq and hash) of every session's chain, kept outside the audit
 * database on the ref `refs/cockpit/audit`, one small commit per anchor, so that a log cut short, recomputed after an
 * edit, or deleted with its database no longer matches what was anchored. Pushed to the team's remote at a session's
 * end, the remote becomes the witness: rewriting the database and the local ref is not enough.
 *
 * The ref's tree has one blob per session, named by the session id, holding `<seq> <hash> <store>\n`: the newest
 * anchored head, and which audit store holds the session (`sqlite:.cockpit/audit.db`, `postgres://host:5432/db`; older
 * anchors have none), so a repository that moved to another store does not count the old store's sessions as deleted. Commits are written with git's plumbing (hash-object, mktree, commit-tree) and moved with a compare-and-swap
 * `update-ref`, so two sessions anchoring in one repository at once both land. Why a ref and not git notes: notes
 * hang off commits, and a session's head is not a commit; a ref of its own is pushed, fetched and protected like any
 * branch (a protected ref on the server refuses a force-push that would drop anchors).
 */
import { gitIn, gitTry, type GitOptions } from './git.js';

export const ANCHOR_REF = 'refs/cockpit/audit';
/** Where the remote's anchors are fetched to, for verification. */
export const remoteAnchorRef = (remote: string): string => `refs/cockpit/remotes/${remote}/audit`;

export interface AnchorHead {
  seq: number;
  hash: string;
  /** The store the session is in (no spaces: percent-encoded); absent in anchors written before stores were named. */
  store?: string;
}

/** Anchor commits are the cockpit's bookkeeping, written as it: the operator is in the audit log itself. */
const ANCHOR_ENV = {
  GIT_AUTHOR_NAME: 'release-cockpit',
  GIT_AUTHOR_EMAIL: 'cockpit@localhost',
  GIT_COMMITTER_NAME: 'release-cockpit',
  GIT_COMMITTER_EMAIL: 'cockpit@localhost',
};

const SESSION_NAME = /^[A-Za-z0-9-]+$/;

function opts(cwd: string, timeoutMs = 15_000): GitOptions {
  return { cwd, timeoutMs, env: ANCHOR_ENV };
}

/** The commit a ref points at, or null. */
async function tip(cwd: string, ref: string): Promise<string | null> {
  const r = await gitTry(opts(cwd), ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return r.code === 0 ? r.stdout.trim() || null : null;
}

interface Entry extends AnchorHead {
  /** The blob holding `<seq> <hash>`. */
  blob: string;
}

/** The anchor tree of `commit`: each session's blob, by session id (no contents read). */
async function treeOf(cwd: string, commit: string | null): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!commit) return out;
  const ls = await gitTry(opts(cwd), ['ls-tree', '-z', commit]);
  if (ls.code !== 0) throw new Error(`cannot read the anchors at ${commit}: ${ls.stderr.trim()}`);
  for (const e of ls.stdout.split('\0').filter(Boolean)) {
    const [meta, name] = e.split('\t');
    if (SESSION_NAME.test(name)) out.set(name, meta.split(' ')[2]);
  }
  return out;
}

/** The entries of the anchor tree at `ref`, each blob read (empty when the ref does not exist). */
async function readEntries(cwd: string, ref: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const blobs = [...(await treeOf(cwd, await tip(cwd, ref)))];
  if (!blobs.length) return out;
  const batch = await gitIn(opts(cwd), ['cat-file', '--batch'], blobs.map(([, blob]) => blob).join('\n') + '\n');
  // `<sha> blob <size>\n<content>\n` per object, in order.
  let at = 0;
  const text = batch.stdout;
  for (const [name, blob] of blobs) {
    const nl = text.indexOf('\n', at);
    const size = Number(text.slice(at, nl).split(' ')[2]);
    const body = text.slice(nl + 1, nl + 1 + size);
    at = nl + 1 + size + 1;
    const m = /^(\d+) ([0-9a-f]{64})(?: (\S+))?\s*$/.exec(body);
    if (m) out.set(name, { blob, seq: Number(m[1]), hash: m[2], ...(m[3] ? { store: m[3] } : {}) });
  }
  return out;
}

/** Every session's anchored head on `ref` (empty when the ref does not exist). */
export async function readAnchors(cwd: string, ref: string = ANCHOR_REF): Promise<Map<string, AnchorHead>> {
  const out = new Map<string, AnchorHead>();
  for (const [id, e] of await readEntries(cwd, ref)) out.set(id, { seq: e.seq, hash: e.hash, ...(e.store ? { store: e.store } : {}) });
  return out;
}

/** A tree holding each session's blob. */
async function writeTree(cwd: string, blobs: Map<string, string>): Promise<string> {
  const lines = [...blobs.keys()].sort().map((name) => `100644 blob ${blobs.get(name)!}\t${name}\0`);
  return (await gitIn(opts(cwd), ['mktree', '-z'], lines.join(''))).stdout.trim();
}

async function blobOf(cwd: string, head: AnchorHead): Promise<string> {
  if (head.store !== undefined && !/^\S+$/.test(head.store)) throw new Error(`'${head.store}' is not a store name (no spaces)`);
  const body = `${head.seq} ${head.hash}${head.store ? ` ${head.store}` : ''}\n`;
  return (await gitIn(opts(cwd), ['hash-object', '-w', '--stdin'], body)).stdout.trim();
}

/** A commit of the anchors; signed with `signingKey` (an SSH key: git's `gpg.format=ssh`, ssh-keygen -Y sign) when given. */
async function commitTree(cwd: string, tree: string, parents: string[], message: string, signingKey?: string): Promise<string> {
  const sign = signingKey ? ['-c', 'gpg.format=ssh', '-c', `user.signingKey=${signingKey}`] : [];
  const args = [...sign, 'commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), ...(signingKey ? ['-S'] : []), '-F', '-'];
  return (await gitIn(opts(cwd), args, message)).stdout.trim();
}

/**
 * Whether the newest anchor commit on `ref` is signed by a key of `allowedSigners`: 'good', 'unsigned', or 'bad'
 * (a signature that does not verify, or by a key not allowed), with git's words.
 */
export async function anchorSignature(
  cwd: string,
  ref: string,
  allowedSigners: string,
): Promise<{ state: 'good' | 'unsigned' | 'bad' | 'none'; detail: string }> {
  const commit = await tip(cwd, ref);
  if (!commit) return { state: 'none', detail: `no ${ref}` };
  const raw = await gitTry(opts(cwd), ['cat-file', 'commit', commit]);
  if (!/^gpgsig /m.test(raw.stdout)) return { state: 'unsigned', detail: `${ref} (${commit.slice(0, 10)}) is not signed` };
  const v = await gitTry(opts(cwd), [
    '-c',
    'gpg.format=ssh',
    '-c',
    `gpg.ssh.allowedSignersFile=${allowedSigners}`,
    'verify-commit',
    commit,
  ]);
  const words = v.stderr.trim().split('\n').pop() ?? '';
  return v.code === 0 ? { state: 'good', detail: words } : { state: 'bad', detail: words || `git verify-commit exited ${v.code}` };
}

/**
 * Anchor one session's head: a commit on refs/cockpit/audit whose tree says `<seq> <hash>` for it. Two writers at
 * once: the loser of the compare-and-swap reads the new tip and tries again.
 */
export async function writeAnchor(cwd: string, sessionId: string, head: AnchorHead, signingKey?: string): Promise<void> {
  if (!SESSION_NAME.test(sessionId)) throw new Error(`'${sessionId}' is not a session id`);
  // Only the tree's listing is read: the new head's blob is compared by its hash, the other sessions' never opened.
  const blob = await blobOf(cwd, head);
  for (let attempt = 0; attempt < 8; attempt++) {
    const old = await tip(cwd, ANCHOR_REF);
    const blobs = await treeOf(cwd, old);
    if (blobs.get(sessionId) === blob) return;
    blobs.set(sessionId, blob);
    const tree = await writeTree(cwd, blobs);
    const commit = await commitTree(cwd, tree, old ? [old] : [], `anchor ${sessionId} #${head.seq} ${head.hash}\n`, signingKey);
    const moved = await gitTry(opts(cwd), ['update-ref', ANCHOR_REF, commit, old ?? '0'.repeat(40)]);
    if (moved.code === 0) return;
  }
  throw new Error(`${ANCHOR_REF} kept moving under other writers: gave up after 8 attempts`);
}

/** Fetch the remote's anchors to refs/cockpit/remotes/<remote>/audit; why not, when it cannot be reached. */
async function fetchRef(cwd: string, remote: string): Promise<{ ok: true } | { ok: false; why: string }> {
  const r = await gitTry(opts(cwd, 15_000), ['fetch', '--quiet', '--no-tags', remote, `+${ANCHOR_REF}:${remoteAnchorRef(remote)}`]);
  if (r.code === 0) return { ok: true };
  // A remote without anchors is not an error: it has nothing (more) to witness. A copy fetched from it earlier is
  // kept and still read: anchors deleted on the remote are not forgotten here.
  if (/couldn't find remote ref/i.test(r.stderr)) return { ok: true };
  return { ok: false, why: r.stderr.trim().split('\n').pop() || `git fetch exited with ${r.code}` };
}

/** The remote's anchors (fetched to refs/cockpit/remotes/<remote>/audit), or why they cannot be read. */
export async function fetchAnchors(
  cwd: string,
  remote: string,
): Promise<{ ok: true; anchors: Map<string, AnchorHead> } | { ok: false; why: string }> {
  const f = await fetchRef(cwd, remote);
  return f.ok ? { ok: true, anchors: await readAnchors(cwd, remoteAnchorRef(remote)) } : f;
}

/**
 * Push the anchors to `remote`. When the remote moved (another clone anchored its sessions), its anchors are fetched
 * and merged with ours (per session the longer head) in a merge commit, and the push is tried again.
 */
export async function pushAnchors(cwd: string, remote: string, signingKey?: string): Promise<{ ok: true } | { ok: false; why: string }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await gitTry(opts(cwd, 20_000), ['push', '--quiet', '--no-verify', remote, `${ANCHOR_REF}:${ANCHOR_REF}`]);
    if (r.code === 0) return { ok: true };
    if (!/rejected|non-fast-forward|fetch first/i.test(r.stderr))
      return { ok: false, why: r.stderr.trim().split('\n').pop() || 'git push failed' };
    const fetched = await fetchRef(cwd, remote);
    if (!fetched.ok) return fetched;
    const old = await tip(cwd, ANCHOR_REF);
    const merged = await readEntries(cwd, ANCHOR_REF);
    for (const [id, h] of await readEntries(cwd, remoteAnchorRef(remote))) {
      const m = merged.get(id);
      if (!m || h.seq > m.seq) merged.set(id, h);
    }
    const remoteTip = await tip(cwd, remoteAnchorRef(remote));
    const tree = await writeTree(cwd, new Map([...merged].map(([id, e]) => [id, e.blob])));
    const commit = await commitTree(
      cwd,
      tree,
      [old, remoteTip].filter((x): x is string => !!x),
      `merge the anchors of ${remote}\n`,
      signingKey,
    );
    await gitTry(opts(cwd), ['update-ref', ANCHOR_REF, commit, old ?? '0'.repeat(40)]);
  }
  return { ok: false, why: `${remote} kept moving: the anchors were not pushed` };
}

/** Is `cwd` a git work tree (anchoring is possible)? And does it have `remote`? */
export async function anchorPlace(cwd: string, remote: string): Promise<{ repo: boolean; remote: boolean }> {
  const inside = await gitTry(opts(cwd, 5_000), ['rev-parse', '--is-inside-work-tree']);
  if (inside.code !== 0) return { repo: false, remote: false };
  const url = await gitTry(opts(cwd, 5_000), ['remote', 'get-url', remote]);
  return { repo: true, remote: url.code === 0 };
}
