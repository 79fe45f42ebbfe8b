import type { PlanNode } from '../core/events.js';

/** `--yes`: the steps confirmed in advance (by id or path), or all of them. */
export type YesList = { all: boolean; names: Set<string> };

export function parseYes(values: string[] | undefined): YesList {
  const names = new Set<string>();
  let all = false;
  for (const v of values ?? []) {
    for (const part of v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (part === 'all') all = true;
      else names.add(part);
    }
  }
  return { all, names };
}

/** `--yes` names must be steps of the plan (by id or full path): a typo must not silently confirm nothing. */
export function unknownYesNames(yes: YesList, plan: PlanNode[]): string[] {
  return [...yes.names].filter((n) => !plan.some((p) => p.id === n || p.path === n));
}

/** Whether `--yes` confirms this step in advance (by id, path, or `all`). */
export function preConfirmed(yes: YesList, node: Pick<PlanNode, 'id' | 'path'>): boolean {
  return yes.all || yes.names.has(node.path) || yes.names.has(node.id);
}
