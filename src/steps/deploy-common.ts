import { z } from 'zod';
import type { DeployScript, ScriptResult } from '../adapters/deploy-script.js';
import type { ParamDef, ParamValue } from '../core/checklist/types.js';
import { environmentOf, versionProblem } from '../core/deploy/command.js';
import type { DeployEnvironment } from '../core/deploy/config.js';
import type { Colour } from '../core/deploy/status.js';
import { interpolate, templateRefs } from '../core/params.js';
import { ENVIRONMENT_NAME } from '../core/environment.js';
import { checkTemplates, fail } from './git-common.js';
import type { StepContext, StepOutcome } from './types.js';

/** The environment a deploy kind acts on: a name under `deploy:` in cockpit.config.yaml (a template: `${env}`). */
export const envField = z.string().min(1);
/** A version (a template, `${version}`): checked as semver once the parameters are filled in, before it reaches argv. */
export const versionField = z.string().min(1);
/** A colour: `blue`, `green` (or a template). */
export const colourField = z.string().min(1);

const COLOURS = ['blue', 'green'];

/** Static checks shared by the deploy kinds: templates name parameters; a colour written out is blue or green (or idle where allowed). */
export function checkDeployFields(
  step: Record<string, unknown>,
  params: Record<string, ParamDef>,
  keys: string[],
  colours: readonly string[] = COLOURS,
) {
  const problems = checkTemplates(step, params, keys);
  const written = (key: string) =>
    keys.includes(key) && typeof step[key] === 'string' && !templateRefs(step[key]).length ? step[key] : null;
  const env = written('env');
  if (env !== null && !ENVIRONMENT_NAME.test(env))
    problems.push({ path: ['env'], message: `'${env}' is not an environment name (letters, digits, - and _)` });
  const version = written('version');
  const bad = version === null ? null : versionProblem(version);
  if (bad) problems.push({ path: ['version'], message: bad });
  const colour = step.colour;
  if (typeof colour === 'string' && templateRefs(colour).length === 0 && !colours.includes(colour))
    problems.push({ path: ['colour'], message: `'${colour}' is not a colour (expected ${colours.join(', ')})` });
  return problems;
}

type Failure = Extract<ScriptResult, { ok: false }>;

/** A script call that did not succeed, as the step's outcome. */
export function scriptFailed(r: Failure): StepOutcome {
  if (r.aborted) return { status: 'aborted', reason: 'stopped by the operator' };
  return {
    status: 'failed',
    exitCode: r.exitCode,
    ...(r.signal ? { signal: r.signal } : {}),
    ...(r.timedOut ? { timedOut: true } : {}),
    reason: r.reason,
  };
}

export type DeployCtx = StepContext<unknown, 'deploy'>;

/** The environment named by a step (its template filled in), and its script; or why there is none. */
export function environment(
  ctx: DeployCtx,
  template: string,
): { ok: true; name: string; script: DeployScript; config: DeployEnvironment } | { ok: false; outcome: StepOutcome } {
  const name = interpolate(template, ctx.params).trim();
  if (!ENVIRONMENT_NAME.test(name))
    return { ok: false, outcome: fail(`'${name}' (from '${template}') is not an environment name (letters, digits, - and _)`) };
  return { ok: true, name, script: ctx.deploy.script(name, ctx.env), config: environmentOf(ctx.deploy.settings, name) };
}

/** A version from a template, checked as semver (it reaches the script's argv). */
export function versionOf(
  template: string,
  params: Record<string, ParamValue>,
): { ok: true; version: string } | { ok: false; outcome: StepOutcome } {
  const version = interpolate(template, params).trim();
  const problem = versionProblem(version);
  return problem ? { ok: false, outcome: fail(`version ${problem} (from '${template}')`) } : { ok: true, version };
}

/** A colour from a template: blue or green (`idle` where the step allows it). */
export function colourOf(template: string, params: Record<string, ParamValue>): Colour | 'idle' | { problem: string } {
  const c = interpolate(template, params).trim();
  return c === 'blue' || c === 'green' || c === 'idle' ? c : { problem: `'${c}' (from '${template}') is not a colour (blue or green)` };
}

/** What a dry run says in place of what only the run knows. */
export const AT_RUN_TIME = (what: string) => `<${what}, asked at run time>`;

/** The template filled in where the parameters are known, as written where they are not. */
export const shown = (template: string, params: Record<string, ParamValue>) => interpolate(template, params);
