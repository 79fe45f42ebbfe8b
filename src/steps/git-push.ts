import { z } from 'zod';
import { interpolate } from '../core/params.js';
import { checkTemplates, fail, failed, gitRun, refName } from './git-common.js';
import { defineStepKind, type SpecOf } from './define.js';
import type { StepContext } from './types.js';

const fields = {
  remote: z.string().min(1).optional(),
  /** Branches and tags to push, by name (`main`, `develop`, `v${version}`). */
  refs: z.array(z.string().min(1)).min(1),
};

type PushSpec = SpecOf<typeof fields>;

/** Each ref as a full local ref name and the commit it points to (tags peeled). */
async function locals(ctx: StepContext<unknown, 'git'>, spec: PushSpec) {
  const out: Array<{ name: string; ref: string; sha: string }> = [];
  for (const t of spec.refs) {
    const r = refName(t, ctx.params, 'a ref to push');
    if (!r.ok) return { error: r.reason };
    if (await ctx.git.branchExists(r.name))
      out.push({ name: r.name, ref: `refs/heads/${r.name}`, sha: (await ctx.git.revParse(`refs/heads/${r.name}`))! });
    else {
      const tag = await ctx.git.tagCommit(r.name);
      if (!tag) return { error: `'${r.name}' is neither a local branch nor a tag` };
      out.push({ name: r.name, ref: `refs/tags/${r.name}`, sha: tag });
    }
  }
  return { refs: out };
}

function remoteOf(ctx: StepContext<unknown, 'release'>, spec: PushSpec) {
  return interpolate(spec.remote ?? ctx.release.remote ?? 'origin', ctx.params);
}

/** The audit anchors (adapters/anchor.ts), pushed with a release's push so the remote witnesses them even if the session is never finished. */
const ANCHORS = 'refs/cockpit/audit';

/**
 * Push branches and tags in one atomic push: all of them or none. Already on the remote at the same commits: passes.
 * Then the audit anchors, on their own: a remote that refuses them (it moved: another clone anchored) fails nothing,
 * the session's end pushes them again, merged.
 */
export const gitPushStep = defineStepKind({
  kind: 'git.push',
  refs: { refs: 'a ref to push' },
  fields,
  needs: ['git', 'run', 'release', 'log'],
  validate: (step, params) => checkTemplates(step, params, ['remote', 'refs']),
  describe({ spec, params }) {
    return `git push --atomic ${interpolate(spec.remote ?? 'origin', params)} ${spec.refs.map((r) => interpolate(r, params)).join(' ')}`;
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const remote = remoteOf(ctx, spec);
    const l = await locals(ctx, spec);
    if ('error' in l) return fail(l.error!);
    const r = await gitRun(ctx, ['push', '--atomic', '--porcelain', '--', remote, ...l.refs!.map((x) => `${x.ref}:${x.ref}`)]);
    const refused = failed(r, `pushing to ${remote}`);
    if (refused) return refused;
    if (await ctx.git.revParse(ANCHORS)) {
      const a = await gitRun(ctx, ['push', '--porcelain', '--', remote, `${ANCHORS}:${ANCHORS}`]);
      if (a.exitCode !== 0) ctx.log(`the audit anchors (${ANCHORS}) were not pushed now; the session's end pushes them again, merged`);
    }
    return { status: 'passed', exitCode: 0, via: 'command' };
  },
  /** Done when the remote has every ref at the commit it has here (a ref behind or missing is not done). */
  async probe(ctx) {
    const spec = ctx.spec;
    const remote = remoteOf(ctx, spec);
    const l = await locals(ctx, spec);
    if ('error' in l) return { result: 'unknown', detail: l.error! };
    const seen = await ctx.git.probeRemote(remote);
    if (!seen.ok) return { result: 'unknown', detail: seen.why };
    const missing = l.refs!.filter((x) => seen.refs.get(x.ref) !== x.sha);
    return missing.length
      ? { result: 'not-done', detail: `not on ${remote} yet: ${missing.map((x) => x.name).join(', ')}` }
      : { result: 'done', detail: `already on ${remote}: ${l.refs!.map((x) => x.name).join(', ')}` };
  },
});
