import { systemClock } from '../adapters/clock.js';
import { currentIdentity } from '../adapters/identity.js';
import type { AuditStore } from '../audit/store.js';
import type { EngineDeps } from '../engine/session.js';
import { stepKindMap } from '../steps/index.js';
import { cockpitVersion } from '../version.js';
import type { Workspace } from './setup.js';

/** What every session driver gives the engine: the store, the step kinds, who and when, where, and the config's env. */
export function baseDeps(
  ws: Workspace,
  store: AuditStore,
): Pick<EngineDeps, 'store' | 'kinds' | 'identity' | 'clock' | 'repoDir' | 'env' | 'version' | 'settings'> {
  return {
    store,
    kinds: stepKindMap,
    identity: currentIdentity(),
    clock: systemClock,
    repoDir: ws.repoDir,
    env: Object.fromEntries(Object.entries(ws.config.env ?? {}).map(([k, v]) => [k, String(v)])),
    version: cockpitVersion(),
    settings: { release: ws.config.release ?? {}, watch: ws.watchConfig() },
  };
}
