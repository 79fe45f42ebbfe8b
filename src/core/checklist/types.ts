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
  /** The kind-specific fields (run, timeout, use, with, prompt …). */
  [field: string]: unknown;
}

export interface Checklist {
  id: string;
  title: string;
  description?: string;
  policy?: string;
  params: Record<string, ParamDef>;
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
