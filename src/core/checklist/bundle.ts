import { bundleSha } from './sha.js';
import { coerceParam, templateRefs } from '../params.js';
import { dedupe, parseChecklist, type ParsedChecklist, type StepKindValidator } from './load.js';
import type { ChecklistSource, Diagnostic } from './types.js';

/** Finds a checklist by id (the repo's `checklists/`, then the defaults); null when there is none. */
export interface ChecklistResolver {
  find(id: string): ChecklistSource | null;
  /** Where it looked, for the error message. */
  describe(): string;
}

/** A checklist with every checklist it includes, all parsed and cross-checked. */
export interface ChecklistBundle {
  root: ParsedChecklist;
  byId: Map<string, ParsedChecklist>;
  /** sha256 over every source in the bundle: resuming refuses when this changes. */
  sha256: string;
  sources: Record<string, string>;
}

export interface BundleResult {
  bundle?: ChecklistBundle;
  diagnostics: Diagnostic[];
}

const WHOLE_REF = /^\$\{([A-Za-z_][A-Za-z0-9_-]*)\}$/;

export { bundleSha };

/** Parse a checklist and, depth first, everything it includes: `use:` that resolves, no cycles, `with:` that fits. */
export function loadBundle(rootSource: ChecklistSource, resolver: ChecklistResolver, kinds: StepKindValidator[]): BundleResult {
  const byId = new Map<string, ParsedChecklist>();
  const diagnostics: Diagnostic[] = [];
  const failed = new Set<string>();

  const visit = (source: ChecklistSource, stack: string[]): ParsedChecklist | undefined => {
    const r = parseChecklist(source, kinds);
    if (!r.parsed) {
      // One at a time: spreading 100k diagnostics as arguments overflows the stack.
      for (const d of r.diagnostics) diagnostics.push(d);
      return undefined;
    }
    const parsed = r.parsed;
    const cl = parsed.checklist;
    if (!byId.has(cl.id)) byId.set(cl.id, parsed);
    cl.steps.forEach((step, i) => {
      if (step.kind !== 'checklist') return;
      const use = String(step.use);
      const at = (path: Array<string | number>, message: string, mode: 'key' | 'value' = 'value') =>
        diagnostics.push({ file: source.file, ...parsed.locate(['steps', i, ...path], mode), message: `step '${step.id}': ${message}` });
      const chain = [...stack, cl.id];
      if (chain.includes(use)) {
        at(['use'], `cycle of includes: ${[...chain.slice(chain.indexOf(use)), use].join(' → ')}`);
        return;
      }
      let child = byId.get(use);
      if (!child && !failed.has(use)) {
        const src = resolver.find(use);
        if (!src) {
          at(['use'], `checklist '${use}' does not exist (looked in ${resolver.describe()})`);
          failed.add(use);
          return;
        }
        child = visit(src, chain);
        if (!child) failed.add(use);
      } else if (child) {
        // Already loaded through another path: still check that this include does not close a cycle.
        const cyc = findCycle(child, byId, chain);
        if (cyc) {
          at(['use'], `cycle of includes: ${cyc.join(' → ')}`);
          return;
        }
      }
      if (!child) return;
      const childParams = child.checklist.params;
      const given = (step.with ?? {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(given)) {
        const def = Object.hasOwn(childParams, name) ? childParams[name] : undefined;
        if (!def) {
          const known = Object.keys(childParams);
          at(['with', name], `checklist '${use}' has no parameter '${name}' (it takes: ${known.join(', ') || 'none'})`, 'key');
          continue;
        }
        if (typeof value === 'string' && templateRefs(value).length) {
          for (const ref of templateRefs(value)) {
            if (!Object.hasOwn(cl.params, ref)) at(['with', name], `'${value}' refers to unknown parameter '${ref}' of '${cl.id}'`);
          }
          const whole = WHOLE_REF.exec(value);
          const src = whole && Object.hasOwn(cl.params, whole[1]) ? cl.params[whole[1]] : undefined;
          if (src && src.type !== def.type && !(def.type === 'string')) {
            at(['with', name], `parameter '${name}' of '${use}' is ${def.type}, but '${whole![1]}' is ${src.type}`);
          }
          continue;
        }
        const r = coerceParam(name, def, value);
        if (!r.ok) at(['with', name], `a parameter of the wrong type for '${use}': ${r.message}`);
      }
      for (const [name, def] of Object.entries(childParams)) {
        if (!def.required || def.default !== undefined || Object.hasOwn(given, name)) continue;
        if (!Object.hasOwn(cl.params, name)) {
          at(
            ['use'],
            `checklist '${use}' needs parameter '${name}': pass it with 'with: {${name}: …}' or give '${cl.id}' a parameter of that name`,
          );
        }
      }
    });
    return parsed;
  };

  const root = visit(rootSource, []);
  if (!root || diagnostics.length) return { diagnostics: dedupe(diagnostics) };
  const sources: Record<string, string> = {};
  for (const [id, p] of byId) sources[id] = p.source.text;
  return { bundle: { root, byId, sources, sha256: bundleSha(sources) }, diagnostics: [] };
}

function findCycle(start: ParsedChecklist, byId: Map<string, ParsedChecklist>, chain: string[]): string[] | null {
  const walk = (p: ParsedChecklist, path: string[]): string[] | null => {
    for (const step of p.checklist.steps) {
      if (step.kind !== 'checklist') continue;
      const use = String(step.use);
      if (path.includes(use)) return [...path.slice(path.indexOf(use)), use];
      const child = byId.get(use);
      if (child) {
        const r = walk(child, [...path, use]);
        if (r) return r;
      }
    }
    return null;
  };
  return walk(start, [...chain, start.checklist.id]);
}
