import { z } from 'zod';
import type { Path } from '../core/checklist/load.js';
import type { ParamDef } from '../core/checklist/types.js';
import type { PlanNode } from '../core/events.js';
import type { ServiceName } from '../engine/services.js';
import type { DescribeContext, ProbeResult, StepContext, StepKind, StepOutcome } from './types.js';

/** A kind's spec: its fields as its schema parses them. */
export type SpecOf<F extends z.ZodRawShape> = z.output<z.ZodObject<F>>;

/** A step kind as written: its schema, the services it uses, and what it does with its typed spec. */
export interface StepKindDefinition<F extends z.ZodRawShape, N extends ServiceName> {
  kind: string;
  /** Its own fields beside the common ones (id, title, when …): the checklist is validated with them. */
  fields: F;
  /** The services it uses (engine/services.ts): the only ones it receives. */
  needs: readonly N[];
  /** Manual steps are asked again after an interruption instead of being re-run or probed. */
  manual?: boolean;
  /**
   * Running it again after an interruption does no harm (it only reads, or it continues where it was): a resume runs
   * it again without asking. A kind with effects says how to find them with a probe instead.
   */
  rerunSafe?: boolean;
  /**
   * Its fields that name git refs (a branch or tag to make, a starting point), each with its words ("the branch
   * name"): when parameters fill them, they are checked with git's rules before the run starts (app/run.ts), so a
   * parameter git would refuse is bad input naming it, not a step that fails half-way through a release.
   */
  refs?: Partial<Record<keyof F & string, string>>;
  /** Static checks beyond the schema, on a step whose fields the schema accepted; paths relative to the step. */
  validate?(spec: SpecOf<F>, params: Record<string, ParamDef>): Array<{ path: Path; message: string }>;
  describe(step: DescribeContext<SpecOf<F>>): string;
  execute(ctx: StepContext<SpecOf<F>, N>): Promise<StepOutcome>;
  /** When the kind can tell whether its effect already happened (asked when resuming an interrupted step). */
  probe?(ctx: StepContext<SpecOf<F>, N>): Promise<ProbeResult | null>;
}

/**
 * Makes a step kind from its definition: the spec each of its functions receives is parsed by the kind's own schema
 * (typed from it, no cast), and `execute` and `probe` receive the services named in `needs` and no other.
 */
export function defineStepKind<F extends z.ZodRawShape, N extends ServiceName = never>(def: StepKindDefinition<F, N>): StepKind {
  // Made when first used: every kind is loaded at start-up (the home screen lists checklists), few are parsed.
  let schema: z.ZodObject<F> | undefined;
  const parse = (data: unknown) => (schema ??= z.object(def.fields)).safeParse(data);
  // A plan's steps are parsed once (describe, then probe and execute, use the same node).
  const parsed = new WeakMap<object, SpecOf<F>>();
  const specOf = (node: PlanNode): SpecOf<F> => {
    const known = parsed.get(node.spec);
    if (known) return known;
    const r = parse(node.spec);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(
        `step '${node.path}': its fields do not fit kind '${def.kind}' (${issue.path.join('.') || 'spec'}: ${issue.message})`,
      );
    }
    parsed.set(node.spec, r.data);
    return r.data;
  };
  const { execute, probe, validate } = def;
  return {
    kind: def.kind,
    fields: def.fields,
    needs: def.needs,
    ...(def.manual ? { manual: true } : {}),
    ...(def.rerunSafe ? { rerunSafe: true } : {}),
    ...(def.refs ? { refs: def.refs as Readonly<Record<string, string>> } : {}),
    ...(validate
      ? {
          validate: (step: Record<string, unknown>, params: Record<string, ParamDef>) => {
            // Called once the checklist's schema accepted the step, so its fields parse.
            const r = parse(step);
            return r.success ? validate(r.data, params) : [];
          },
        }
      : {}),
    describe: (node, params, settings) => def.describe({ spec: specOf(node), node, params, ...(settings ? { settings } : {}) }),
    execute: (step, services) => execute({ ...step, spec: specOf(step.node), ...services(def.needs) }),
    ...(probe ? { probe: (step, services) => probe({ ...step, spec: specOf(step.node), ...services(def.needs) }) } : {}),
  };
}
