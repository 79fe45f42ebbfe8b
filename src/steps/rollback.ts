import { defineStepKind } from './define.js';
import { checkDeployFields, envField, versionField } from './deploy-common.js';
import { fail } from './git-common.js';
import { interpolate } from '../core/params.js';

export const rollbackStep = defineStepKind({
  kind: 'rollback',
  fields: { env: envField, version: versionField.optional() },
  needs: [],
  validate: (step, params) => checkDeployFields(step, params, ['env', 'version']),
  describe: ({ spec, params }) =>
    `roll ${interpolate(spec.env, params)} back to ${spec.version ? interpolate(spec.version, params) : 'the last stable version'}`,
  execute: async () => fail('the rollback step kind is not built yet'),
});
