/**
 * A YAML file read against a zod schema, every problem reported as `file:line:column: path: what` (the checklists'
 * format): used for cockpit.config.yaml and the backfill definitions.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { makeLocator } from './checklist/load.js';
import { formatDiagnostic, limitLines, DIAGNOSTIC_LIMIT } from './checklist/types.js';
import { yamlSizeProblem, yamlToData } from './yaml-limits.js';

/** The data, or the diagnostics (one per line, the first 20 and how many more). `what` names the whole document in a message about its root. */
export function parseYamlInput<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
  what: string,
): { ok: true; data: z.infer<S> } | { ok: false; message: string } {
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
  const r = schema.safeParse(data.data ?? {});
  if (r.success) return { ok: true, data: r.data };
  const locate = makeLocator(doc, lc);
  // Only the problems that are shown are located and worded: a file with 100k of them answers at once.
  const issues = r.error.issues;
  const lines = issues.slice(0, DIAGNOSTIC_LIMIT + 1).map((issue) => {
    const unknownKey = issue.code === 'unrecognized_keys';
    const p = (unknownKey ? [...issue.path, issue.keys[0]] : issue.path) as Array<string | number>;
    const pos = locate(p, unknownKey ? 'key' : 'value');
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    return formatDiagnostic({ file, ...pos, message: `${p.join('.') || what}: ${missing ? 'required' : issue.message}` });
  });
  return { ok: false, message: limitLines(lines, issues.length) };
}
