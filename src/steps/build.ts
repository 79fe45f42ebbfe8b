import { defineStepKind } from './define.js';
import { checkDeployFields, envField, versionField } from './deploy-common.js';
import { fail } from './git-common.js';
import { interpolate } from '../core/params.js';

export const buildStep = defineStepKind({
  kind: 'build',
  fields: { env: envField, version: versionField },
  needs: [],
  validate: (step, params) => checkDeployFields(step, params, ['env', 'version']),
  describe: ({ spec, params }) =>
    `build ${interpolate(spec.version, params)} for ${interpolate(spec.env, params)} (deploy.${interpolate(spec.env, params)}.build)`,
  execute: async () => fail('the build step kind is not built yet'),
});
