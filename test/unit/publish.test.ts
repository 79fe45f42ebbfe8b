import { describe, expect, it } from 'vitest';
import { notesForChat, renderMessage, NO_FACTS } from '../../src/core/notify/templates.js';
import { changelogSection } from '../../src/core/release/notes.js';
import { fillPublishCommand, publishableVersion, publishCommandSchema, publishedUrl } from '../../src/core/release/publish.js';

const CHANGELOG = [
  '# Changelog',
  '',
  '## [Unreleased]',
  '',
  '- not yet',
  '',
  '## [1.4.0](https://forge.example/compare/v1.3.0...v1.4.0) (2026-12-08)',
  '',
  '### Features',
  '',
  '- **search:** listings (a1b2c3d) — Ana',
  '',
  '```',
  '## 9.9.9 inside a fence is no heading',
  '```',
  '',
  '## 1.4.0-rc.1 (2026-12-01)',
  '',
  '- the candidate',
  '',
  '## v1.3.0',
  '',
  '- older',
].join('\r\n');

describe('changelogSection', () => {
  it("takes the version's section (heading to the next level-2 heading outside a fence), not a pre-release's or another's", () => {
    expect(changelogSection(CHANGELOG, '1.4.0')).toBe(
      '## [1.4.0](https://forge.example/compare/v1.3.0...v1.4.0) (2026-12-08)\n\n### Features\n\n- **search:** listings (a1b2c3d) — Ana\n\n```\n## 9.9.9 inside a fence is no heading\n```\n',
    );
    expect(changelogSection(CHANGELOG, 'v1.3.0')).toBe('## v1.3.0\n\n- older\n');
    expect(changelogSection(CHANGELOG, '1.4.0-rc.1')).toBe('## 1.4.0-rc.1 (2026-12-01)\n\n- the candidate\n');
    expect(changelogSection(CHANGELOG, '9.9.9')).toBeNull();
    expect(changelogSection('', '1.0.0')).toBeNull();
  });
});

describe('the release-notes message', () => {
  it('drops the version heading, writes headings and bold in chat bold, and cuts a long section at a line saying where the rest is', () => {
    const section = changelogSection(CHANGELOG, '1.4.0')!;
    expect(notesForChat(section, 'CHANGELOG.md').startsWith('*Features*\n\n- *search:* listings (a1b2c3d) — Ana')).toBe(true);
    const long = `## 2.0.0\n\n${Array.from({ length: 200 }, (_, i) => `- change ${i}`).join('\n')}\n`;
    const cut = notesForChat(long, 'CHANGELOG.md', 500);
    expect(cut.length).toBeLessThanOrEqual(500);
    const shown = cut.split('\n').filter((l) => l.startsWith('- change')).length;
    expect(cut.endsWith(`\n… ${200 - shown} more lines in CHANGELOG.md`)).toBe(true);
    expect(notesForChat('## 1.0.0\n\n- one\n', 'C.md', 500)).toBe('- one');
  });

  it('is titled with the version; without notes it says they are not written', () => {
    const m = renderMessage('release-notes', { ...NO_FACTS, version: '1.4.0', notes: { text: '## 1.4.0\n\n- x\n', file: 'CHANGELOG.md' } });
    expect(m).toEqual({ name: 'release-notes', title: 'Release notes: v1.4.0', text: '- x' });
    expect(renderMessage('release-notes', { ...NO_FACTS, version: '1.4.0' }).text).toBe(
      'The release notes for release v1.4.0 are not written yet.',
    );
  });
});

describe('release.publish', () => {
  it('fills ${version}, ${tag} and ${notesFile} into their own arguments, whatever they hold', () => {
    expect(
      fillPublishCommand(['gh', 'release', 'create', '${tag}', '--title', 'Release ${version}', '--notes-file=${notesFile}'], {
        version: '1.4.0',
        tag: 'v1.4.0',
        notesFile: 'notes dir/$(rm -rf).md',
      }),
    ).toEqual(['gh', 'release', 'create', 'v1.4.0', '--title', 'Release 1.4.0', '--notes-file=notes dir/$(rm -rf).md']);
  });

  it('refuses an unknown ${field}, an empty argument or an empty command', () => {
    expect(publishCommandSchema.safeParse(['gh', 'release', 'create', 'v${version}']).success).toBe(true);
    const bad = publishCommandSchema.safeParse(['gh', '${notes}']);
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({
      path: [1],
      message: expect.stringContaining("'${notes}' is not a field of release.publish"),
    });
    expect(publishCommandSchema.safeParse([]).success).toBe(false);
    expect(publishCommandSchema.safeParse(['gh', '']).success).toBe(false);
  });

  it('refuses a version that would read as an option or a path', () => {
    for (const v of ['1.4.0', '1.4.0-rc.1+build.5', 'release_7']) expect(publishableVersion(v)).toBe(true);
    for (const v of ['--draft', '-1', '../1.0', '1.0 2', '']) expect(publishableVersion(v)).toBe(false);
  });

  it('reads the first URL a line prints, without credentials or trailing punctuation', () => {
    expect(publishedUrl('https://github.com/acme/app/releases/tag/v1.4.0')).toBe('https://github.com/acme/app/releases/tag/v1.4.0');
    expect(publishedUrl('Created at <https://x:tok@forge.example/r/1>.')).toBe('https://forge.example/r/1');
    expect(publishedUrl('published (see https://forge.example/r/2).')).toBe('https://forge.example/r/2');
    expect(publishedUrl('no url here')).toBeNull();
  });
});
