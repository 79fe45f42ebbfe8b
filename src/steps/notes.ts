import { z } from 'zod';
import { interpolate } from '../core/params.js';
import type { ReleaseCommits } from '../core/events.js';
import { isReleaseBookkeeping, parseCommit, type ParsedCommit } from '../core/release/commits.js';
import { insertChangelogSection, renderNotes } from '../core/release/notes.js';
import { checkTemplates, fail, failed, gitRun, refName, templateField } from './git-common.js';
import { defineStepKind, type SpecOf } from './define.js';
import type { StepContext, StepOutcome } from './types.js';

const fields = {
  version: templateField,
  /** The commits to describe end here (default HEAD); they start after the last release tag reachable from it. */
  to: templateField.optional(),
  changelog: z.string().min(1).optional(),
  /** Where the draft is written for the operator to read and edit before approving (and for the tag message). */
  draft: z.string().min(1).optional(),
};

type NotesSpec = SpecOf<typeof fields>;

const DEFAULT_DRAFT = '.cockpit/release-notes/v${version}.md';

function files(ctx: StepContext, spec: NotesSpec) {
  const version = interpolate(spec.version, ctx.params).replace(/^v/, '');
  const params = { ...ctx.params, version };
  return {
    version,
    changelog: interpolate(spec.changelog ?? 'CHANGELOG.md', params),
    draft: interpolate(spec.draft ?? DEFAULT_DRAFT, params),
  };
}

/** Does the changelog in HEAD (what the merge and the tag carry) have the version's section? */
async function committed(ctx: StepContext<unknown, 'git'>, changelog: string, version: string): Promise<boolean> {
  return insertChangelogSection((await ctx.git.fileAt('HEAD', changelog)) ?? '', version, '').alreadyThere;
}

/** Stage and commit the changelog; the outcome of a refusal (a hook says why above), or null once committed. */
async function commitChangelog(ctx: StepContext<unknown, 'run'>, changelog: string, version: string): Promise<StepOutcome | null> {
  const add = failed(await gitRun(ctx, ['add', '--', changelog]), `staging ${changelog}`);
  if (add) return add;
  return failed(await gitRun(ctx, ['commit', '-m', `docs(changelog): ${version}`, '--', changelog]), `committing ${changelog}`);
}

/** The commits the notes describe, as the pass records them (the first one starts the release's lead time). */
function releaseCommits(version: string, previousTag: string | null, commits: ParsedCommit[]): ReleaseCommits {
  const dates = commits.map((c) => c.date);
  return {
    version,
    commits: commits.length,
    firstCommitAt: dates.length ? Math.min(...dates) : null,
    lastCommitAt: dates.length ? Math.max(...dates) : null,
    previousTag,
  };
}

/** The commits since the last release up to `to`, without the release's own bookkeeping (the version bump). */
async function commitsSinceRelease(ctx: StepContext<unknown, 'git'>, to: string) {
  const last = await ctx.git.lastRelease(to);
  const commits = (await ctx.git.commitsBetween(last?.commit ?? null, to)).map(parseCommit).filter((c) => !isReleaseBookkeeping(c));
  return { last, commits };
}

/**
 * Release notes from the commits since the last release: grouped (breaking changes first, then features, fixes,
 * others) with scopes, references and authors. The draft is written to a file and shown; the operator reads or
 * edits it and approves, and what they approved goes into CHANGELOG.md (committed) and the audit log.
 */
export const notesStep = defineStepKind({
  kind: 'notes',
  fields,
  needs: ['git', 'files', 'run', 'confirm', 'log', 'clock', 'clean'],
  validate: (step, params) => checkTemplates(step, params, ['version', 'to', 'changelog', 'draft']),
  describe({ spec, params }) {
    const version = interpolate(spec.version, params);
    return `release notes for ${version} from the commits since the last release tag (up to ${interpolate(spec.to ?? 'HEAD', params)}); draft in ${interpolate(spec.draft ?? DEFAULT_DRAFT, { ...params, version })}, approved notes into ${spec.changelog ?? 'CHANGELOG.md'} (committed)`;
  },
  async execute(ctx) {
    const spec = ctx.spec;
    const f = files(ctx, spec);
    const to = refName(spec.to ?? 'HEAD', ctx.params, 'the end of the range');
    if (!to.ok) return fail(to.reason);
    const existing = ctx.files.read(f.changelog) ?? '';
    // The release's own bookkeeping commits (chore(release): the version bump) are not news.
    const { last, commits } = await commitsSinceRelease(ctx, to.name);
    const release = releaseCommits(f.version, last?.tag ?? null, commits);
    if (await committed(ctx, f.changelog, f.version)) {
      ctx.log(`${f.changelog} already has a section for ${f.version} in HEAD: nothing to write.`);
      return { status: 'passed', via: 'probe', release };
    }
    // Approved and written by an earlier attempt whose commit was refused (a hook, no git identity): commit it now.
    if (insertChangelogSection(existing, f.version, '').alreadyThere) {
      ctx.log(`${f.changelog} has the approved notes for ${f.version}, but not in HEAD: committing them.`);
      return (await commitChangelog(ctx, f.changelog, f.version)) ?? { status: 'passed', exitCode: 0, via: 'command', release };
    }
    // A secret written into a commit message (a token pasted by mistake) does not travel on into the changelog and the tag.
    const draft = ctx.clean(renderNotes({ version: f.version, previous: last?.version ?? null, date: ctx.clock.now(), commits }));
    ctx.files.write(f.draft, draft);
    ctx.log(
      `Release notes for ${f.version} (${commits.length} commits since ${last?.tag ?? 'the first commit'}), written to ${f.draft}:\n\n${draft}`,
    );
    const d = await ctx.confirm(
      `Approve the release notes for ${f.version}? Read or edit ${f.draft} first; what the file says when you approve goes into ${f.changelog}.`,
    );
    if (d.decision === 'skip') return { status: 'skipped', reason: d.reason };
    if (d.decision === 'abort') return { status: 'aborted', reason: d.reason };
    if (d.decision === 'unavailable')
      return { status: 'waiting', message: `step '${ctx.node.path}' needs the release notes approved (draft: ${f.draft})`, hint: d.hint };
    const approved = ctx.files.read(f.draft) ?? draft;
    if (approved !== draft) ctx.log(`Approved as edited:\n\n${approved}`);
    const next = insertChangelogSection(existing, f.version, approved.endsWith('\n') ? approved : `${approved}\n`);
    ctx.files.write(f.changelog, next.text);
    const refused = await commitChangelog(ctx, f.changelog, f.version);
    if (refused) return refused;
    return {
      status: 'passed',
      exitCode: 0,
      via: 'confirmation',
      confirmation: { by: d.by, via: d.via, ...(d.note ? { note: d.note } : {}) },
      release,
    };
  },
  /** Done when HEAD's changelog has the version's section: written but not committed is not done (the merge would lack it). */
  async probe(ctx) {
    const f = files(ctx, ctx.spec);
    return (await committed(ctx, f.changelog, f.version))
      ? { result: 'done', detail: `${f.changelog} in HEAD has the notes for ${f.version}` }
      : { result: 'not-done', detail: `${f.changelog} in HEAD has no section for ${f.version} yet` };
  },
});
