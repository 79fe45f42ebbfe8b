import { defineStepKind } from './define.js';
import { checkDeployFields, colourField, envField } from './deploy-common.js';
import { fail } from './git-common.js';
import { interpolate } from '../core/params.js';

export const switchStep = defineStepKind({
  kind: 'switch',
  fields: { env: envField, colour: colourField.optional() },
  needs: [],
  validate: (step, params) => checkDeployFields(step, params, ['env', 'colour']),
  describe: ({ spec, params }) => `switch ${interpolate(spec.env, params)} to ${spec.colour ?? 'the colour this session deployed to'}`,
  execute: async () => fail('the switch step kind is not built yet'),
});
