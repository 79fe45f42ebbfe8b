/**
 * The `verify:` section of cockpit.config.yaml: the application's own checks that the deploy checklists run, the
 * policy's "Run tests" and "Run Day-2 verification scripts". The cockpit does not know how an application is tested:
 * it runs what is configured here (argv lists, no shell, unless a command is written as one line) and records it.
 *
 *   verify:
 *     tests: [npm, test]                    # the test suite ("Run tests"), run from the repository's root
 *     testsTimeout: 30m
 *     day2:                                 # per environment: the Day-2 verification scripts, after the deploy
 *       staging:
 *         - {name: jobs, run: [./scripts/day2/jobs.sh, --env, staging], timeout: 10m}
 *         - {name: emails, run: [./scripts/day2/emails.sh]}
 */
import { ENVIRONMENT_NAME } from './environment.js';
import { z } from 'zod';
import { commandSchema, durationSchema } from './checklist/schema.js';

export const verifyScriptSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'expected a short name (letters, digits, space . _ -)'),
  run: commandSchema,
  timeout: durationSchema.optional(),
});

export const verifyConfigSchema = z.strictObject({
  tests: commandSchema.optional(),
  testsTimeout: durationSchema.optional(),
  day2: z.record(z.string().regex(ENVIRONMENT_NAME, 'expected an environment name'), z.array(verifyScriptSchema)).optional(),
});

export type VerifyConfig = z.infer<typeof verifyConfigSchema>;
export type VerifyScript = z.infer<typeof verifyScriptSchema>;

/** The scripts a `verify` step runs: the test command as one script named `tests`, or an environment's Day-2 scripts. */
export function verifyScripts(config: VerifyConfig | undefined, which: 'tests' | 'day2', env: string): VerifyScript[] {
  if (which === 'tests')
    return config?.tests ? [{ name: 'tests', run: config.tests, ...(config.testsTimeout ? { timeout: config.testsTimeout } : {}) }] : [];
  return config?.day2?.[env] ?? [];
}

/** Where a missing script is configured, in words for a step that had nothing to run. */
export function howToConfigure(which: 'tests' | 'day2', env: string): string {
  return which === 'tests'
    ? 'no test command configured: add verify.tests to cockpit.config.yaml (e.g. tests: [npm, test])'
    : `no Day-2 verification scripts configured for ${env}: add them under verify.day2.${env} in cockpit.config.yaml (a name and the command to run, e.g. - {name: jobs, run: [make, day2-jobs]})`;
}

/** A command as shown: an argv list shell-quoted where needed, a shell line as written. */
export function showCommand(cmd: string | string[]): string {
  if (typeof cmd === 'string') return cmd.trim();
  return cmd.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
