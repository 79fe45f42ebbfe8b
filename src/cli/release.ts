import { gitReader } from '../adapters/git.js';
import {
  chooseHotfixVersion,
  chooseVersion,
  isReleaseBookkeeping,
  parseCommit,
  suggestVersion,
  type Suggestion,
} from '../core/release/commits.js';
import { neutralize } from '../core/sanitize.js';
import { cliContext, parseParams, runChecklist, type RunFlags } from './commands.js';
import { UsageError, Workspace, type GlobalOptions } from './setup.js';

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

/**
 * `cockpit release [major|minor|patch|X.Y.Z]`: the release checklist with its version decided from the commits.
 * Without a version the suggestion is used: in a terminal it is offered in the parameter form (the operator may
 * change it), without one it is taken as it is (and said so). Any version must be greater than the last release.
 */
export async function cmdRelease(g: GlobalOptions, choice: string | undefined, flags: RunFlags): Promise<number> {
  const ws = new Workspace(g);
  const plan = await planRelease(ws.repoDir);
  const lastVersion = plan.last?.version ?? '0.0.0';
  const since = plan.last ? `since ${plan.last.tag}` : 'in the whole history (no release tag yet)';
  const say = (s: string) => process.stdout.write(neutralize(s));
  let version: string | null = null;
  if (choice) {
    const c = chooseVersion(lastVersion, choice);
    if (!c.ok) throw new UsageError(c.message);
    version = c.version;
  }
  const screen = !flags.nonInteractive && !flags.json && !flags.plain && !flags.dryRun && !!process.stdin.isTTY && !!process.stdout.isTTY;
  if (!version && screen) {
    // The form offers the suggestion; the operator accepts it with enter or types another version.
    const { runTui } = await (await import('./load-tui.js')).loadTui();
    return runTui(ws, async (services) => {
      const home = await services.home();
      const entry = home.checklists.find((c) => c.id === 'release');
      if (!entry) throw new UsageError("no checklist 'release' here");
      const params = { ...entry.params };
      if (params.version) {
        params.version = {
          ...params.version,
          ...(plan.suggestion.version ? { default: plan.suggestion.version } : {}),
          description: `suggested from ${plan.commits} commit(s) ${since}: ${plan.suggestion.reason}`,
        };
      }
      return { name: 'form', checklist: { ...entry, params } };
    });
  }
  if (!version) {
    if (!plan.suggestion.version)
      throw new UsageError(
        `nothing to suggest ${since}: ${plan.suggestion.reason}. Give the version: cockpit release <major|minor|patch|X.Y.Z>`,
      );
    version = plan.suggestion.version;
    if (!flags.json) say(`release ${version}: suggested from ${plan.commits} commit(s) ${since}: ${plan.suggestion.reason}\n`);
  } else if (!flags.json)
    say(
      `release ${version} (last release ${plan.last?.version ?? 'none'}; the commits ${since} suggest ${plan.suggestion.version ?? 'no release'}: ${plan.suggestion.reason})\n`,
    );
  // The chosen version is a value: a `-p version=…` given too is overridden by it.
  const params = Object.assign(parseParams(flags.param), { version });
  return runChecklist(cliContext(ws), { checklist: 'release', params, yes: flags.yes }, flags);
}

/**
 * `cockpit hotfix <issue> [X.Y.Z]`: the hotfix checklist for the release on main. A hotfix from vX.Y.Z may only be
 * X.Y.(Z+n); without a version it is the next patch.
 */
export async function cmdHotfix(g: GlobalOptions, issue: string, choice: string | undefined, flags: RunFlags): Promise<number> {
  const ws = new Workspace(g);
  const git = gitReader(ws.repoDir);
  if (!(await git.isRepo())) throw new UsageError(`${ws.repoDir} is not a git repository`);
  if (!(await git.branchExists('main'))) throw new UsageError("a hotfix branches from main, and there is no branch 'main' here");
  const last = await git.lastRelease('main');
  if (!last) throw new UsageError('no release tag (vX.Y.Z) on main: there is no production release to hotfix');
  const c = chooseHotfixVersion(last.version, choice);
  if (!c.ok) throw new UsageError(c.message);
  if (!flags.json) process.stdout.write(neutralize(`hotfix ${c.version} for ${issue}, on top of ${last.tag} (the release on main)\n`));
  const params = Object.assign(parseParams(flags.param), { version: c.version, issue });
  return runChecklist(cliContext(ws), { checklist: 'hotfix', params, yes: flags.yes }, flags);
}
