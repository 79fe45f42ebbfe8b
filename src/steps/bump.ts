import semver from 'semver';
import { z } from 'zod';
import { interpolate } from '../core/params.js';
import {
  defaultVersionFiles,
  surveyVersions,
  versionFileSpecSchema,
  writeVersion,
  type VersionFileSpec,
} from '../core/release/version-files.js';
import { checkTemplates, fail, failed, gitRun, templateField } from './git-common.js';
import { defineStepKind, type SpecOf } from './define.js';
import type { StepContext } from './types.js';

const fields = { version: templateField, files: z.array(versionFileSpecSchema).min(1).optional(), commit: templateField.optional() };

type BumpSpec = SpecOf<typeof fields>;

/** The version files: the step's own list, else the config's `release.versionFiles`, else package.json + setup.py. */
function filesOf(ctx: StepContext<unknown, 'release'>, spec: BumpSpec): VersionFileSpec[] {
  return spec.files ?? ctx.release.versionFiles ?? defaultVersionFiles();
}

/** What each version file says in the working tree. */
function survey(ctx: StepContext<unknown, 'files'>, files: VersionFileSpec[]) {
  return surveyVersions(
    files,
    files.map((f) => ctx.files.read(f.file)),
  );
}

/** What each version file says in the commit HEAD points at: what a tag or a merge of HEAD would carry. */
async function surveyHead(ctx: StepContext<unknown, 'git'>, files: VersionFileSpec[]) {
  return surveyVersions(files, await Promise.all(files.map((f) => ctx.git.fileAt('HEAD', f.file))), ' in HEAD');
}

/**
 * Write the new version into every version file (the config's list, else package.json and setup.py), check
 * that all of them now agree, and commit the change. A file that cannot be read or written stops the step before
 * anything is written; files that disagree afterwards stop it before anything is tagged.
 *
 * What it proves (execute and probe alike): HEAD is a commit whose tree has every version file at the new version —
 * what the merge and the tag after it carry. The working tree saying so is not enough: a commit refused by a
 * pre-commit hook, or by a machine without a git identity, leaves the files written but nothing committed, and a
 * retry commits them then.
 */
export const bumpStep = defineStepKind({
  kind: 'bump',
  fields,
  needs: ['files', 'git', 'release', 'run'],
  validate: (step, params) => checkTemplates(step, params, ['version', 'commit']),
  describe({ spec, params, settings }) {
    // The files it would write, as execute picks them: the step's own, the config's, or the defaults (said so).
    const configured = spec.files ?? settings?.release?.versionFiles;
    const files = configured
      ? configured.map((f) => f.file).join(', ')
      : `the default version files (${defaultVersionFiles()
          .map((f) => f.file)
          .join(', ')}; release.versionFiles in cockpit.config.yaml names others)`;
    return `write version ${interpolate(spec.version, params)} into ${files}; check they agree; git commit -m "${interpolate(spec.commit ?? 'chore(release): ${version}', params)}"`;
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const version = interpolate(spec.version, ctx.params).replace(/^v/, '');
    if (!semver.valid(version)) return fail(`'${version}' is not a semantic version`);
    const files = filesOf(ctx, spec);
    const before = survey(ctx, files);
    const problems = before.filter((b) => b.problem);
    if (problems.length) return fail(`cannot bump: ${problems.map((p) => p.problem).join('; ')}`);
    // Every new text first, then the writes: one that cannot be made stops the step with nothing written.
    const next: Array<{ file: string; text: string }> = [];
    for (const b of before) {
      if (b.version === version) continue;
      const w = writeVersion(b.text!, b.spec, version);
      if (!w.ok) return fail(`cannot bump: ${w.message}`);
      next.push({ file: b.spec.file, text: w.text });
    }
    for (const n of next) ctx.files.write(n.file, n.text);
    const after = survey(ctx, files);
    const disagree = after.filter((a) => a.version !== version);
    if (disagree.length) {
      return fail(
        `the version files disagree after the bump: ${after.map((a) => `${a.spec.file} says ${a.version ?? a.problem}`).join(', ')}; expected ${version} everywhere`,
      );
    }
    // What HEAD lacks is committed, whether written just now or by an earlier attempt whose commit was refused.
    const uncommitted = (await surveyHead(ctx, files)).filter((h) => h.version !== version).map((h) => h.spec.file);
    if (uncommitted.length) {
      const add = failed(await gitRun(ctx, ['add', '--', ...uncommitted]), 'staging the version files');
      if (add) return add;
      const message = interpolate(spec.commit ?? 'chore(release): ${version}', { ...ctx.params, version });
      const c = failed(
        await gitRun(ctx, ['commit', '-m', message, '--', ...uncommitted]),
        'committing the version files (a hook that refused says why above)',
      );
      if (c) return c;
    }
    const head = await surveyHead(ctx, files);
    const behind = head.filter((h) => h.version !== version);
    if (behind.length)
      return fail(
        `after the commit, HEAD still does not say ${version}: ${behind.map((b) => `${b.spec.file} says ${b.version ?? b.problem}`).join(', ')}`,
      );
    return { status: 'passed', exitCode: 0, via: 'command' };
  },
  /** Done when HEAD's tree has every version file at the new version (see above); written but not committed is not done. */
  async probe(ctx) {
    const spec = ctx.spec;
    const version = interpolate(spec.version, ctx.params).replace(/^v/, '');
    const head = await surveyHead(ctx, filesOf(ctx, spec));
    const behind = head.filter((n) => n.version !== version);
    return behind.length
      ? { result: 'not-done', detail: `HEAD is not at ${version} yet: ${behind.map((b) => b.spec.file).join(', ')}` }
      : { result: 'done', detail: `every version file says ${version} in HEAD` };
  },
});
