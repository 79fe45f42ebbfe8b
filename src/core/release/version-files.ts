/**
 * Where a project writes its version (package.json, setup.py, pyproject.toml, a VERSION file), and how to read and
 * change it there. Pure: text in, text out; the caller reads and writes the files.
 *
 * Edits keep the file as it was (indentation, key order, quotes, comments, CRLF line endings, a BOM): only the
 * characters of the version change. Writing the version a file already has gives the same text back.
 */
import { z } from 'zod';

export type VersionFileSpec =
  /** A JSON file; `json` is the dotted path of the key (`version`, `packages.app.version`). */
  | { file: string; json: string }
  /** A TOML file; `toml` is the dotted path `table.key` (`project.version`, `tool.poetry.version`). */
  | { file: string; toml: string }
  /** Any text file; `regex` has one capture group (or a named group `v`) around the version, and matches once. */
  | { file: string; regex: string }
  /** A file that holds only the version (a VERSION file): the whole text, trimmed. */
  | { file: string; whole: true };

export type ReadResult = { ok: true; version: string } | { ok: false; message: string };
export type WriteResult = { ok: true; text: string } | { ok: false; message: string };

/**
 * Flags a `regex` is compiled with: `m` (^ and $ match at each line; $ also before a CR), `d` (group positions),
 * `g` (to count matches). No `s`: `.` does not cross lines. No `u`.
 */
const REGEX_FLAGS = 'gmd';

/** A version in setup.py: `version="1.2.3"` or `version='1.2.3'`, as an argument of setup(...). */
const SETUP_PY_VERSION = String.raw`\bversion\s*=\s*(?<q>["'])(?<v>[^"'\s]+)\k<q>`;

export function defaultVersionFiles(): VersionFileSpec[] {
  return [
    { file: 'frontend/package.json', json: 'version' },
    { file: 'backend/setup.py', regex: SETUP_PY_VERSION },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The schema (cockpit.config.yaml `release.versionFiles`, a bump step's `files`)

const KINDS = ['json', 'toml', 'regex', 'whole'] as const;
const DOTTED = /^[^.\s]+(\.[^.\s]+)*$/;

/** Which group of a pattern holds the version: the named group `v`, else the only group. */
function versionGroup(re: RegExp): { ok: true; group: 'v' | 1 } | { ok: false; message: string } {
  const probe = new RegExp(`(?:${re.source})|`).exec('')!;
  if (probe.groups && 'v' in probe.groups) return { ok: true, group: 'v' };
  const groups = probe.length - 1;
  if (groups === 1) return { ok: true, group: 1 };
  if (groups === 0) return { ok: false, message: 'has no capture group: put parentheses around the version, e.g. version = "([^"]+)"' };
  return { ok: false, message: `has ${groups} capture groups: name the version's one (?<v>…) or make the others (?:…)` };
}

function compile(pattern: string): { ok: true; re: RegExp; group: 'v' | 1 } | { ok: false; message: string } {
  let re: RegExp;
  try {
    re = new RegExp(pattern, REGEX_FLAGS);
  } catch (e) {
    return { ok: false, message: `does not compile: ${(e as Error).message}` };
  }
  const g = versionGroup(re);
  return g.ok ? { ok: true, re, group: g.group } : g;
}

export const versionFileSpecSchema = z
  .strictObject({
    file: z
      .string()
      .min(1, 'expected the path of a version file, relative to the repository')
      .refine((f) => !f.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(f) && !f.split(/[\\/]/).includes('..'), {
        message: 'expected a path inside the repository, relative to it (no leading / and no ..)',
      }),
    json: z.string().regex(DOTTED, 'expected the dotted path of a key, like version or packages.app.version').optional(),
    toml: z.string().regex(DOTTED, 'expected table.key, like project.version or tool.poetry.version').optional(),
    regex: z.string().min(1, 'expected a pattern with a capture group around the version').optional(),
    whole: z.literal(true, 'expected whole: true (the file holds only the version)').optional(),
  })
  .superRefine((spec, ctx) => {
    const given = KINDS.filter((k) => spec[k] !== undefined);
    if (given.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `say where the version is in ${spec.file}: one of json: <key path>, toml: <table.key>, regex: <pattern with a group>, or whole: true`,
      });
    } else if (given.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [given[1]],
        message: `give exactly one of json, toml, regex, whole (found ${given.join(' and ')})`,
      });
    }
    if (spec.regex !== undefined) {
      const c = compile(spec.regex);
      if (!c.ok) ctx.addIssue({ code: 'custom', path: ['regex'], message: `the pattern ${c.message}` });
    }
  })
  .transform((spec) => spec as VersionFileSpec);

// ---------------------------------------------------------------------------------------------------------------
// Reading and writing

/** Where the version is in the text: the span of its characters (inside the quotes, for a string). */
type Located = { ok: true; start: number; end: number; version: string } | { ok: false; message: string };

function locate(text: string, spec: VersionFileSpec): Located {
  if ('json' in spec) return locateJson(text, spec.file, spec.json);
  if ('toml' in spec) return locateToml(text, spec.file, spec.toml);
  if ('regex' in spec) return locateRegex(text, spec.file, spec.regex);
  if ('whole' in spec) return locateWhole(text, spec.file);
  return {
    ok: false,
    message: `${(spec as { file?: string }).file ?? 'a version file'}: no json, toml, regex or whole: true to say where the version is`,
  };
}

export function readVersion(text: string, spec: VersionFileSpec): ReadResult {
  const at = locate(text, spec);
  if (!at.ok) return at;
  if (at.version === '') return { ok: false, message: `${spec.file}: the version is empty` };
  return { ok: true, version: at.version };
}

/** Characters a version may have here: anything that needs no quoting or escaping in JSON, TOML or Python. */
const WRITABLE = /^[^\s"'`\\\u0000-\u001f\u007f]+$/;

export function writeVersion(text: string, spec: VersionFileSpec, version: string): WriteResult {
  if (!WRITABLE.test(version))
    return {
      ok: false,
      message: `${spec.file}: ${JSON.stringify(version)} cannot be written as a version (empty, or spaces, quotes or control characters in it)`,
    };
  let next: string;
  if ('whole' in spec && text.trim() === '') {
    next = `${version}\n`; // an empty VERSION file gets one
  } else {
    const at = locate(text, spec);
    if (!at.ok) return at;
    next = text.slice(0, at.start) + version + text.slice(at.end);
  }
  // The file must now say exactly this version, where the spec looks: a pattern that matched only the old
  // version (or now matches twice) is caught here, not at the next release.
  const check = readVersion(next, spec);
  if (!check.ok) return { ok: false, message: `${spec.file}: after writing ${version}, ${check.message.replace(`${spec.file}: `, '')}` };
  if (check.version !== version)
    return { ok: false, message: `${spec.file}: after writing ${version} it reads as ${check.version}; check the spec for this file` };
  return { ok: true, text: next };
}

// ---------------------------------------------------------------------------------------------------------------
// JSON: the value of a key path, found in the text (not re-serialised)

interface Hit {
  /** The value's span; for a string, inside the quotes. */
  start: number;
  end: number;
  kind: 'string' | 'other' | 'multiline';
  /** The string's value (escapes decoded). */
  value?: string;
}

function locateJson(text: string, file: string, keyPath: string): Located {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    JSON.parse(body);
  } catch (e) {
    return { ok: false, message: `${file}: not valid JSON (${(e as Error).message})` };
  }
  const target = keyPath.split('.');
  const hits: Hit[] = [];
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): string => {
    const s = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(s, i)) as string;
  };
  // The text is valid JSON (checked above): the scanner only needs to find where each value starts and ends.
  const value = (path: string[] | null): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = str();
        ws();
        i++; // :
        ws();
        const on = path !== null && path[0] === key;
        if (on && path.length === 1) {
          const start = i;
          if (text[i] === '"') {
            const v = str();
            hits.push({ start: start + 1, end: i - 1, kind: 'string', value: v });
          } else {
            value(null);
            hits.push({ start, end: i, kind: 'other' });
          }
        } else value(on ? path.slice(1) : null);
        ws();
        if (text[i++] === ',') continue;
        return; // }
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(null);
        ws();
        if (text[i++] === ',') continue;
        return; // ]
      }
    }
    if (c === '"') {
      str();
      return;
    }
    while (i < text.length && !',]} \t\r\n'.includes(text[i])) i++;
  };
  value(target);
  return pick(hits, file, `"${keyPath}"`, () => `no "${keyPath}" key`);
}

function pick(hits: Hit[], file: string, what: string, missing: () => string): Located {
  if (hits.length === 0) return { ok: false, message: `${file}: ${missing()}` };
  if (hits.length > 1) return { ok: false, message: `${file}: ${what} is set ${hits.length} times` };
  const h = hits[0];
  if (h.kind === 'multiline') return { ok: false, message: `${file}: ${what} is a multi-line string; expected a one-line "x.y.z"` };
  if (h.kind !== 'string') return { ok: false, message: `${file}: ${what} is not a string` };
  return { ok: true, start: h.start, end: h.end, version: h.value! };
}

// ---------------------------------------------------------------------------------------------------------------
// TOML: `key = "…"` inside its `[table]` (or as a dotted key, or in an inline table), not a same-named key elsewhere

function locateToml(text: string, file: string, keyPath: string): Located {
  const target = keyPath.split('.');
  const prefix = target.slice(0, -1);
  const hits: Hit[] = [];
  let prefixSeen = prefix.length === 0;
  let table: string[] | null = []; // null inside an array of tables ([[x]]): nothing there is addressable
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  const n = text.length;
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, k) => x === b[k]);
  const startsWith = (a: string[], p: string[]) => a.length >= p.length && p.every((x, k) => x === a[k]);
  const blanks = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const toEol = () => {
    while (i < n && text[i] !== '\n') i++;
  };
  /** Blanks, newlines and comments (inside arrays). */
  const gaps = () => {
    for (;;) {
      blanks();
      if (text[i] === '#') toEol();
      if (text[i] === '\n' || text[i] === '\r') i++;
      else return;
    }
  };
  /** A string at i; its content span. */
  const string = (): Hit => {
    const q = text[i];
    const triple = text.startsWith(q.repeat(3), i);
    if (triple) {
      i += 3;
      const start = i;
      const close = text.indexOf(q.repeat(3), i);
      const end = close < 0 ? n : close;
      i = close < 0 ? n : close + 3;
      while (text[i] === q) i++; // up to two quotes may end the content
      return { start, end, kind: 'multiline' };
    }
    i++;
    const start = i;
    while (i < n && text[i] !== q && text[i] !== '\n') i += q === '"' && text[i] === '\\' ? 2 : 1;
    const end = i;
    i++;
    const raw = text.slice(start, end);
    let value = raw;
    if (q === '"' && raw.includes('\\')) {
      try {
        value = JSON.parse(`"${raw}"`) as string;
      } catch {
        /* a TOML-only escape: keep the text as written */
      }
    }
    return { start, end, kind: 'string', value };
  };
  /** A dotted key at i (bare, "basic" or 'literal' parts); null if there is none. */
  const key = (): string[] | null => {
    const parts: string[] = [];
    for (;;) {
      blanks();
      if (text[i] === '"' || text[i] === "'") {
        const h = string();
        if (h.kind !== 'string') return null;
        parts.push(h.value!);
      } else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
        if (!m) return null;
        parts.push(m[0]);
        i += m[0].length;
      }
      blanks();
      if (text[i] !== '.') return parts;
      i++;
    }
  };
  const value = (path: string[] | null): Hit => {
    const start = i;
    const c = text[i];
    if (c === '"' || c === "'") return string();
    if (c === '[') {
      i++;
      for (;;) {
        gaps();
        if (i >= n || text[i] === ']') break;
        value(null);
        gaps();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') break;
      }
      i++;
      return { start, end: i, kind: 'other' };
    }
    if (c === '{') {
      i++;
      for (;;) {
        blanks();
        if (i >= n || text[i] === '}' || text[i] === '\n') break;
        const k = key();
        if (!k || text[i] !== '=') break;
        i++;
        blanks();
        member(path === null ? null : [...path, ...k]);
        blanks();
        if (text[i] === ',') i++;
      }
      if (text[i] === '}') i++;
      return { start, end: i, kind: 'other' };
    }
    while (i < n && !',]}#\n\r'.includes(text[i])) i++;
    return { start, end: i, kind: 'other' };
  };
  /** The value of the key at `path` (null: not addressable). */
  const member = (path: string[] | null) => {
    if (path && startsWith(path, prefix) && path.length > prefix.length) prefixSeen = true;
    const h = value(path);
    if (path && same(path, target)) hits.push(h);
  };
  while (i < n) {
    gaps();
    if (i >= n) break;
    if (text[i] === '[') {
      const array = text[i + 1] === '[';
      i += array ? 2 : 1;
      const k = key();
      table = array || !k ? null : k;
      if (table && startsWith(table, prefix)) prefixSeen = true;
      toEol();
      continue;
    }
    const lineStart = i;
    const k = key();
    blanks();
    if (!k || text[i] !== '=') {
      i = lineStart;
      toEol();
      continue;
    }
    i++;
    blanks();
    member(table === null ? null : [...table, ...k]);
    toEol();
  }
  const last = target[target.length - 1];
  return pick(hits, file, `${keyPath}`, () =>
    prefixSeen ? `no "${last}" key in [${prefix.join('.')}]` : prefix.length ? `no [${prefix.join('.')}] table` : `no "${last}" key`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// A pattern: the span of its version group, which must match exactly once

function locateRegex(text: string, file: string, pattern: string): Located {
  const c = compile(pattern);
  if (!c.ok) return { ok: false, message: `${file}: the pattern /${pattern}/ ${c.message}` };
  const matches = [...text.matchAll(c.re)];
  if (matches.length === 0) return { ok: false, message: `${file}: the pattern /${pattern}/ matches nothing` };
  if (matches.length > 1) {
    return { ok: false, message: `${file}: the pattern /${pattern}/ matches ${matches.length} places; make it specific` };
  }
  const m = matches[0];
  const span = c.group === 'v' ? m.indices?.groups?.v : m.indices?.[1];
  if (!span) return { ok: false, message: `${file}: the pattern /${pattern}/ matched, but its version group did not` };
  return { ok: true, start: span[0], end: span[1], version: text.slice(span[0], span[1]) };
}

// ---------------------------------------------------------------------------------------------------------------
// A VERSION file

function locateWhole(text: string, file: string): Located {
  const start = text.length - text.trimStart().length;
  const end = text.trimEnd().length;
  if (end <= start) return { ok: false, message: `${file}: the file is empty; expected the version in it` };
  const version = text.slice(start, end);
  if (/\s/.test(version))
    return { ok: false, message: `${file}: expected only the version in the file, found more (${JSON.stringify(version.slice(0, 40))})` };
  return { ok: true, start, end, version };
}

/** What one version file says: its text and version, or why it has none. */
export interface VersionSurvey {
  spec: VersionFileSpec;
  text: string | null;
  version: string | null;
  problem: string | null;
}

/** What each version file says, given its text (null: no such file) — in the working tree, or in a commit's tree. */
export function surveyVersions(files: VersionFileSpec[], texts: Array<string | null>, where = ''): VersionSurvey[] {
  return files.map((f, i) => {
    const text = texts[i] ?? null;
    if (text === null) return { spec: f, text: null, version: null, problem: `${f.file}: no such file${where}` };
    const r = readVersion(text, f);
    return r.ok ? { spec: f, text, version: r.version, problem: null } : { spec: f, text, version: null, problem: r.message };
  });
}
