/**
 * `release.publish` in cockpit.config.yaml: the command that publishes a release's notes on the forge, as argv (no
 * shell), e.g. `[gh, release, create, "v${version}", --title, "v${version}", --notes-file, "${notesFile}"]`. Its
 * strings may name `${version}`, `${tag}` (v + version) and `${notesFile}` (the approved notes, a file in the
 * repository): each is filled into its own argument, never split or re-parsed. The `publish` step
 * (src/steps/publish.ts) runs it as a recorded command and records the URL it prints.
 */
import { z } from 'zod';

export const PUBLISH_FIELDS = ['version', 'tag', 'notesFile'] as const;
export type PublishValues = Record<(typeof PUBLISH_FIELDS)[number], string>;

const PLACEHOLDER = /\$\{([^}]*)\}/g;

/** The `${name}`s of `s` that are not fields of the publish command. */
function unknownFields(s: string): string[] {
  return [...s.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((n) => !(PUBLISH_FIELDS as readonly string[]).includes(n));
}

export const publishCommandSchema = z
  .array(z.string().min(1, 'expected a non-empty argument'))
  .min(1, 'expected the command as a list: [gh, release, create, "v${version}", --notes-file, "${notesFile}"]')
  .superRefine((argv, ctx) => {
    argv.forEach((a, i) => {
      for (const n of unknownFields(a))
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `'\${${n}}' is not a field of release.publish (it has ${PUBLISH_FIELDS.map((f) => `\${${f}}`).join(', ')})`,
        });
    });
  });

/** A version that may go into a command's argument: no option-like or path-like value (`--draft`, `../x`). */
export function publishableVersion(v: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/.test(v) && !v.includes('..');
}

/** The command with its fields filled, each argument filled as one argument. */
export function fillPublishCommand(argv: readonly string[], values: PublishValues): string[] {
  return argv.map((a) => a.replace(PLACEHOLDER, (_m, n: string) => values[n as keyof PublishValues] ?? ''));
}

/**
 * The first http(s) URL in a line the command printed (gh prints the release's URL on its own line), without any
 * credentials it may carry (never recorded), or null.
 */
export function publishedUrl(line: string): string | null {
  const m = /https?:\/\/[^\s"'<>`]+/.exec(line);
  if (!m) return null;
  try {
    const u = new URL(m[0].replace(/[),.;:]+$/, ''));
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return null;
  }
}
