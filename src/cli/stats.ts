import { neutralize } from '../core/sanitize.js';
import { computeStats, parseSince } from '../core/stats.js';
import { collectFacts, lastStable } from '../engine/deploy-history.js';
import { renderStatsJson, renderStatsText } from '../report/stats.js';
import { UsageError, Workspace, type GlobalOptions } from './setup.js';

export async function cmdAuditStats(g: GlobalOptions, flags: { since?: string; env?: string; json?: boolean }): Promise<number> {
  const now = Date.now();
  const since = parseSince(flags.since ?? '90d', now);
  if (!since.ok) throw new UsageError(since.why);
  if (flags.env !== undefined && !/^[A-Za-z0-9._-]+$/.test(flags.env))
    throw new UsageError(`--env ${flags.env}: expected an environment name such as production or staging`);
  const store = await new Workspace(g).openStore({ readOnly: true });
  const facts = await collectFacts(store, since.at);
  const stats = computeStats(facts, { since: since.at, now, environment: flags.env });
  // The same answer the rollback step gets (the deploy history service), over the whole log, not the window: the
  // sessions just read are not read again.
  const known = new Map(facts.map((f) => [f.id, f]));
  for (const e of stats.environments) e.lastStable = await lastStable(store, e.environment, known);
  process.stdout.write(flags.json ? renderStatsJson(stats, store.location) : neutralize(renderStatsText(stats, store.location)));
  return 0;
}
