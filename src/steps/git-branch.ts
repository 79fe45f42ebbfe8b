import { z } from 'zod';
import { interpolate } from '../core/params.js';
import { checkTemplates, fail, failed, gitRun, refName, templateField } from './git-common.js';
import { defineStepKind, type SpecOf } from './define.js';
import type { StepContext } from './types.js';

const fields = { name: templateField, from: templateField, checkout: z.boolean().optional() };

type BranchSpec = SpecOf<typeof fields>;

async function state(ctx: StepContext<unknown, 'git'>, spec: BranchSpec) {
  const name = refName(spec.name, ctx.params, 'the branch name');
  const from = refName(spec.from, ctx.params, "the branch's starting point");
  if (!name.ok) return { error: name.reason };
  if (!from.ok) return { error: from.reason };
  const base = await ctx.git.revParse(from.name);
  if (!base) return { error: `'${from.name}' does not exist in this repository (git rev-parse found nothing)` };
  const exists = await ctx.git.branchExists(name.name);
  // A branch of that name made earlier (by a run that stopped, or a release already done) shares history with
  // where it was cut from, though both may have moved on since; one that shares none is someone else's branch.
  const related = exists ? (await ctx.git.mergeBase(`refs/heads/${name.name}`, base)) !== null : false;
  return { name: name.name, from: from.name, base, exists, related };
}

/** Create a branch from a ref (release/vX.Y.Z from develop), and check it out. Already there (a resume): passes. */
export const gitBranchStep = defineStepKind({
  kind: 'git.branch',
  refs: { name: 'the branch name', from: "the branch's starting point" },
  fields,
  needs: ['git', 'run'],
  validate: (step, params) => checkTemplates(step, params, ['name', 'from']),
  describe({ spec, params }) {
    const name = interpolate(spec.name, params);
    return `git branch ${name} ${interpolate(spec.from, params)}${spec.checkout === false ? '' : ` && git switch ${name}`}`;
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const s = await state(ctx, spec);
    if ('error' in s) return fail(s.error!);
    if (s.exists && !s.related) {
      return fail(
        `branch '${s.name}' already exists and shares no history with ${s.from}: it is not the branch this step would make. Look at it (git log ${s.name}), then delete or rename it by hand and retry.`,
      );
    }
    if (!s.exists) {
      const r = await gitRun(ctx, ['branch', '--no-track', s.name, s.base]);
      const f = failed(r, `creating ${s.name}`);
      if (f) return f;
    }
    if (spec.checkout !== false && (await ctx.git.currentBranch()) !== s.name) {
      const r = await gitRun(ctx, ['switch', s.name]);
      const f = failed(r, `switching to ${s.name}`);
      if (f) return f;
    }
    return { status: 'passed', exitCode: 0, via: 'command' };
  },
  /** Done when the branch exists, shares history with where it was to be cut from, and (unless checkout: false) is checked out. */
  async probe(ctx) {
    const s = await state(ctx, ctx.spec);
    if ('error' in s) return { result: 'unknown', detail: s.error! };
    if (!s.exists) return { result: 'not-done', detail: `branch ${s.name} does not exist yet` };
    if (!s.related) return { result: 'unknown', detail: `branch ${s.name} exists but shares no history with ${s.from}` };
    if (ctx.spec.checkout !== false && (await ctx.git.currentBranch()) !== s.name)
      return { result: 'not-done', detail: `branch ${s.name} exists; it is not checked out yet` };
    return { result: 'done', detail: `branch ${s.name} exists (cut from ${s.from})` };
  },
});
