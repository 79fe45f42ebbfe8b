import { defineStepKind } from './define.js';
import { checkDeployFields, colourField, envField, versionField } from './deploy-common.js';
import { fail } from './git-common.js';
import { interpolate } from '../core/params.js';

export const deployStep = defineStepKind({
  kind: 'deploy',
  fields: { env: envField, version: versionField, colour: colourField.default('idle') },
  needs: [],
  validate: (step, params) => checkDeployFields(step, params, ['env', 'version', 'colour'], ['idle', 'blue', 'green']),
  describe: ({ spec, params }) => `deploy ${interpolate(spec.version, params)} to ${interpolate(spec.env, params)} (${spec.colour})`,
  execute: async () => fail('the deploy step kind is not built yet'),
});
