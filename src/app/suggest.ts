/**
 * What the parameter form offers before the operator types: the next release's version from the commits, a
 * hotfix's from the release on main, the version a deploy is about. Each comes with its reason, shown under the
 * field; the operator accepts it with enter or types another.
 */
import { gitReader } from '../adapters/git.js';
import type { ParamDef } from '../core/checklist/types.js';
import { chooseHotfixVersion, isReleaseBookkeeping, parseCommit, suggestVersion, type Suggestion } from '../core/release/commits.js';
import type { ParamSuggestion } from '../core/params.js';
import { UsageError } from './errors.js';

export interface ReleasePlan {
  last: { tag: string; version: string } | null;
  base: string;
  commits: number;
  suggestion: Suggestion;
}

/**
 * What the conventional commits on develop since the last release tag say the next version is. A release is cut
 * from develop: without it there is nothing to suggest from (HEAD may be anything) and nothing to branch from.
 */
export async function planRelease(repoDir: string): Promise<ReleasePlan> {
  const git = gitReader(repoDir);
  if (!(await git.isRepo())) throw new UsageError(`${repoDir} is not a git repository`);
  const base = 'develop';
  if (!(await git.branchExists(base)))
    throw new UsageError(
      "no branch 'develop' here: a release is cut from develop, and its version is suggested from develop's commits. Fetch it (git fetch origin develop && git branch develop origin/develop) or create it",
    );
  const last = await git.lastRelease(base);
  const commits = (await git.commitsBetween(last?.commit ?? null, base)).map(parseCommit).filter((c) => !isReleaseBookkeeping(c));
  return {
    last: last && { tag: last.tag, version: last.version },
    base,
    commits: commits.length,
    suggestion: suggestVersion(last?.version ?? '0.0.0', commits),
  };
}

/** The words of a release plan's suggestion: "from 3 commit(s) since v1.3.0: 1 feature (…) → minor". */
export function releaseReason(plan: ReleasePlan): string {
  const since = plan.last ? `since ${plan.last.tag}` : 'in the whole history (no release tag yet)';
  return `from ${plan.commits} commit(s) ${since}: ${plan.suggestion.reason}`;
}

/** Checklists whose `version` is the release on main: what is in production, or about to be deployed there. */
const DEPLOYS = new Set(['deploy-production', 'deploy-staging', 'post-deploy-watch']);

/**
 * Suggestions for a checklist's parameters, by what the checklist is (the default checklists' ids). A suggestion
 * that cannot be made says why (value null): the field stays empty and the reason is shown.
 */
export async function suggestParams(
  repoDir: string,
  checklistId: string,
  params: Record<string, ParamDef>,
): Promise<Record<string, ParamSuggestion>> {
  if (params.version?.type !== 'semver') return {};
  const why = (e: unknown) => ({ version: { value: null, reason: (e as Error).message } });
  const git = gitReader(repoDir);
  try {
    if (checklistId === 'release') {
      const plan = await planRelease(repoDir);
      return { version: { value: plan.suggestion.version, reason: releaseReason(plan) } };
    }
    if (checklistId !== 'hotfix' && !DEPLOYS.has(checklistId)) return {};
    if (!(await git.isRepo())) return why(new Error(`${repoDir} is not a git repository`));
    const main = (await git.branchExists('main')) ? await git.lastRelease('main') : null;
    if (!main) return { version: { value: null, reason: 'no release tag (vX.Y.Z) on main to start from' } };
    if (checklistId === 'hotfix') {
      const c = chooseHotfixVersion(main.version, undefined);
      return c.ok
        ? { version: { value: c.version, reason: `the next patch of ${main.tag}, the release on main` } }
        : { version: { value: null, reason: c.message } };
    }
    return { version: { value: main.version, reason: `${main.tag}, the newest release tag on main` } };
  } catch (e) {
    return why(e);
  }
}
