/**
 * What reaches the audit log or the screen from outside (command output, commit messages, metric labels,
 * parameters) goes through here first:
 *  - colour and style sequences (SGR, `ESC [ … m`) are removed: they carry no content, and a secret that
 *    `grep --color` split in two must be whole again before redaction;
 *  - every other terminal control is neutralised: each C0/C1 control except newline and tab becomes a
 *    visible stand-in (ESC → "␛", BEL → "␇", C1 CSI → "\u{9b}"), so nothing from outside can move the
 *    cursor, retitle the terminal, write to the clipboard (OSC 52) or hide text, and the attempt stays
 *    visible in the log; bidirectional overrides (Trojan Source) are spelled out too;
 *  - secrets are redacted: passwords in URLs, Authorization headers, well-known token formats, `KEY=value`
 *    where KEY names a secret, and the literal values the config or a checklist marks secret.
 */

const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code); // control pictures: ␀ … ␟
  if (code === 0x7f) return '\u2421'; // ␡
  return `\\u{${code.toString(16)}}`;
}

/** Neutralise terminal control sequences; keeps `\n` and `\t`, turns `\r\n` into `\n` and a lone `\r` into `\n`. */
export function neutralize(text: string): string {
  let t = text;
  if (t.includes('\r')) t = t.replace(/\r\n/g, '\n').replace(/\r/g, '\n');
  CONTROL_RE.lastIndex = 0;
  return CONTROL_RE.test(t) ? t.replace(CONTROL_RE, visible) : t;
}

/** SGR (colour/style) sequences, 7-bit and 8-bit forms. */
const SGR_RE = /(?:\u001b\[|\u009b)[0-9;:]*m/g;

export function stripStyles(text: string): string {
  return text.includes('\u001b') || text.includes('\u009b') ? text.replace(SGR_RE, '') : text;
}

export const REDACTED = '[REDACTED]';

interface Pattern {
  /** Cheap trigger: text in which this pattern can match contains this (case-insensitive regex source). */
  hint: string;
  re: RegExp;
  rep: string | ((...m: string[]) => string);
}

const PATTERNS: Pattern[] = [
  // scheme://user:password@host → keep the user, hide the password
  // (greedy up to the last @ before the path: a raw @ inside the password is still hidden)
  { hint: ':\\/\\/', re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s/]+)@/gi, rep: (_m, pre) => `${pre}:${REDACTED}@` },
  // Authorization / Proxy-Authorization headers and curl -u user:pass
  {
    hint: 'authorization',
    re: /\b((?:proxy-)?authorization["']?\s*[:=]\s*)(["']?)(?:(?:bearer|basic|token|digest|negotiate)\s+)?[^\s"',;]+/gi,
    rep: (_m, pre, q) => `${pre}${q}${REDACTED}`,
  },
  { hint: 'curl', re: /(\bcurl\b[^\n]*?\s(?:-u\s*|--user(?:\s+|=))["']?[^\s:"']*):([^\s"']+)/gi, rep: (_m, pre) => `${pre}:${REDACTED}` },
  {
    hint: 'x-api-key|x-auth-token|api-key|private-token',
    re: /\b(x-api-key|x-auth-token|api-key|private-token)(\s*[:=]\s*)("?)[^\s"',;]+/gi,
    rep: (_m, k, sep, q) => `${k}${sep}${q}${REDACTED}`,
  },
  // PEM private keys
  {
    hint: 'PRIVATE KEY',
    re: /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g,
    rep: `-----BEGIN PRIVATE KEY----- ${REDACTED}`,
  },
  // Well-known token formats
  { hint: 'gh[pousr]_|github_pat_', re: /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, rep: REDACTED },
  { hint: 'glpat-', re: /\bglpat-[A-Za-z0-9_-]{16,}\b/g, rep: REDACTED },
  { hint: 'xox[abposr]-', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, rep: REDACTED },
  { hint: 'npm_', re: /\bnpm_[A-Za-z0-9]{30,}\b/g, rep: REDACTED },
  { hint: 'AKIA|ASIA', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, rep: REDACTED },
  { hint: 'sk-', re: /\bsk-[A-Za-z0-9_-]{20,}\b/g, rep: REDACTED },
  { hint: 'eyJ', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, rep: REDACTED },
  // KEY=value / "key": "value" where the key names a secret; the key must END with the secret word:
  // DB_PASSWORD, api_key, GITHUB_TOKEN, client_secret; not tokens, token_count, secretary
  {
    hint: 'passw|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential',
    re: /\b([A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|secret[_-]?key|credentials?))(?![A-Za-z0-9])("?\s*[:=]\s*)("?)(?!\[REDACTED\])[^\s"',;&]+/gi,
    rep: (_m, k, sep, q) => `${k}${sep}${q}${REDACTED}`,
  },
];

/**
 * One scan that tells whether any pattern could match: most output lines contain none of the triggers, and
 * thirteen regex scans per line would dominate the cost of an append. Built from the patterns' own hints.
 */
const ANY_PATTERN = new RegExp(PATTERNS.map((p) => p.hint).join('|'), 'i');

export interface Redactor {
  (text: string): string;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A redactor for the given literal secret values (env vars the config marks secret, secret params).
 * Values shorter than 4 characters are ignored: redacting "1" would destroy the log and protect nothing.
 */
export function makeRedactor(secretValues: Iterable<string> = []): Redactor {
  const literals = [...new Set([...secretValues].filter((v) => typeof v === 'string' && v.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  const literalRe = literals.length ? new RegExp(literals.map(escapeRe).join('|'), 'g') : null;
  return (text: string) => {
    let t = text;
    if (literalRe) t = t.replace(literalRe, REDACTED);
    if (!ANY_PATTERN.test(t)) return t;
    for (const p of PATTERNS) {
      p.re.lastIndex = 0;
      t = t.replace(p.re, p.rep as never);
    }
    return t;
  };
}

export const defaultRedactor = makeRedactor();

/**
 * Strip styles, redact, then neutralise: the order matters. A secret split by colour codes is whole again when
 * redaction looks at it, and one hidden behind another escape sequence is at worst visible as what it is.
 */
export function sanitizeText(text: string, redact: Redactor = defaultRedactor): string {
  return neutralize(redact(stripStyles(text)));
}

/** Apply `fn` to every string value inside a JSON-like value; keys are neutralised. Returns a new value. */
export function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[neutralize(k)] = mapStrings((value as Record<string, unknown>)[k], fn);
    return out as T;
  }
  return value;
}

/** Sanitise every string value inside a JSON-like value (keys are neutralised, not redacted); returns a new value. */
export function sanitizeValue<T>(value: T, redact: Redactor = defaultRedactor): T {
  return mapStrings(value, (t) => sanitizeText(t, redact));
}

/** Parameters whose recorded value was redacted (secrets): a resume must be told them again. */
export function redactedParams(params: Record<string, unknown>): string[] {
  return Object.entries(params)
    .filter(([, v]) => typeof v === 'string' && v.includes(REDACTED))
    .map(([k]) => k);
}
