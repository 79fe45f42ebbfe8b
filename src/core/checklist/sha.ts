import { createHash } from 'node:crypto';

/**
 * The hash of a checklist bundle's sources (every checklist's text by id): what a session records and its resume and
 * `audit verify` compare. A module of its own, without the loader: the audit store needs it, the home screen opens
 * the store at start-up, and the loader (YAML, zod) is not loaded then (docs/architecture.md §6).
 */
export function bundleSha(sources: Record<string, string>): string {
  const h = createHash('sha256');
  for (const id of Object.keys(sources).sort()) h.update(id).update('\0').update(sources[id]).update('\0');
  return h.digest('hex');
}
