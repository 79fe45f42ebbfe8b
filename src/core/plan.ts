import type { ChecklistBundle } from './checklist/bundle.js';
import type { Checklist, ParamValue } from './checklist/types.js';
import type { PlanNode, Scope } from './events.js';
import { resolveParams } from './params.js';

const COMMON = new Set(['id', 'title', 'kind', 'help', 'policy', 'when', 'unless', 'idempotent']);
const WHOLE_REF = /^\$\{([A-Za-z_][A-Za-z0-9_-]*)\}$/;
const REF = /\$\{([A-Za-z_][A-Za-z0-9_-]*)\}/g;

export interface PlanResult {
  plan: PlanNode[];
  scopes: Record<string, Scope>;
  errors: string[];
}

/** Parameters an included checklist receives: same-named ones pass through, `with:` sets or overrides. */
function childParams(child: Checklist, parentParams: Record<string, ParamValue>, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const parent = (name: string) => (Object.hasOwn(parentParams, name) ? parentParams[name] : undefined);
  for (const name of Object.keys(child.params)) if (parent(name) !== undefined) out[name] = parent(name);
  for (const [name, value] of Object.entries(given)) {
    if (typeof value !== 'string') {
      out[name] = value;
      continue;
    }
    const whole = WHOLE_REF.exec(value);
    if (whole) {
      if (parent(whole[1]) !== undefined) out[name] = parent(whole[1]);
      else delete out[name];
      continue;
    }
    out[name] = value.replace(REF, (_m, ref: string) => String(parent(ref) ?? ''));
  }
  return out;
}

/** Expand a bundle into the flat, ordered list of steps a session runs, with each include's parameters. */
export function buildPlan(bundle: ChecklistBundle, rootParams: Record<string, ParamValue>): PlanResult {
  const plan: PlanNode[] = [];
  const scopes: Record<string, Scope> = {};
  const errors: string[] = [];

  const walk = (cl: Checklist, params: Record<string, ParamValue>, prefix: string, parent: string | null, depth: number) => {
    scopes[prefix] = { checklist: cl.id, params };
    for (const step of cl.steps) {
      const path = prefix ? `${prefix}/${step.id}` : step.id;
      const spec: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(step)) if (!COMMON.has(k)) spec[k] = v;
      plan.push({
        path,
        id: step.id,
        title: step.title,
        kind: step.kind,
        depth,
        parent,
        checklist: cl.id,
        help: step.help,
        policy: step.policy,
        when: step.when,
        unless: step.unless,
        ...(step.idempotent ? { idempotent: true } : {}),
        scope: prefix,
        spec,
      });
      if (step.kind === 'checklist') {
        const child = bundle.byId.get(String(step.use));
        if (!child) {
          errors.push(`step '${path}': checklist '${String(step.use)}' is not loaded`);
          continue;
        }
        const given = childParams(child.checklist, params, (step.with ?? {}) as Record<string, unknown>);
        const r = resolveParams(child.checklist.params, given);
        for (const e of r.errors) errors.push(`step '${path}' (includes '${child.checklist.id}'): ${e}`);
        walk(child.checklist, r.values, path, path, depth + 1);
      }
    }
  };
  walk(bundle.root.checklist, rootParams, '', null, 0);
  return { plan, scopes, errors };
}

/** The include steps that contain `path`, outermost first. */
export function ancestors(plan: PlanNode[], index: Record<string, number>, path: string): PlanNode[] {
  const out: PlanNode[] = [];
  let node = plan[index[path]];
  while (node && node.parent) {
    node = plan[index[node.parent]];
    if (node) out.unshift(node);
  }
  return out;
}
