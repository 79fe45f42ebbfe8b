import { z } from 'zod';
import { interpolate } from '../core/params.js';
import { defaultVersionFiles, surveyVersions } from '../core/release/version-files.js';
import { checkTemplates, fail } from './git-common.js';
import { defineStepKind } from './define.js';

/**
 * Pre-flight for a release, read-only, before its first write. It proves what the later steps rely on and could
 * only find out after branches were made:
 * - git can write commits and tags here (an identity: user.name and user.email, or the GIT_* variables);
 * - the version files exist and say a version (with `versionFiles: true`);
 * - the expected branches are there, here and on the remote;
 * - the remote answers without asking for credentials (a hidden prompt would hang the push at the very end,
 *   after the merges);
 * - the release's tag is taken neither here nor on the remote.
 * Each failure says how to fix it.
 */
export const gitRemoteStep = defineStepKind({
  kind: 'git.remote',
  rerunSafe: true,
  fields: {
    remote: z.string().min(1).optional(),
    /** Branches that must exist on the remote already (main, develop). */
    branches: z.array(z.string().min(1)).optional(),
    /** Tags that must not be on the remote yet (v${version}). */
    tagFree: z.array(z.string().min(1)).optional(),
    /** Check the version files (release.versionFiles, else the defaults) exist and say a version. */
    versionFiles: z.boolean().optional(),
  },
  needs: ['git', 'files', 'release', 'log'],
  validate: (step, params) => checkTemplates(step, params, ['remote', 'branches', 'tagFree']),
  describe({ spec, params }) {
    const bits = [`git ls-remote ${interpolate(spec.remote ?? 'origin', params)} (read-only): reachable without a prompt`];
    if (spec.branches?.length) bits.push(`has ${spec.branches.map((b) => interpolate(b, params)).join(', ')}`);
    if (spec.tagFree?.length) bits.push(`has no ${spec.tagFree.map((t) => interpolate(t, params)).join(', ')} yet`);
    return bits.join('; ');
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const who = await ctx.git.identity();
    if (!who.ok)
      return fail(
        `git cannot write commits here: ${who.why}. Set it before the release writes anything: git config user.name "Your Name" && git config user.email you@example.com`,
      );
    if (spec.versionFiles) {
      const files = ctx.release.versionFiles ?? defaultVersionFiles();
      const bad = surveyVersions(
        files,
        files.map((f) => ctx.files.read(f.file)),
      ).filter((s) => s.problem);
      if (bad.length)
        return fail(
          `the version files the bump will write are not readable: ${bad.map((b) => b.problem).join('; ')}. Name yours in cockpit.config.yaml (release.versionFiles)`,
        );
    }
    const branches = (spec.branches ?? []).map((b) => interpolate(b, ctx.params));
    const absent: string[] = [];
    for (const b of branches) if (!(await ctx.git.branchExists(b))) absent.push(b);
    if (absent.length)
      return fail(
        `this repository has no branch ${absent.join(', ')}: fetch it (git fetch origin ${absent.join(' ')}; git branch ${absent[0]} origin/${absent[0]}) or create it`,
      );
    const tagsHere: string[] = [];
    for (const tag of (spec.tagFree ?? []).map((x) => interpolate(x, ctx.params))) if (await ctx.git.tagCommit(tag)) tagsHere.push(tag);
    if (tagsHere.length) return fail(`tag ${tagsHere.join(', ')} already exists here: that version was released; choose the next one`);
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
    ctx.log(`git writes as ${who.ident}`);
    ctx.log(
      `${remote} answers (${seen.refs.size} refs); ${[...(spec.branches ?? []).map((b) => `${interpolate(b, ctx.params)} is there`), ...(spec.tagFree ?? []).map((t) => `${interpolate(t, ctx.params)} is free`)].join(', ') || 'nothing else asked'}`,
    );
    return { status: 'passed', via: 'command' };
  },
});
