import type { PlanNode } from '../../src/core/events.js';

/** A plan node for a path like `inc/b` (parent, depth and scope follow from the path). */
export function planNode(path: string, kind = 'run', extra: Partial<PlanNode> = {}): PlanNode {
  const parts = path.split('/');
  const parent = parts.length > 1 ? parts.slice(0, -1).join('/') : null;
  return {
    path,
    id: parts.at(-1)!,
    title: `Step ${path}`,
    kind,
    depth: parts.length - 1,
    parent,
    checklist: 'x',
    scope: parent ?? '',
    spec: {},
    ...extra,
  };
}
