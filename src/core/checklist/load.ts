import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { coerceParam } from '../params.js';
import { buildChecklistSchema, paramDefSchema, type StepKindSchema } from './schema.js';
import { yamlSizeProblem, yamlToData } from '../yaml-limits.js';
import type { Checklist, ChecklistSource, Diagnostic, ParamDef, ParamValue } from './types.js';

export type Path = ReadonlyArray<string | number>;

/** A step kind's own static checks (beyond its schema), reported at a path relative to the step. */
export interface StepKindValidator extends StepKindSchema {
  validate?(step: Record<string, unknown>, params: Record<string, ParamDef>): Array<{ path: Path; message: string }>;
}

export interface ParsedChecklist {
  source: ChecklistSource;
  checklist: Checklist;
  locate(path: Path, at?: 'key' | 'value'): { line: number; column: number };
}

export interface ParseResult {
  parsed?: ParsedChecklist;
  diagnostics: Diagnostic[];
}

const TOP_KEYS = ['id', 'title', 'description', 'policy', 'params', 'steps'];
const COMMON_STEP_KEYS = ['id', 'title', 'kind', 'help', 'policy', 'when', 'unless'];
const PARAM_KEYS = Object.keys(paramDefSchema.shape);

function scalarKey(node: unknown): unknown {
  return isScalar(node) ? node.value : node;
}

/** Maps a path into the parsed YAML to a line and column (the key's, or its value's). */
export function makeLocator(doc: Document, lc: LineCounter) {
  return (path: Path, at: 'key' | 'value' = 'value') => {
    let node: unknown = doc.contents;
    let best: YamlNode | null = (doc.contents as YamlNode | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => String(scalarKey(p.key)) === String(seg));
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && at === 'key') {
          best = pair.key as YamlNode;
          break;
        }
        best = ((pair.value as YamlNode | null) ?? (pair.key as YamlNode)) as YamlNode;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) break;
        best = item as YamlNode;
        node = item;
      } else break;
    }
    const offset = best?.range?.[0] ?? 0;
    const pos = lc.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
}

function getAt(data: unknown, path: Path): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Human words for where in the checklist a path points: "step 'tests' (steps[2]) field 'timeout'". */
function describePath(data: unknown, path: Path): string {
  if (path[0] === 'steps' && typeof path[1] === 'number') {
    const id = getAt(data, ['steps', path[1], 'id']);
    const where = typeof id === 'string' ? `step '${id}'` : `step ${path[1] + 1}`;
    const rest = path.slice(2).map(String).join('.');
    return rest ? `${where}: ${rest}` : where;
  }
  if (path[0] === 'params' && path.length >= 2) {
    const rest = path.slice(2).map(String).join('.');
    return `parameter '${String(path[1])}'${rest ? `: ${rest}` : ''}`;
  }
  return path.map(String).join('.');
}

function closest(word: string, options: string[]): string | undefined {
  const dist = (a: string, b: string) => {
    const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) dp[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return dp[a.length][b.length];
  };
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const d = dist(word, o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best;
}

function allowedKeysAt(data: unknown, path: Path, kinds: StepKindSchema[]): string[] {
  if (path.length === 0) return TOP_KEYS;
  if (path[0] === 'steps' && path.length === 2) {
    const kind = getAt(data, [...path, 'kind']);
    const k = kinds.find((x) => x.kind === kind);
    return [...COMMON_STEP_KEYS, ...(k ? Object.keys(k.fields) : [])];
  }
  if (path[0] === 'params' && path.length === 2) return PARAM_KEYS;
  return [];
}

function describeValue(value: unknown): string {
  return value === null
    ? 'nothing'
    : Array.isArray(value)
      ? 'a list'
      : typeof value === 'object'
        ? 'a mapping'
        : `${typeof value} ${JSON.stringify(value)}`;
}

function issueToDiagnostics(
  issue: z.core.$ZodIssue,
  data: unknown,
  kinds: StepKindSchema[],
  file: string,
  locate: ParsedChecklist['locate'],
): Diagnostic[] {
  const path = issue.path as Path;
  const where = describePath(data, path);
  const at = (p: Path, message: string, mode: 'key' | 'value' = 'value'): Diagnostic => ({ file, ...locate(p, mode), message });
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(data, path, kinds);
      return issue.keys.map((key) => {
        const guess = closest(key, allowed);
        const owner = path.length ? describePath(data, path) : 'checklist';
        return at(
          [...path, key],
          `unknown key '${key}' in ${owner}${guess ? ` (did you mean '${guess}'?)` : ''}; expected one of: ${allowed.join(', ')}`,
          'key',
        );
      });
    }
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (disc) {
        const value = getAt(data, path);
        const owner = describePath(data, path.slice(0, -1));
        const list = (options ?? []).map(String).join(', ');
        if (value === undefined) return [at(path.slice(0, -1), `${owner}: missing required field '${disc}' (one of: ${list})`)];
        return [at(path, `${owner}: unknown step kind '${String(value)}'; expected one of: ${list}`)];
      }
      // A plain union (a command: string or argv list; a duration: string or number): say what was expected.
      const value = getAt(data, path);
      if (value === undefined && path.length > 0) {
        const owner = path.length > 1 ? describePath(data, path.slice(0, -1)) : 'checklist';
        return [at(path.slice(0, -1), `${owner}: missing required field '${String(path[path.length - 1])}'`)];
      }
      const branches = ((issue as { errors?: z.core.$ZodIssue[][] }).errors ?? []).map((e) =>
        e.find((x) => x.code === 'invalid_type' && x.path.length === 0),
      );
      if (branches.length && branches.every((b) => b)) {
        const words: Record<string, string> = {
          string: 'a string',
          number: 'a number',
          boolean: 'a boolean',
          array: 'a list',
          object: 'a mapping',
          record: 'a mapping',
        };
        const expected = [
          ...new Set(
            branches.map((b) => {
              const e = String((b as { expected?: string }).expected);
              return words[e] ?? e;
            }),
          ),
        ];
        return [at(path, `${where}: expected ${expected.join(' or ')}, got ${describeValue(value)}`)];
      }
      return [at(path, `${where}: ${issue.message}`)];
    }
    case 'invalid_key': {
      // A record key (parameter name, env variable name) that fails its check: at the key, with the schema's message.
      const inner = ((issue as { issues?: z.core.$ZodIssue[] }).issues ?? []).map((x) => x.message).join('; ');
      return [at(path, `${describePath(data, path.slice(0, -1))}: '${String(path[path.length - 1])}': ${inner || issue.message}`, 'key')];
    }
    case 'invalid_type': {
      const value = getAt(data, path);
      if (value === undefined) {
        const field = String(path[path.length - 1]);
        const owner = path.length > 1 ? describePath(data, path.slice(0, -1)) : 'checklist';
        return [at(path.slice(0, -1), `${owner}: missing required field '${field}'`)];
      }
      return [
        at(
          path,
          `${where}: expected ${issue.expected === 'record' || issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : issue.expected}, got ${describeValue(value)}`,
        ),
      ];
    }
    default:
      return [at(path, `${where}: ${issue.message.replace(/^Invalid input: /, '')}`)];
  }
}

/** Parse and validate one checklist file: YAML syntax, schema, and the checks that need only this file. */
export function parseChecklist(source: ChecklistSource, kinds: StepKindValidator[]): ParseResult {
  const tooLarge = yamlSizeProblem(source.text);
  if (tooLarge) return { diagnostics: [{ file: source.file, line: 1, column: 1, message: `the file ${tooLarge}` }] };
  const lc = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const locate = makeLocator(doc, lc);
  const file = source.file;
  if (doc.errors.length) {
    return {
      diagnostics: doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, message: `invalid YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const js = yamlToData(doc);
  if (!js.ok) return { diagnostics: [{ file, line: 1, column: 1, message: js.message }] };
  const data = js.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { diagnostics: [{ file, line: 1, column: 1, message: 'expected a checklist: a YAML mapping with id, title and steps' }] };
  }
  const schema = buildChecklistSchema(kinds);
  const result = schema.safeParse(data);
  if (!result.success) {
    const diagnostics = result.error.issues.flatMap((i) => issueToDiagnostics(i, data, kinds, file, locate));
    return { diagnostics: sortDiagnostics(dedupe(diagnostics)) };
  }
  const checklist: Checklist = result.data;
  const diagnostics: Diagnostic[] = [];
  const at = (path: Path, message: string, mode: 'key' | 'value' = 'value') => diagnostics.push({ file, ...locate(path, mode), message });

  for (const [name, def] of Object.entries(checklist.params)) {
    if (def.type === 'enum' && !def.choices) at(['params', name], `parameter '${name}': type enum needs choices`);
    if (def.pattern) {
      try {
        new RegExp(def.pattern, 'u');
      } catch (e) {
        at(['params', name, 'pattern'], `parameter '${name}': pattern is not a valid regular expression (${(e as Error).message})`);
      }
    }
    if (def.default !== undefined) {
      const r = coerceParam(name, def, def.default);
      if (!r.ok)
        at(
          ['params', name, 'default'],
          `parameter '${name}': default is of the wrong type: ${r.message.replace(/^parameter '[^']+' /, '')}`,
        );
    }
  }

  const seen = new Map<string, number>();
  checklist.steps.forEach((step, i) => {
    const first = seen.get(step.id);
    if (first !== undefined) at(['steps', i, 'id'], `duplicate step id '${step.id}' (first used by step ${first + 1})`);
    else seen.set(step.id, i);
    for (const key of ['when', 'unless'] as const) {
      const cond = step[key];
      if (!cond) continue;
      for (const [name, want] of Object.entries(cond)) {
        const def = Object.hasOwn(checklist.params, name) ? checklist.params[name] : undefined;
        if (!def) {
          at(['steps', i, key, name], `step '${step.id}': ${key} refers to unknown parameter '${name}'`, 'key');
          continue;
        }
        // Keep the coerced values (yes → true, v1.2.3 → 1.2.3): conditions compare with the coerced parameters.
        const coerced: ParamValue[] = [];
        for (const w of Array.isArray(want) ? want : [want]) {
          const r = coerceParam(name, def, w);
          if (!r.ok) at(['steps', i, key, name], `step '${step.id}': ${key}: ${r.message}`);
          else coerced.push(r.value);
        }
        cond[name] = Array.isArray(want) ? coerced : coerced[0];
      }
    }
    const kind = kinds.find((k) => k.kind === step.kind);
    for (const problem of kind?.validate?.(step, checklist.params) ?? []) {
      at(['steps', i, ...problem.path], `step '${step.id}': ${problem.message}`);
    }
  });

  // A recovery objective's `when` names parameters like a step's: one that names none would never apply.
  const objectives =
    checklist.objective === undefined ? [] : Array.isArray(checklist.objective) ? checklist.objective : [checklist.objective];
  objectives.forEach((o, i) => {
    for (const name of Object.keys(o.when ?? {}))
      if (!Object.hasOwn(checklist.params, name))
        at(
          ['objective', ...(Array.isArray(checklist.objective) ? [i] : []), 'when', name],
          `objective: when refers to unknown parameter '${name}'`,
          'key',
        );
  });

  if (diagnostics.length) return { diagnostics: sortDiagnostics(diagnostics) };
  return { parsed: { source, checklist, locate }, diagnostics: [] };
}

export function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.file}:${d.line}:${d.column}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.line - b.line || a.column - b.column);
}

export interface ChecklistSummary {
  id: string;
  title: string;
  description?: string;
  params: Record<string, ParamDef>;
}

/**
 * What a list of checklists shows (title, description, parameters), read without validating the steps or
 * resolving includes: several times cheaper than `parseChecklist`, so the home screen appears at once. Null when
 * even that much is not there; whether the checklist is valid is for `loadBundle` to say.
 */
export function summarizeChecklist(source: ChecklistSource): ChecklistSummary | null {
  let doc: unknown;
  if (yamlSizeProblem(source.text)) return null;
  try {
    doc = parseDocument(source.text, { uniqueKeys: false }).toJS();
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return null;
  const d = doc as Record<string, unknown>;
  if (typeof d.title !== 'string') return null;
  const params: Record<string, ParamDef> = {};
  if (d.params && typeof d.params === 'object' && !Array.isArray(d.params)) {
    for (const [name, def] of Object.entries(d.params as Record<string, unknown>)) {
      const r = paramDefSchema.safeParse(def);
      if (!r.success) return null;
      params[name] = r.data as ParamDef;
    }
  }
  return {
    id: typeof d.id === 'string' ? d.id : source.id,
    title: d.title,
    ...(typeof d.description === 'string' ? { description: d.description } : {}),
    params,
  };
}
