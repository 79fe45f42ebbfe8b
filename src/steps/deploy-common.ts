import { z } from 'zod';
import type { ParamDef } from '../core/checklist/types.js';
import { templateRefs } from '../core/params.js';
import { checkTemplates } from './git-common.js';

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
  const colour = step.colour;
  if (typeof colour === 'string' && templateRefs(colour).length === 0 && !colours.includes(colour))
    problems.push({ path: ['colour'], message: `'${colour}' is not a colour (expected ${colours.join(', ')})` });
  return problems;
}
