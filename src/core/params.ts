import semver from 'semver';
import type { Condition, ParamDef, ParamValue } from './checklist/types.js';

export type Coerced = { ok: true; value: ParamValue } | { ok: false; message: string };

/** Check (and convert, for strings from `-p key=value`) one value against its parameter definition. */
export function coerceParam(name: string, def: ParamDef, raw: unknown): Coerced {
  const fail = (expected: string): Coerced => ({
    ok: false,
    message: `parameter '${name}' expects ${expected}, got ${JSON.stringify(raw)}`,
  });
  let value: ParamValue;
  switch (def.type) {
    case 'boolean':
      if (typeof raw === 'boolean') value = raw;
      else if (typeof raw === 'string' && ['true', 'yes', 'on', '1'].includes(raw.trim().toLowerCase())) value = true;
      else if (typeof raw === 'string' && ['false', 'no', 'off', '0'].includes(raw.trim().toLowerCase())) value = false;
      else return fail('a boolean (true or false)');
      break;
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return fail('an integer');
      value = n;
      break;
    }
    case 'semver': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return fail('a semantic version like 2.3.1');
      const text = String(raw)
        .trim()
        .replace(/^v(?=\d)/, '');
      if (!semver.valid(text)) return fail('a semantic version like 2.3.1');
      // semver.clean would drop build metadata (+build.5); keep the version as written, less a leading v.
      value = text;
      break;
    }
    case 'enum': {
      const choices = def.choices ?? [];
      const hit = choices.find((c) => String(c) === String(raw));
      if (hit === undefined) return fail(`one of ${choices.map((c) => String(c)).join(', ')}`);
      value = hit;
      break;
    }
    default:
      if (typeof raw !== 'string' && typeof raw !== 'number') return fail('a string');
      value = String(raw);
  }
  if (def.pattern && typeof value === 'string') {
    let re: RegExp;
    try {
      re = new RegExp(def.pattern, 'u');
    } catch {
      return { ok: false, message: `parameter '${name}' has an invalid pattern ${def.pattern}` };
    }
    if (!re.test(value)) return fail(`a value matching ${def.pattern}`);
  }
  return { ok: true, value };
}

/** A value offered for a parameter before the operator types (the form fills it in), and why; null when none can be. */
export interface ParamSuggestion {
  value: string | null;
  reason: string;
}

/** The required parameters that neither `given` nor a default fills: what a form must ask for. */
export function missingParams(defs: Record<string, ParamDef>, given: Record<string, unknown>): string[] {
  return Object.entries(defs)
    .filter(([name, def]) => def.required && given[name] === undefined && def.default === undefined)
    .map(([name]) => name);
}

export interface ResolvedParams {
  values: Record<string, ParamValue>;
  errors: string[];
}

/** Apply defaults, coerce what was given, and report unknown or missing parameters. */
export function resolveParams(defs: Record<string, ParamDef>, given: Record<string, unknown>): ResolvedParams {
  const values: Record<string, ParamValue> = {};
  const errors: string[] = [];
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(defs, key)) {
      const known = Object.keys(defs);
      errors.push(
        `unknown parameter '${key}'${known.length ? ` (this checklist takes: ${known.join(', ')})` : ' (this checklist takes none)'}`,
      );
    }
  }
  for (const [name, def] of Object.entries(defs)) {
    const raw = given[name] !== undefined ? given[name] : def.default;
    if (raw === undefined) {
      if (def.required)
        errors.push(`missing required parameter '${name}'${def.description ? ` (${def.description})` : ''}: pass -p ${name}=…`);
      continue;
    }
    const r = coerceParam(name, def, raw);
    if (r.ok) values[name] = r.value;
    else errors.push(r.message);
  }
  return { values, errors };
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_-]*)\}/g;

/** The parameter names a `${name}` template refers to. */
export function templateRefs(template: string): string[] {
  return [...template.matchAll(REF)].map((m) => m[1]);
}

/**
 * Fill `${name}` from the parameters. Used for argv elements, env values and `with:` values only: the result is
 * one argument or one value, never shell text, so a parameter cannot inject a command.
 */
export function interpolate(template: string, params: Record<string, ParamValue>): string {
  return template.replace(REF, (_m, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : ''));
}

export interface ConditionResult {
  pass: boolean;
  reason: string;
}

function show(v: ParamValue | ParamValue[]): string {
  return Array.isArray(v) ? v.map((x) => JSON.stringify(x)).join(' or ') : JSON.stringify(v);
}

function matches(cond: Condition, params: Record<string, ParamValue>): { ok: boolean; detail: string } {
  for (const [name, want] of Object.entries(cond)) {
    const have = Object.hasOwn(params, name) ? params[name] : undefined;
    const wanted = Array.isArray(want) ? want : [want];
    if (!wanted.some((w) => String(w) === String(have))) {
      return { ok: false, detail: `${name} is ${have === undefined ? 'unset' : JSON.stringify(have)}, not ${show(want)}` };
    }
  }
  const parts = Object.entries(cond).map(([k, v]) => `${k} is ${show(v)}`);
  return { ok: true, detail: parts.join(' and ') };
}

/** Evaluate a step's `when:` and `unless:`; the reason is what the audit log records for a skip. */
export function evaluateConditions(
  when: Condition | undefined,
  unless: Condition | undefined,
  params: Record<string, ParamValue>,
): ConditionResult {
  if (when) {
    const m = matches(when, params);
    if (!m.ok) return { pass: false, reason: `when: ${m.detail}` };
  }
  if (unless) {
    const m = matches(unless, params);
    if (m.ok) return { pass: false, reason: `unless: ${m.detail}` };
  }
  return { pass: true, reason: '' };
}
