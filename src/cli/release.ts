import { gitReader } from '../adapters/git.js';
import { planRelease, releaseReason } from '../app/suggest.js';
import { chooseHotfixVersion, chooseVersion } from '../core/release/commits.js';
import { neutralize } from '../core/sanitize.js';
import { cliContext, parseParams, paramForm, runChecklist, wantsForm, type RunFlags } from './commands.js';
import { UsageError, Workspace, type GlobalOptions } from './setup.js';

export { planRelease, type ReleasePlan } from '../app/suggest.js';

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
  if (!version && wantsForm(flags)) {
    // The form offers the suggestion with its reason; the operator accepts it with enter or types another version.
    const given = parseParams(flags.param);
    delete given.version;
    return paramForm(ws, 'release', given, flags.yes);
  }
  if (!version) {
    if (!plan.suggestion.version)
      throw new UsageError(
        `nothing to suggest ${since}: ${plan.suggestion.reason}. Give the version: cockpit release <major|minor|patch|X.Y.Z>`,
      );
    version = plan.suggestion.version;
    if (!flags.json) say(`release ${version}: suggested ${releaseReason(plan)}\n`);
  } else if (!flags.json)
    say(
      `release ${version} (last release ${plan.last?.version ?? 'none'}; the commits ${since} suggest ${plan.suggestion.version ?? 'no release'}: ${plan.suggestion.reason})\n`,
    );
  // The chosen version is a value: a `-p version=…` given too is overridden by it.
  const params = Object.assign(parseParams(flags.param), { version });
  return runChecklist(cliContext(ws), { checklist: 'release', params, yes: flags.yes }, flags);
}

/**
 * `cockpit hotfix [issue] [X.Y.Z]`: the hotfix checklist for the release on main. A hotfix from vX.Y.Z may only be
 * X.Y.(Z+n); without a version it is the next patch. Without the issue id, a terminal opens the form (the version
 * suggested); without a terminal it is bad usage.
 */
export async function cmdHotfix(g: GlobalOptions, issue: string | undefined, choice: string | undefined, flags: RunFlags): Promise<number> {
  const ws = new Workspace(g);
  const git = gitReader(ws.repoDir);
  if (!(await git.isRepo())) throw new UsageError(`${ws.repoDir} is not a git repository`);
  if (!(await git.branchExists('main'))) throw new UsageError("a hotfix branches from main, and there is no branch 'main' here");
  const last = await git.lastRelease('main');
  if (!last) throw new UsageError('no release tag (vX.Y.Z) on main: there is no production release to hotfix');
  const c = chooseHotfixVersion(last.version, choice);
  if (!c.ok) throw new UsageError(c.message);
  issue ??= parseParams(flags.param).issue;
  if (!issue) {
    if (!wantsForm(flags))
      throw new UsageError(
        `a hotfix needs the issue id of the production problem: ${ws.command(['hotfix'])} <issue> [X.Y.Z], e.g. ${ws.command(['hotfix', 'PROP-123'])}`,
      );
    return paramForm(ws, 'hotfix', parseParams(flags.param), flags.yes);
  }
  if (!flags.json) process.stdout.write(neutralize(`hotfix ${c.version} for ${issue}, on top of ${last.tag} (the release on main)\n`));
  const params = Object.assign(parseParams(flags.param), { version: c.version, issue });
  return runChecklist(cliContext(ws), { checklist: 'hotfix', params, yes: flags.yes }, flags);
}
