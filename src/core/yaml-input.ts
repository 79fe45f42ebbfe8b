/**
 * A YAML file read against a zod schema, every problem reported as `file:line:column: path: what` (the checklists'
 * format): used for cockpit.config.yaml (with its local overlay, cockpit.local.yaml) and the backfill definitions.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { makeLocator, type Path } from './checklist/load.js';
import { formatDiagnostic, limitLines, DIAGNOSTIC_LIMIT } from './checklist/types.js';
import { yamlSizeProblem, yamlToData } from './yaml-limits.js';

type Result<T> = { ok: true; data: T } | { ok: false; message: string };

/** The data, or the diagnostics (one per line, the first 20 and how many more). `what` names the whole document in a message about its root. */
export function parseYamlInput<S extends z.ZodType>(file: string, text: string, schema: S, what: string): Result<z.infer<S>> {
  return parseYamlLayers([{ file, text }], schema, what);
}

interface Layer {
  file: string;
  data: unknown;
  locate: ReturnType<typeof makeLocator>;
}

function readLayer(file: string, text: string): Result<Layer> {
  const tooLarge = yamlSizeProblem(text);
  if (tooLarge) return { ok: false, message: `${file} ${tooLarge}` };
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    return {
      ok: false,
      message: formatDiagnostic({ file, line: pos.line, column: pos.col, message: `invalid YAML: ${e.message.split('\n')[0]}` }),
    };
  }
  const data = yamlToData(doc);
  if (!data.ok) return { ok: false, message: formatDiagnostic({ file, line: 1, column: 1, message: data.message }) };
  return { ok: true, data: { file, data: data.data ?? {}, locate: makeLocator(doc, lc) } };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` laid over `base` key by key: objects merge, anything else (a list, a scalar, null) replaces. */
export function overlay(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = Object.hasOwn(base, k) ? overlay(base[k], v) : v;
  return out;
}

/** How many leading segments of `path` lead to a value in `data`. */
function depthIn(data: unknown, path: Path): number {
  let cur = data;
  let n = 0;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number' && seg < cur.length) cur = cur[seg];
    else if (isPlainObject(cur) && Object.hasOwn(cur, String(seg))) cur = cur[String(seg)];
    else break;
    n++;
  }
  return n;
}

/**
 * Several YAML files, each laid over the one before (see {@link overlay}), read as one against `schema`. A problem is
 * reported in the file whose value is the one read: the last layer that holds most of its path.
 */
export function parseYamlLayers<S extends z.ZodType>(
  layers: ReadonlyArray<{ file: string; text: string }>,
  schema: S,
  what: string,
): Result<z.infer<S>> {
  const read: Layer[] = [];
  for (const l of layers) {
    const r = readLayer(l.file, l.text);
    if (!r.ok) return r;
    read.push(r.data);
  }
  const merged = read.reduce<unknown>((acc, l) => (acc === undefined ? l.data : overlay(acc, l.data)), undefined);
  const r = schema.safeParse(merged ?? {});
  if (r.success) return { ok: true, data: r.data };
  // Only the problems that are shown are located and worded: a file with 100k of them answers at once.
  const issues = r.error.issues;
  const lines = issues.slice(0, DIAGNOSTIC_LIMIT + 1).map((issue) => {
    const unknownKey = issue.code === 'unrecognized_keys';
    const p = (unknownKey ? [...issue.path, issue.keys[0]] : issue.path) as Array<string | number>;
    let at = read[read.length - 1];
    let best = -1;
    for (const l of read) {
      const d = depthIn(l.data, p);
      if (d >= best) [at, best] = [l, d];
    }
    const pos = at.locate(p, unknownKey ? 'key' : 'value');
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    return formatDiagnostic({ file: at.file, ...pos, message: `${p.join('.') || what}: ${missing ? 'required' : issue.message}` });
  });
  return { ok: false, message: limitLines(lines, issues.length) };
}
