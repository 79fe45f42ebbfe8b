import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChecklistSummary } from '../core/checklist/load.js';
import type { ChecklistSource } from '../core/checklist/types.js';
import { cockpitVersion } from '../version.js';
import { cacheDir, writeCacheFile } from './first-frame.js';

type Entry = { sha1: string; summary: ChecklistSummary | null };
type CacheFile = { version: string; entries: Record<string, Entry> };

/**
 * Checklist summaries for the home screen, remembered by content hash. Parsing the YAML of the default checklists
 * (long policy texts) was the largest part of the home screen's start-up; hashing the same text is ~100x cheaper.
 * The cache is only ever a shortcut: an unreadable or stale one is ignored and rewritten, a failed write is ignored.
 * The loader (YAML and zod, a third of the home screen's code) is imported only on a miss (docs/architecture.md §6).
 */
export async function cachedSummaries(
  sources: ChecklistSource[],
  file = path.join(cacheDir(), 'checklist-summaries.json'),
): Promise<Array<ChecklistSummary | null>> {
  let cache: CacheFile = { version: cockpitVersion(), entries: {} };
  try {
    const read = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (read.version === cache.version && read.entries && typeof read.entries === 'object') cache = read;
  } catch {
    // No cache yet, or a broken one: made anew below.
  }
  let changed = false;
  let summarize: typeof import('../core/checklist/load.js').summarizeChecklist | undefined;
  const out: Array<ChecklistSummary | null> = [];
  for (const src of sources) {
    const sha1 = createHash('sha1').update(src.text).digest('hex');
    const key = path.resolve(src.file);
    const hit = Object.hasOwn(cache.entries, key) ? cache.entries[key] : undefined;
    if (hit && hit.sha1 === sha1) {
      out.push(hit.summary);
      continue;
    }
    summarize ??= (await import('../core/checklist/load.js')).summarizeChecklist;
    const summary = summarize(src);
    cache.entries[key] = { sha1, summary };
    changed = true;
    out.push(summary);
  }
  if (changed) writeCacheFile(file, cache);
  return out;
}
