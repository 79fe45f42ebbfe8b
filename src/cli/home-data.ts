/**
 * What the home screen shows, read from the light workspace (cli/workspace.ts): the checklists (titles and
 * parameters, from their summaries' cache), the recent sessions with what each does now, and the release calendar.
 * Read once before the first frame, by the plain first frame (cli/plain-home.ts) or the Ink screen's services
 * (cli/tui.tsx): no React, Ink, zod or YAML on the way (test/unit/home-closure.test.ts).
 */
import type { AuditReader } from '../audit/sqlite-reader.js';
import { nextSlot } from '../core/release/slot.js';
import type { HomeData } from '../tui/types.js';
import { readDue } from './comms.js';
import { sessionRows } from './sessions.js';
import { cachedSummaries } from './summary-cache.js';
import type { BaseWorkspace } from './workspace.js';

export async function readHomeData(ws: BaseWorkspace, store: AuditReader, host: string, now: number): Promise<HomeData> {
  // Titles and parameters only: full validation (steps, includes) runs after the first frame, in `check`.
  const listed = ws.listChecklists();
  const summaries = await cachedSummaries(listed.map((c) => ws.sourceFor(c.file).source));
  const checklists = listed.map((c, i) => {
    const sum = summaries[i];
    return {
      id: c.id,
      title: sum?.title ?? c.id,
      ...(sum?.description ? { description: sum.description } : {}),
      origin: c.origin === 'repo' ? (c.overrides ? 'this repo (overrides a default)' : 'this repo') : 'default',
      params: sum?.params ?? {},
      ...(sum ? {} : { broken: `it does not parse; cockpit checklist validate ${c.file}` }),
    };
  });
  // Read once: the list shows them, and the due line looks for deliveries among them.
  const recent = await store.listSessions(50);
  const sessions = await sessionRows(store, 50, host, ws.repoDir, recent);
  const schedule = ws.config.release?.schedule;
  return {
    repoDir: ws.repoDir,
    auditLocation: store.location,
    checklists,
    sessions,
    ...(schedule
      ? { schedule: { ...nextSlot(schedule, now), due: await readDue(store, schedule, now, { sessions: recent, limit: 50 }) } }
      : {}),
  };
}
