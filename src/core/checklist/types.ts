import type { ObjectiveDef } from '../recovery.js';
export type ParamType = 'string' | 'semver' | 'boolean' | 'integer' | 'enum';
export type ParamValue = string | number | boolean;

export interface ParamDef {
  type: ParamType;
  required?: boolean;
  default?: ParamValue;
  description?: string;
  choices?: Array<string | number>;
  pattern?: string;
  secret?: boolean;
}

/** `when: {environment: production}` or `{environment: [staging, production]}`: every key must match. */
export type Condition = Record<string, ParamValue | ParamValue[]>;

export interface StepDef {
  id: string;
  title: string;
  kind: string;
  help?: string;
  policy?: string;
  when?: Condition;
  unless?: Condition;
  idempotent?: boolean;
  /** The kind-specific fields (run, timeout, use, with, prompt …). */
  [field: string]: unknown;
}

export interface Checklist {
  id: string;
  title: string;
  description?: string;
  policy?: string;
  params: Record<string, ParamDef>;
  /** The recovery time objective a session of it is timed against (core/recovery.ts). */
  objective?: ObjectiveDef | ObjectiveDef[];
  steps: StepDef[];
}

/** A checklist as read from its source, with where it came from. */
export interface ChecklistSource {
  id: string;
  file: string;
  text: string;
}

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message}`;
}

/** How many problems a message lists before it says how many more there are. */
export const DIAGNOSTIC_LIMIT = 20;

/** Problems one per line, at most `limit` of them and then "… and N more problems": a broken file of any size answers at once. */
export function formatDiagnostics(ds: readonly Diagnostic[], limit = DIAGNOSTIC_LIMIT): string {
  return limitLines(ds.slice(0, limit + 1).map(formatDiagnostic), ds.length, limit);
}

/** The first `limit` of `total` lines, and a last line counting the rest. */
export function limitLines(lines: readonly string[], total = lines.length, limit = DIAGNOSTIC_LIMIT): string {
  if (total <= limit) return lines.join('\n');
  const rest = total - limit;
  return [...lines.slice(0, limit), `… and ${rest} more problem${rest === 1 ? '' : 's'}`].join('\n');
}
