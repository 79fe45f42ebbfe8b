import { ignoreCleanupError } from '../core/errors.js';

/** Stores the commands opened; a module of its own so the entry can close them without loading any store code. */
const open = new Set<{ close(): Promise<void> }>();

export function trackStore(store: { close(): Promise<void> }): void {
  open.add(store);
}

/** Close every store a command opened (a PostgreSQL pool would otherwise keep the process alive). */
export async function closeStores(): Promise<void> {
  for (const s of open) await s.close().catch(ignoreCleanupError('the process is exiting: what was appended is already durable'));
  open.clear();
}
