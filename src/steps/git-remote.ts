import { z } from 'zod';
import { interpolate } from '../core/params.js';
import { checkTemplates, fail } from './git-common.js';
import { defineStepKind } from './define.js';

/**
 * Pre-flight for a release: the remote answers without asking for credentials (a hidden prompt would hang the
 * push at the very end, after the merges), the expected branches are there, and the release's tag is not taken
 * on the remote either. Read-only; each failure says how to fix it.
 */
export const gitRemoteStep = defineStepKind({
  kind: 'git.remote',
  fields: {
    remote: z.string().min(1).optional(),
    /** Branches that must exist on the remote already (main, develop). */
    branches: z.array(z.string().min(1)).optional(),
    /** Tags that must not be on the remote yet (v${version}). */
    tagFree: z.array(z.string().min(1)).optional(),
  },
  needs: ['git', 'release', 'log'],
  validate: (step, params) => checkTemplates(step, params, ['remote', 'branches', 'tagFree']),
  describe({ spec, params }) {
    const bits = [`git ls-remote ${interpolate(spec.remote ?? 'origin', params)} (read-only): reachable without a prompt`];
    if (spec.branches?.length) bits.push(`has ${spec.branches.map((b) => interpolate(b, params)).join(', ')}`);
    if (spec.tagFree?.length) bits.push(`has no ${spec.tagFree.map((t) => interpolate(t, params)).join(', ')} yet`);
    return bits.join('; ');
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const remote = interpolate(spec.remote ?? ctx.release.remote ?? 'origin', ctx.params);
    const seen = await ctx.git.probeRemote(remote);
    if (!seen.ok) return fail(`remote '${remote}': ${seen.why}`);
    const missing = (spec.branches ?? []).map((b) => interpolate(b, ctx.params)).filter((b) => !seen.refs.has(`refs/heads/${b}`));
    if (missing.length)
      return fail(
        `remote '${remote}' has no branch ${missing.join(', ')}: push it first (git push ${remote} ${missing.join(' ')}) or fix the name`,
      );
    const taken = (spec.tagFree ?? []).map((t) => interpolate(t, ctx.params)).filter((t) => seen.refs.has(`refs/tags/${t}`));
    if (taken.length)
      return fail(
        `remote '${remote}' already has tag ${taken.join(', ')}: that version was released; choose the next one (git fetch --tags shows it)`,
      );
    ctx.log(
      `${remote} answers (${seen.refs.size} refs); ${[...(spec.branches ?? []).map((b) => `${interpolate(b, ctx.params)} is there`), ...(spec.tagFree ?? []).map((t) => `${interpolate(t, ctx.params)} is free`)].join(', ') || 'nothing else asked'}`,
    );
    return { status: 'passed', via: 'command' };
  },
});
