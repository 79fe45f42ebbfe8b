import { z } from 'zod';
import { interpolate } from '../core/params.js';
import { changelogSection } from '../core/release/notes.js';
import { fillPublishCommand, publishableVersion, publishedUrl } from '../core/release/publish.js';
import { checkTemplates, fail, templateField } from './git-common.js';
import { defineStepKind } from './define.js';
import type { ProbeResult } from './types.js';

const fields = {
  version: templateField,
  /** The changelog whose section for the version is published (default CHANGELOG.md: what the notes step wrote). */
  changelog: z.string().min(1).optional(),
  /** Where that section is written for the command (`${notesFile}`), relative to the repository. */
  notesFile: z.string().min(1).optional(),
};

const DEFAULT_NOTES_FILE = '.cockpit/release-notes/v${version}.published.md';
const EXAMPLE = 'release.publish: [gh, release, create, "v${version}", --title, "v${version}", --notes-file, "${notesFile}"]';
const PUBLISH_TIMEOUT_MS = 5 * 60_000;

/**
 * Publishes the approved release notes on the forge: the version's section of the changelog (written and approved
 * by the `notes` step) is written to a file, and the configured `release.publish` command (argv, its `${version}`,
 * `${tag}` and `${notesFile}` filled one argument each) runs as a recorded command. Where it published, the first
 * URL it prints, is recorded (`release.published`). Without a command configured: ○ nothing to do, saying what to add.
 */
export const publishStep = defineStepKind({
  kind: 'publish',
  fields,
  needs: ['release', 'files', 'run', 'record', 'log', 'history'],
  validate: (spec, params) => checkTemplates(spec, params, ['version', 'changelog', 'notesFile']),
  describe({ spec, params, settings }) {
    const version = interpolate(spec.version, params).replace(/^v(?=\d)/, '') || '<version>';
    const changelog = interpolate(spec.changelog ?? 'CHANGELOG.md', params);
    const notesFile = interpolate(spec.notesFile ?? DEFAULT_NOTES_FILE, { ...params, version });
    const argv = settings?.release?.publish;
    if (!argv)
      return 'nothing to publish with: no release.publish command is configured in cockpit.config.yaml (README "Publishing the release notes" shows one)';
    const command = fillPublishCommand(argv, { version, tag: `v${version}`, notesFile });
    return `the section for ${version} of ${changelog} into ${notesFile}, then: ${command.join(' ')} (records the URL it prints)`;
  },
  async execute(ctx) {
    const { spec } = ctx;
    const argv = ctx.release.publish;
    if (!argv)
      return {
        status: 'passed',
        nothingToCheck: `no release.publish command is configured, so the notes were not published on the forge; to publish them, add ${EXAMPLE} to cockpit.config.yaml`,
      };
    const version = interpolate(spec.version, ctx.params)
      .trim()
      .replace(/^v(?=\d)/, '');
    if (!version) return fail('no version to publish: give the version parameter');
    if (!publishableVersion(version)) return fail(`'${version}' is not a version that can go into the publish command`);
    const changelog = interpolate(spec.changelog ?? 'CHANGELOG.md', ctx.params);
    const section = changelogSection(ctx.files.read(changelog) ?? '', version);
    if (!section) return fail(`${changelog} has no section for ${version}: the notes step writes and commits it; nothing was published`);
    const notesFile = interpolate(spec.notesFile ?? DEFAULT_NOTES_FILE, { ...ctx.params, version });
    ctx.files.write(notesFile, section);
    const command = fillPublishCommand(argv, { version, tag: `v${version}`, notesFile });
    ctx.log(
      `The notes for ${version} (${section.split('\n').length} lines of ${changelog}) are in ${notesFile}; running ${command.join(' ')}`,
    );
    let url: string | null = null;
    const r = await ctx.run({
      argv: command,
      cwd: ctx.repoDir,
      env: ctx.env,
      timeoutMs: PUBLISH_TIMEOUT_MS,
      stdoutLine: (line) => {
        url ??= publishedUrl(line);
        return [{ stream: 'stdout', text: `${line}\n` }];
      },
    });
    if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator' };
    if (r.spawnError) return fail(`could not run ${command[0]}: ${r.spawnError}`);
    if (r.timedOut) return { status: 'failed', exitCode: r.exitCode, timedOut: true, reason: `${command[0]} timed out` };
    if (r.exitCode !== 0)
      return {
        status: 'failed',
        exitCode: r.exitCode,
        signal: r.signal,
        reason: `${command.join(' ')} exited with code ${r.exitCode} (its output is above); nothing is recorded as published`,
      };
    await ctx.record([{ type: 'release.published', data: { version, command: command.join(' '), notesFile, url } }]);
    ctx.log(url ? `✔ published ${version}: ${url}` : `✔ published ${version} (the command printed no URL)`);
    return { status: 'passed', exitCode: 0, via: 'command' };
  },
  /**
   * After a crash: published when the step recorded it; "unknown" when its command was started and nothing was
   * recorded (the forge may have the release already: the resume asks rather than publishing twice); else not done.
   */
  async probe(ctx): Promise<ProbeResult> {
    const events = await ctx.history();
    const published = events.find((e) => e.type === 'release.published');
    if (published?.type === 'release.published')
      return {
        result: 'done',
        detail: `published ${published.data.version}${published.data.url ? ` at ${published.data.url}` : ''} (event #${published.seq})`,
      };
    const spawned = events.filter((e) => e.type === 'step.spawned').pop();
    if (spawned?.type === 'step.spawned')
      return {
        result: 'unknown',
        detail: `${spawned.data.command} was started (event #${spawned.seq}) and no publication was recorded: the forge may have the release already; check it before publishing again`,
      };
    return { result: 'not-done', detail: 'the publish command was not started' };
  },
});
