/**
 * The `env:` field of the steps that act on the application database (migrate, backup, restore): the environment
 * whose database it is, passed to the cockpit's own command as `--env`, which finds its URL in
 * database.environments (src/core/database-target.ts). Without it, the command uses the one database of before.
 */
import { z } from 'zod';
import { ENVIRONMENT_NAME } from '../core/environment.js';
import type { ParamValue } from '../core/checklist/types.js';
import { interpolate, templateRefs } from '../core/params.js';

/** An environment (`staging`) or a template (`${environment}`). */
export const dbEnvField = z.string().min(1).optional();

/** A written (not templated) `env:` that is no environment name: a problem of the checklist. */
export function dbEnvProblems(step: Record<string, unknown>): Array<{ path: Array<string | number>; message: string }> {
  const env = step.env;
  if (typeof env !== 'string' || templateRefs(env).length || ENVIRONMENT_NAME.test(env)) return [];
  return [{ path: ['env'], message: `'${env}' is not an environment name (letters, digits, - and _)` }];
}

/** `env:` with the parameters filled in: the environment, or a reason it is none. */
export function dbEnvOf(template: string | undefined, params: Record<string, ParamValue>): { env?: string } | { problem: string } {
  if (template === undefined) return {};
  const env = interpolate(template, params).trim();
  return ENVIRONMENT_NAME.test(env)
    ? { env }
    : { problem: `'${env}' (from '${template}') is not an environment name (letters, digits, - and _)` };
}

/** `--env <environment>` for the command, when the step names one (shown as written when it is not a name yet). */
export function dbEnvArgs(template: string | undefined, params: Record<string, ParamValue>): string[] {
  if (template === undefined) return [];
  const r = dbEnvOf(template, params);
  return ['--env', 'env' in r && r.env !== undefined ? r.env : interpolate(template, params)];
}
