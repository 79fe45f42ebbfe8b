import { z } from 'zod';
import { formatDuration, parseDuration } from '../core/duration.js';
import { interpolate } from '../core/params.js';
import { howToConfigure, showCommand, verifyScripts } from '../core/verify.js';
import { checkTemplates } from './git-common.js';
import { defineStepKind } from './define.js';

const DEFAULT_TIMEOUT = '30m';

/**
 * The application's own checks, as configured in `verify:` of cockpit.config.yaml (src/core/verify.ts): `scripts:
 * tests` runs the test command, `scripts: day2` the environment's Day-2 verification scripts, each from the
 * repository's root with the config's env, one after another; the step passes when every one exits 0 and names each
 * that did not. Nothing configured: ○ nothing to check, saying where to add them. It only runs checks: a resume runs
 * them again.
 */
export const verifyStep = defineStepKind({
  kind: 'verify',
  rerunSafe: true,
  fields: {
    scripts: z.enum(['tests', 'day2']),
    /** The environment whose Day-2 scripts run (a template); not used for `tests`. */
    env: z.string().min(1).optional(),
  },
  needs: ['run', 'log', 'verify'],
  validate(step, params) {
    const problems = checkTemplates(step, params, ['env']);
    if (step.scripts === 'day2' && !step.env)
      problems.push({ path: ['env'], message: 'scripts: day2 needs env: the environment whose Day-2 scripts run' });
    return problems;
  },
  describe({ spec, params, settings }) {
    const env = interpolate(spec.env ?? '', params);
    const what =
      spec.scripts === 'tests' ? 'the test command (verify.tests)' : `the Day-2 verification scripts of ${env} (verify.day2.${env})`;
    if (!settings) return `run ${what} from cockpit.config.yaml`;
    const scripts = verifyScripts(settings.verify, spec.scripts, env);
    if (!scripts.length) return `nothing to run: ${howToConfigure(spec.scripts, env)}`;
    return `run ${scripts.map((s) => (spec.scripts === 'tests' ? showCommand(s.run) : `${s.name}: ${showCommand(s.run)}`)).join('; ')}`;
  },
  async execute(ctx) {
    const env = interpolate(ctx.spec.env ?? '', ctx.params);
    const scripts = verifyScripts(ctx.verify, ctx.spec.scripts, env);
    if (!scripts.length) return { status: 'passed', nothingToCheck: howToConfigure(ctx.spec.scripts, env) };
    const failed: string[] = [];
    for (const s of scripts) {
      const timeoutMs = parseDuration(s.timeout ?? DEFAULT_TIMEOUT)!;
      if (scripts.length > 1) ctx.log(`▸ ${s.name}: ${showCommand(s.run)}`);
      const r = await ctx.run({
        argv: Array.isArray(s.run) ? s.run : undefined,
        script: Array.isArray(s.run) ? undefined : s.run,
        cwd: ctx.repoDir,
        env: ctx.env,
        timeoutMs,
      });
      if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator (the checks run again on a resume)' };
      const why = r.spawnError
        ? `could not start: ${r.spawnError}`
        : r.timedOut
          ? `timed out after ${formatDuration(timeoutMs)}`
          : r.signal
            ? `killed by ${r.signal}`
            : r.exitCode !== 0
              ? `exited with code ${r.exitCode}${r.exitCode === 127 ? ' (command not found)' : ''}`
              : null;
      if (scripts.length > 1) ctx.log(why ? `✖ ${s.name}: ${why}` : `✔ ${s.name}`);
      if (why) failed.push(`${s.name}: ${why}`);
    }
    if (!failed.length) return { status: 'passed', exitCode: 0, via: 'command' };
    return {
      status: 'failed',
      exitCode: null,
      reason:
        ctx.spec.scripts === 'tests'
          ? `the tests failed (${failed[0].replace(/^tests: /, '')}): fix them and retry the step`
          : `${failed.length} of ${scripts.length} Day-2 script(s) failed (${failed.join('; ')}): fix them and retry, or skip with the reason (a known, ticketed issue)`,
    };
  },
});
