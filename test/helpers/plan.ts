import type { EventDataMap, PlanNode } from '../../src/core/events.js';

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

/**
 * `session.started` data of checklist `id` with `plan`, everything else plain (alice on h, no parameters, the root
 * scope of `id`); `extra` sets what a test is about.
 */
export function startedData(
  id: string,
  plan: PlanNode[],
  extra: Partial<EventDataMap['session.started']> = {},
): EventDataMap['session.started'] {
  return {
    checklist: { id, title: id, sha256: 'x' },
    origin: { file: id, byId: true },
    params: {},
    environment: null,
    operator: 'alice',
    host: 'h',
    pid: 1,
    mode: 'interactive',
    version: '0.1.0',
    plan,
    scopes: { '': { checklist: id, params: {} } },
    ...extra,
  };
}
