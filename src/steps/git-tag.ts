import { z } from 'zod';
import { interpolate } from '../core/params.js';
import { defaultVersionFiles, surveyVersions } from '../core/release/version-files.js';
import { checkTemplates, fail, failed, gitRun, refName, templateField } from './git-common.js';
import { defineStepKind, type SpecOf } from './define.js';
import type { StepContext } from './types.js';

const fields = {
  name: templateField,
  at: templateField.optional(),
  message: templateField.optional(),
  /** A file in the repository whose text is the tag's message (the release notes). */
  messageFile: z.string().min(1).optional(),
  /** The version the version files (release.versionFiles, else the defaults) must say in the tagged commit. */
  version: templateField.optional(),
};

type TagSpec = SpecOf<typeof fields>;

async function where(ctx: StepContext<unknown, 'git'>, spec: TagSpec) {
  const name = refName(spec.name, ctx.params, 'the tag name');
  const at = refName(spec.at ?? 'HEAD', ctx.params, 'what to tag');
  if (!name.ok) return { error: name.reason };
  if (!at.ok) return { error: at.reason };
  const target = await ctx.git.revParse(at.name);
  if (!target) return { error: `'${at.name}' does not exist` };
  return { name: name.name, at: at.name, target, existing: await ctx.git.tagCommit(name.name) };
}

/** Why the commit to be tagged does not carry `version` in its version files (null when it does). */
async function versionMismatch(ctx: StepContext<unknown, 'git' | 'release'>, spec: TagSpec, target: string): Promise<string | null> {
  if (!spec.version) return null;
  const version = interpolate(spec.version, ctx.params).replace(/^v/, '');
  const files = ctx.release.versionFiles ?? defaultVersionFiles();
  const seen = surveyVersions(files, await Promise.all(files.map((f) => ctx.git.fileAt(target, f.file))), ` in ${target.slice(0, 10)}`);
  const wrong = seen.filter((s) => s.version !== version);
  if (!wrong.length) return null;
  return `the commit to tag (${target.slice(0, 10)}) does not say ${version}: ${wrong.map((w) => (w.version ? `${w.spec.file} says ${w.version}` : w.problem)).join(', ')}. Bump and merge first; a tag on it would name a version its files do not carry`;
}

/**
 * An annotated tag (vX.Y.Z, its message the release notes). Already there at the same commit: passes; elsewhere:
 * fails. With `version`, a commit whose version files say anything else is refused. The probe proves the tag
 * exists on the commit `at` names now.
 */
export const gitTagStep = defineStepKind({
  kind: 'git.tag',
  refs: { name: 'the tag name', at: 'what to tag' },
  fields,
  needs: ['git', 'files', 'release', 'run'],
  validate: (step, params) => checkTemplates(step, params, ['name', 'at', 'message', 'messageFile', 'version']),
  describe({ spec, params }) {
    return `git tag -a ${interpolate(spec.name, params)} ${interpolate(spec.at ?? 'HEAD', params)}${spec.messageFile ? ` -F ${interpolate(spec.messageFile, params)}` : ''}`;
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const w = await where(ctx, spec);
    if ('error' in w) return fail(w.error!);
    if (w.existing) {
      if (w.existing === w.target) return { status: 'passed', exitCode: 0, via: 'probe' };
      return fail(
        `tag ${w.name} already exists, on ${w.existing.slice(0, 10)}, not on ${w.at} (${w.target.slice(0, 10)}): a release cannot reuse a version. Choose the next version, or delete the tag if it was made by mistake and never pushed.`,
      );
    }
    const mismatch = await versionMismatch(ctx, spec, w.target);
    if (mismatch) return fail(mismatch);
    // verbatim: the message is the release notes, whose Markdown headings start with '#' (git would strip them as comments).
    const args = ['tag', '-a', '--cleanup=verbatim', w.name, w.target];
    if (spec.messageFile) {
      const rel = interpolate(spec.messageFile, ctx.params);
      if (ctx.files.read(rel) === null) return fail(`the tag message file ${rel} does not exist`);
      args.push('-F', rel);
    } else args.push('-m', spec.message ? interpolate(spec.message, ctx.params) : w.name);
    return failed(await gitRun(ctx, args), `tagging ${w.name}`) ?? { status: 'passed', exitCode: 0, via: 'command' };
  },
  async probe(ctx) {
    const w = await where(ctx, ctx.spec);
    if ('error' in w) return { result: 'unknown', detail: w.error! };
    if (!w.existing) return { result: 'not-done', detail: `no tag ${w.name} yet` };
    return w.existing === w.target
      ? { result: 'done', detail: `tag ${w.name} is already on ${w.at}` }
      : { result: 'unknown', detail: `tag ${w.name} exists on another commit` };
  },
});
