import { interpolate } from '../core/params.js';
import { checkTemplates, fail, failed, gitRun, refName, templateField } from './git-common.js';
import { defineStepKind, type SpecOf } from './define.js';
import type { StepContext } from './types.js';

const fields = { from: templateField, into: templateField, message: templateField.optional() };

type MergeSpec = SpecOf<typeof fields>;

function names(ctx: StepContext, spec: MergeSpec) {
  const from = refName(spec.from, ctx.params, 'the branch to merge');
  const into = refName(spec.into, ctx.params, 'the branch to merge into');
  if (!from.ok) return { error: from.reason };
  if (!into.ok) return { error: into.reason };
  return {
    from: from.name,
    into: into.name,
    message: spec.message ? interpolate(spec.message, ctx.params) : `Merge ${from.name} into ${into.name}`,
  };
}

/**
 * Merge one branch into another with a merge commit (`--no-ff`: the release stays visible in the history). A
 * conflict never leaves the repository half-merged: the merge is aborted, the conflicting files are listed, and
 * the step fails so the operator can merge by hand and retry (the retry then finds it merged).
 */
export const gitMergeStep = defineStepKind({
  kind: 'git.merge',
  refs: { from: 'the branch to merge', into: 'the branch to merge into' },
  fields,
  needs: ['git', 'run'],
  validate: (step, params) => checkTemplates(step, params, ['from', 'into', 'message']),
  describe({ spec, params }) {
    return `git switch ${interpolate(spec.into, params)} && git merge --no-ff ${interpolate(spec.from, params)}`;
  },
  async execute(ctx) {
    const n = names(ctx, ctx.spec);
    if ('error' in n) return fail(n.error!);
    for (const b of [n.from, n.into]) if (!(await ctx.git.branchExists(b))) return fail(`branch '${b}' does not exist`);
    if (await ctx.git.isAncestor(`refs/heads/${n.from}`, `refs/heads/${n.into}`)) {
      if ((await ctx.git.currentBranch()) !== n.into) {
        const f = failed(await gitRun(ctx, ['switch', n.into]), `switching to ${n.into}`);
        if (f) return f;
      }
      return { status: 'passed', exitCode: 0, via: 'probe' };
    }
    const sw = failed(await gitRun(ctx, ['switch', n.into]), `switching to ${n.into}`);
    if (sw) return sw;
    const r = await gitRun(ctx, ['merge', '--no-ff', '--no-edit', '-m', n.message, `refs/heads/${n.from}`]);
    if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator' };
    if (r.exitCode === 0) return { status: 'passed', exitCode: 0, via: 'command' };
    const conflicts = await ctx.git.conflictedFiles();
    // Never leave a half-done merge behind: abort it, whatever made it fail.
    await gitRun(ctx, ['merge', '--abort']);
    if (conflicts.length) {
      return fail(
        `merging ${n.from} into ${n.into} conflicts in ${conflicts.length} file(s): ${conflicts.join(', ')}. The merge was aborted: the repository is as it was. ` +
          `Resolve it by hand (git switch ${n.into} && git merge --no-ff ${n.from}, fix, commit), then retry this step: it will find the merge done.`,
      );
    }
    return failed(r, `merging ${n.from} into ${n.into}`) ?? fail(`merging ${n.from} into ${n.into} failed`);
  },
  /** Done when `from` is an ancestor of `into`: everything the merge would bring is there. */
  async probe(ctx) {
    const n = names(ctx, ctx.spec);
    if ('error' in n) return { result: 'unknown', detail: n.error! };
    const done = await ctx.git.isAncestor(`refs/heads/${n.from}`, `refs/heads/${n.into}`);
    return done
      ? { result: 'done', detail: `${n.from} is already merged into ${n.into}` }
      : { result: 'not-done', detail: `${n.from} is not merged into ${n.into} yet` };
  },
});
