/** The `watch:` input schema (zod), built on first use: start-up does not pay for it. */
import { z } from 'zod';
import { parseDuration, timerDurationProblem } from '../duration.js';
import { VAR_NAME } from './query.js';
import { UNITS } from './types.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * The input schemas, built on first use: zod builds them at a cost (tens of ms) that every command would pay at
 * start-up for a section most configurations do not have.
 */
function makeSchemas() {
  // Every watch duration becomes a timer (or a wait measured by one): longer than a timer holds is refused.
  const durationInput = (example: string) =>
    z.union([z.string(), z.number()]).superRefine((v, ctx) => {
      const ms = parseDuration(v);
      const tooLong = timerDurationProblem(v, ms);
      if (!ms) ctx.addIssue({ code: 'custom', message: `expected a duration like ${example}` });
      else if (tooLong) ctx.addIssue({ code: 'custom', message: tooLong });
    });
  const envRef = z.strictObject({ env: z.string().regex(ENV_NAME, 'expected an environment variable name') });
  const secretInput = z.union([z.string().min(1), envRef], { error: 'expected a value, or {env: NAME} to read it from the environment' });
  const quantity = z.union([z.number(), z.string()], { error: 'expected a number, a percentage (1%) or a duration (25ms)' });

  const checkInput = z
    .strictObject({
      above: quantity.optional(),
      below: quantity.optional(),
      increase: quantity.optional(),
      mode: z.enum(['absolute', 'relative']).optional(),
      floor: quantity.optional(),
    })
    .superRefine((c, ctx) => {
      const kinds = (['above', 'below', 'increase'] as const).filter((k) => c[k] !== undefined);
      if (kinds.length !== 1) {
        ctx.addIssue({ code: 'custom', path: [], message: 'expected exactly one of above, below or increase' });
        return;
      }
      if (kinds[0] !== 'increase') {
        for (const k of ['mode', 'floor'] as const) {
          if (c[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} applies to increase only` });
        }
      } else if (c.floor !== undefined && c.mode !== 'relative') {
        ctx.addIssue({ code: 'custom', path: ['floor'], message: 'floor applies to mode: relative only' });
      }
    });

  const signalInput = z.strictObject({
    title: z.string().min(1).optional(),
    query: z.string().min(1).optional(),
    unit: z.enum(UNITS).optional(),
    traffic: z.string().min(1).nullable().optional(),
    trafficUnit: z.enum(UNITS).optional(),
    baseline: z.boolean().optional(),
    /** Added to the reason when the query returns no series: what is probably missing. */
    noDataHint: z.string().min(1).optional(),
  });

  const ruleInput = z.strictObject({
    id: z.string().regex(ID, 'expected an id: letters, digits, _ . -'),
    signal: z.string().min(1).optional(),
    title: z.string().min(1).optional(),
    policy: z.string().optional(),
    check: checkInput.optional(),
    /** 0 turns a built-in rule's guard off. */
    minTraffic: z.number().nonnegative().optional(),
    consecutive: z.number().int().min(1).optional(),
    failureLimit: z.number().int().min(0).optional(),
    severity: z.enum(['critical', 'warning']).optional(),
    advice: z.enum(['alert', 'rollback']).optional(),
    onNoData: z.enum(['inconclusive', 'fail']).optional(),
  });

  const prometheusInput = z.strictObject({
    url: z.string().min(1),
    timeout: durationInput('10s').optional(),
    headers: z.record(z.string().regex(HEADER_NAME, 'expected an HTTP header name'), secretInput).optional(),
    auth: z
      .strictObject({
        bearer: secretInput.optional(),
        basic: z.strictObject({ username: z.string().min(1), password: secretInput }).optional(),
      })
      .refine((a) => (a.bearer === undefined) !== (a.basic === undefined), { message: 'expected one of bearer or basic' })
      .optional(),
  });

  const watchObject = z.strictObject({
    /** Optional in the file: `cockpit watch --prometheus URL` (or COCKPIT_PROMETHEUS_URL) can give it. */
    prometheus: prometheusInput.optional(),
    vars: z.record(z.string().regex(VAR_NAME, 'expected a variable name'), z.union([z.string(), z.number()])).optional(),
    interval: durationInput('15s').optional(),
    duration: durationInput('1h').optional(),
    baseline: durationInput('1h').optional(),
    window: durationInput('5m').optional(),
    errorLimit: z.number().int().min(1).optional(),
    defaults: z.boolean().optional(),
    disable: z.array(z.string().min(1)).optional(),
    signals: z.record(z.string().regex(ID, 'expected a signal name: letters, digits, _ . -'), signalInput).optional(),
    rules: z.array(ruleInput).optional(),
  });
  return { signalInput, ruleInput, watchObject };
}

type Schemas = ReturnType<typeof makeSchemas>;
let schemas: Schemas | null = null;
export const schemasNow = (): Schemas => (schemas ??= makeSchemas());

export type WatchConfigInput = z.infer<Schemas['watchObject']>;
export type SignalInput = z.infer<Schemas['signalInput']>;
export type RuleInput = z.infer<Schemas['ruleInput']>;

/** The built-in queries' job labels when `vars` does not name them: prom-client's usual `app`, node_exporter's `db`. */
export const DEFAULT_VARS: Readonly<Record<string, string>> = { job: 'app', dbJob: 'db' };
