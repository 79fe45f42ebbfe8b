import { z } from 'zod';
import { parseDuration, timerDurationProblem } from '../duration.js';

/** What a step kind contributes to the checklist schema: its own fields beside the common ones. */
export interface StepKindSchema {
  kind: string;
  fields: z.ZodRawShape;
}

export const SLUG = /^[a-z0-9][a-z0-9-]*$/;
export const PARAM_NAME = /^[a-z][a-z0-9_-]*$/;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A duration that becomes a timer: a step's timeout. Longer than a timer can hold is refused (core/duration.ts). */
export const durationSchema = z.union([z.string(), z.number()]).superRefine((v, ctx) => {
  const ms = parseDuration(v);
  const tooLong = timerDurationProblem(v, ms);
  if (ms === null) ctx.addIssue({ code: 'custom', message: 'expected a duration like 30s, 5m, 2h or 1h30m' });
  else if (tooLong) ctx.addIssue({ code: 'custom', message: tooLong });
});

export const commandSchema = z.union([
  z.string().min(1, 'expected a non-empty command'),
  // YAML reads `[sleep, 5]` with a number in it: an argument is text either way.
  z.array(z.union([z.string(), z.number().transform(String)])).min(1, 'expected a non-empty argv list'),
]);

export const paramDefSchema = z.strictObject({
  type: z.enum(['string', 'semver', 'boolean', 'integer', 'enum']).default('string'),
  required: z.boolean().optional(),
  default: scalar.optional(),
  description: z.string().optional(),
  choices: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .optional(),
  pattern: z.string().optional(),
  secret: z.boolean().optional(),
});

const conditionSchema = z.record(z.string(), z.union([scalar, z.array(scalar).min(1)]));

const commonStepFields = {
  id: z.string().regex(SLUG, 'expected a step id of lowercase letters, digits and dashes'),
  title: z.string().min(1, 'expected a non-empty title'),
  help: z.string().optional(),
  policy: z.string().optional(),
  when: conditionSchema.optional(),
  unless: conditionSchema.optional(),
  /**
   * Running it twice does no harm: when it was interrupted (the cockpit died while it ran), a resume runs it again
   * without asking. Without it, a step that has no probe asks first.
   */
  idempotent: z.boolean().optional(),
};

/** A recovery time objective (core/recovery.ts): the first whose `when` matches the parameters is the session's. */
const objectiveSchema = z.strictObject({
  recovery: durationSchema,
  name: z.string().min(1).optional(),
  policy: z.string().optional(),
  when: conditionSchema.optional(),
});

export function buildChecklistSchema(kinds: StepKindSchema[]) {
  const [first, ...rest] = kinds.map((k) => z.strictObject({ ...commonStepFields, kind: z.literal(k.kind), ...k.fields }));
  const step = rest.length === 0 ? first : z.discriminatedUnion('kind', [first, ...rest]);
  return z.strictObject({
    id: z.string().regex(SLUG, 'expected a checklist id of lowercase letters, digits and dashes'),
    title: z.string().min(1, 'expected a non-empty title'),
    description: z.string().optional(),
    policy: z.string().optional(),
    params: z.record(z.string().regex(PARAM_NAME, 'expected a parameter name like version or issue_id'), paramDefSchema).default({}),
    objective: z.union([objectiveSchema, z.array(objectiveSchema).min(1)]).optional(),
    steps: z.array(step).min(1, 'expected at least one step'),
  });
}
