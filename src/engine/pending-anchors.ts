/**
 * Anchors being written in the background (engine/session.ts): a module of its own, with no imports, so that the
 * CLI's entry can wait for them before it exits without loading the engine.
 */
const pending = new Set<Promise<void>>();

export function trackAnchor(p: Promise<void>): void {
  pending.add(p);
  void p.finally(() => pending.delete(p));
}

/** Resolves once every anchor asked for so far is written (and pushed). */
export async function anchorsWritten(): Promise<void> {
  while (pending.size) await Promise.all([...pending]);
}
