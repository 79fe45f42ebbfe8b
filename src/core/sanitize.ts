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
 *
 * Detector decision (issue 13): @secretlint/core 12 + preset-recommend ran at ~24 MB/s (detection only, async) on a
 * mixed log in 64 KB chunks where these patterns redact at ~140 MB/s, and it caught 23 of the 63 shapes of
 * test/fixtures/secret-corpus.json; so streamed output keeps this fast redactor, and secretlint's rules served as
 * corpus (its vendors' formats are among the patterns below). Measure: scripts/bench/redaction.ts.
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

const C1_RE = /[\u0080-\u009f]/g;

/**
 * JSON text with its C1 control characters (U+0080–U+009F) escaped as `\u00XX`. JSON escapes C0 controls but leaves
 * C1 raw, and some terminals read U+009B as CSI: every JSON the cockpit prints goes through this. Same value parsed.
 */
export function escapeC1(json: string): string {
  return json.replace(C1_RE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
  /**
   * What on a line still being written may become this pattern's match (see {@link secretSafeCut}), when broader
   * than `hint`: `token` may be followed by its value later, `https://` by a password.
   */
  hold?: string;
  re: RegExp;
  rep: string | ((...m: string[]) => string);
  /** Matches across lines (a PEM block): applied to the whole text, not line by line. */
  multiline?: boolean;
}

/** Words that make a name a secret's (DB_PASSWORD, apiToken, GPG_PASSPHRASE, SIGNING_KEY, client_secret…). */
const SECRET_WORD = 'passw(?:or)?d|passphrase|secret|token|api[_-]?key|private[_-]?key|signing[_-]?key|access[_-]?key|credentials?';
/**
 * A name that goes on after its secret word names something else, not the secret: token_count, PASSWORD_FILE,
 * access_key_id, token_type. (A word glued on, as in tokens, secretary or tokenizer, is another word: no match.)
 */
const NOT_SECRET_SUFFIX =
  'counts?|files?|path|dir|length|len|size|limit|type|names?|ids?|url|uri|endpoint|expir[a-z]*|expires?|ttl|polic(?:y|ies)|hint|prompt|env|var|ref|header|field|manager|store|rotation|version|usage|enabled|required|min|max|format|provider|source|mode|label';
/** A secret's name: the word, possibly inside a longer name (`[_.-]`-separated, or camelCase before it). */
const KEY_BODY = `[A-Za-z0-9_.-]*?(?:${SECRET_WORD})(?:[_.-](?!(?:${NOT_SECRET_SUFFIX})(?![A-Za-z0-9]))[A-Za-z0-9]+)*(?![A-Za-z0-9])`;
const KEY = `(?<![A-Za-z0-9_.-])${KEY_BODY}`;
/** A value: quoted (all of it, spaces included; an unclosed quote runs to the end of the line) or one word. */
const QUOTED = `"[^"\\n]*"?|'[^'\\n]*'?`;
/** After a bare space (`token abc123…`), only a word that looks like a token is taken: 8+ characters, letters and digits. */
const TOKEN_LIKE = `(?=[^\\s"',;&]*[0-9])(?=[^\\s"',;&]*[A-Za-z])[A-Za-z0-9_\\-./+=~:]{8,}`;

/** `"x y"` → `"[REDACTED]"`, keeping the quotes (an unclosed quote stays unclosed). */
function hideValue(v: string): string {
  const q = v[0];
  if (q === '"' || q === "'") return `${q}${REDACTED}${v.length > 1 && v.endsWith(q) ? q : ''}`;
  return REDACTED;
}

const PATTERNS: Pattern[] = [
  // PEM / OpenSSH / PGP private keys (a block without its END line is hidden to the end of the text)
  {
    hint: 'PRIVATE KEY',
    re: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END \1PRIVATE KEY\2-----|$)/g,
    rep: `-----BEGIN PRIVATE KEY----- ${REDACTED}`,
    multiline: true,
  },
  // scheme://user:password@host → keep the user, hide the password
  // (greedy up to the last @ before the path: a raw @ inside the password is still hidden)
  {
    hint: ':\\/\\/[^\\s:/@]*:',
    hold: ':\\/\\/',
    re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s/]+)@/gi,
    rep: (_m, pre) => `${pre}:${REDACTED}@`,
  },
  // Slack incoming webhooks: the path is the credential
  {
    hint: 'hooks\\.slack',
    re: /\b(hooks\.slack\.com\/(?:services|workflows|triggers)\/)[A-Za-z0-9_/-]+/gi,
    rep: (_m, pre) => `${pre}${REDACTED}`,
  },
  // Authorization / Proxy-Authorization / Cookie / Set-Cookie headers: the whole value (to the closing quote or
  // the end of the line), scheme and all attributes included
  {
    hint: 'authorization|cookie',
    re: /\b((?:proxy-)?authorization|(?:set-)?cookie)(["']?\s*[:=]\s*)("[^"\n]*"?|'[^'\n]*'?|[^"'\n]*[^\s"'])/gi,
    rep: (_m, k, sep, v) => `${k}${sep}${hideValue(v)}`,
  },
  { hint: 'curl', re: /(\bcurl\b[^\n]*?\s(?:-u\s*|--user(?:\s+|=))["']?[^\s:"']*):([^\s"']+)/gi, rep: (_m, pre) => `${pre}:${REDACTED}` },
  // mysql -uroot -ps3cret (the password glued to -p)
  {
    hint: 'mysql|mariadb',
    re: /(\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mariadb|mariadb-dump|mariadb-admin)\b[^\n]*?\s-p)("[^"\n]*"?|'[^'\n]*'?|[^\s"']+)/g,
    rep: (_m, pre, v) => `${pre}${hideValue(v)}`,
  },
  // Well-known token formats
  { hint: 'gh[pousr]_|github_pat_', re: /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, rep: REDACTED },
  {
    hint: '\\bgl(?:pat|dt|rt|rtr|ptt|ft|imt|agent|cbt|soat|oas|wt|ffct|ldt)-',
    hold: 'gl[a-z]{1,5}-',
    re: /\bgl(?:pat|dt|rt|rtr|ptt|ft|imt|agent|cbt|soat|oas|wt|ffct|ldt)-[A-Za-z0-9_-]{16,}/g,
    rep: REDACTED,
  },
  { hint: 'xox[a-z]-|xapp-', re: /\b(?:xox[abposrec]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})/g, rep: REDACTED },
  { hint: 'npm_', re: /\bnpm_[A-Za-z0-9]{30,}\b/g, rep: REDACTED },
  { hint: '\\b(?:AKIA|ASIA)', hold: 'AKIA|ASIA', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, rep: REDACTED },
  { hint: '\\bsk-', hold: 'sk-', re: /\bsk-[A-Za-z0-9_-]{20,}\b/g, rep: REDACTED },
  { hint: '[sr]k_(?:live|test)_|whsec_', re: /\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{16,})/g, rep: REDACTED },
  { hint: 'AIza|ya29\\.', re: /(?:\bAIza[0-9A-Za-z_-]{35}|\bya29\.[0-9A-Za-z_-]{20,})(?![0-9A-Za-z_-])/g, rep: REDACTED },
  // More vendors' formats, after secretlint's recommended preset: SendGrid, Shopify, Hugging Face, HashiCorp Vault,
  // Grafana, Linear, Notion, Databricks, Figma, Groq, Docker Hub
  {
    hint: '\\bSG\\.|\\bshp[a-z]{2}_|\\bhf_|\\bhv[sbr]\\.|\\bgl(?:c|sa)_|lin_api_|\\bntn_|\\bsecret_|\\bdapi|figd_|\\bgsk_|dckr_pat_',
    re: /\b(?:SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|hf_[A-Za-z0-9]{30,}|hv[sbr]\.[A-Za-z0-9_-]{24,}|glc_[A-Za-z0-9+/]{32,}=*|glsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8}|lin_api_[A-Za-z0-9]{40}|ntn_[A-Za-z0-9]{40,}|secret_[A-Za-z0-9]{43}|dapi[a-f0-9]{32}(?:-\d+)?|figd_[A-Za-z0-9_-]{40,}|gsk_[A-Za-z0-9]{48,}|dckr_pat_[A-Za-z0-9_-]{27,})/g,
    rep: REDACTED,
  },
  { hint: 'eyJ', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, rep: REDACTED },
  // --password x, --api-token=x: an option's value, whatever it looks like (not --password-file)
  {
    hint: `--[A-Za-z0-9_.-]*?(?:${SECRET_WORD})`,
    hold: SECRET_WORD,
    re: new RegExp(`(?<![A-Za-z0-9_-])(--${KEY_BODY})(\\s+|=)(?!-|\\[REDACTED\\])(${QUOTED}|[^\\s"']+)`, 'gi'),
    rep: (_m, k, sep, v) => `${k}${sep}${hideValue(v)}`,
  },
  // KEY=value, KEY: value, "key": "value", KEY 'value', token abc123…: where the name is a secret's
  {
    // the name, then a separator, or a space before a quote or a word with a digit: not "token bucket refilled"
    hint: `(?:${SECRET_WORD})[A-Za-z0-9_.-]*["']?(?:\\s*[:=]|[ \\t]+(?:["']|[^\\s"']*[0-9]))`,
    hold: SECRET_WORD,
    re: new RegExp(
      `(${KEY})(["']?)(?:(\\s*(?:=>|[:=])\\s*)(?!\\[REDACTED\\])(${QUOTED}|[^\\s"',;&]+)|([ \\t]+)(${QUOTED}|${TOKEN_LIKE}))`,
      'gi',
    ),
    rep: (_m, k, q, sep, v, sp, v2) => (sep !== undefined ? `${k}${q}${sep}${hideValue(v)}` : `${k}${q}${sp}${hideValue(v2)}`),
  },
];

const LINE_PATTERNS = PATTERNS.filter((p) => !p.multiline);
const BLOCK_PATTERNS = PATTERNS.filter((p) => p.multiline);

/**
 * One scan that finds the lines on which any pattern could match: most output lines contain none of the
 * triggers, and a dozen regex scans of every line would dominate the cost of an append. Built from the patterns'
 * own hints (narrow ones: a URL without a password, "token bucket refilled" or "tokens: 5" trigger nothing).
 */
const ANY_PATTERN = new RegExp(LINE_PATTERNS.map((p) => p.hint).join('|'), 'gi');

function apply(t: string, p: Pattern): string {
  p.re.lastIndex = 0;
  return t.replace(p.re, p.rep as never);
}

/** The patterns, on the lines that contain a trigger only. */
function redactPatterns(text: string): string {
  let t = text;
  // (a key block's header is upper case, as its pattern: a plain search finds it)
  if (t.includes('PRIVATE KEY')) for (const p of BLOCK_PATTERNS) t = apply(t, p);
  ANY_PATTERN.lastIndex = 0;
  let m = ANY_PATTERN.exec(t);
  if (!m) return t;
  let out = '';
  let done = 0;
  while (m) {
    const start = t.lastIndexOf('\n', m.index) + 1;
    let end = t.indexOf('\n', m.index);
    if (end < 0) end = t.length;
    let line = t.slice(start, end);
    for (const p of LINE_PATTERNS) line = apply(line, p);
    out += t.slice(done, start) + line;
    done = end;
    ANY_PATTERN.lastIndex = end;
    m = ANY_PATTERN.exec(t);
  }
  return out + t.slice(done);
}

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
    return redactPatterns(t);
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

/** What on a line may begin a secret that is still being written: any pattern's trigger, or a key block's BEGIN. */
const HOLD_LINE = new RegExp([...PATTERNS.map((p) => p.hold ?? p.hint), '-----BEGIN'].join('|'), 'i');
/** Characters no token or secret value is made of: a line may be cut after one. */
const NOT_IN_TOKEN = /[\s"'`,;&|<>(){}[\]]/;
/** How far around a cut the patterns are run to see whether a match spans it. */
const CUT_WINDOW = 4096;

/** Where a private key block begins that has not ended yet in `buf`, or -1. */
function openKeyBlock(buf: string): number {
  const b = buf.lastIndexOf('-----BEGIN ');
  if (b < 0 || !/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY/.test(buf.slice(b, b + 80))) return -1;
  return buf.includes('-----END ', b) ? -1 : b;
}

/** Start of a match of any pattern that spans `c` in `buf` (looked for in a window around `c`), or -1. */
function matchAcross(buf: string, c: number): number {
  const from = Math.max(0, c - CUT_WINDOW);
  const win = buf.slice(from, c + CUT_WINDOW);
  const at = c - from;
  let start = -1;
  for (const p of PATTERNS) {
    p.re.lastIndex = 0;
    for (const m of win.matchAll(p.re)) {
      if (m.index >= at) break;
      if (m.index + m[0].length > at && (start < 0 || m.index < start)) start = m.index;
    }
  }
  return start < 0 ? -1 : from + start;
}

/**
 * Where pending output may be cut so that no secret is handed on in two pieces (each piece is redacted alone,
 * and half a token matches no pattern). `cut` is where the caller would cut (`buf` holds everything received; the
 * rest of the stream is still to come); the answer is at most `cut`, and text after it is held back:
 *  - a private key block that has begun and not ended is held from its BEGIN line (up to `maxHold` characters);
 *  - at a newline, nothing more (the patterns match within a line);
 *  - at the end of what was received (a partial line, flushed because the command went quiet), the whole line
 *    is held if it holds any pattern's trigger (a name like PASSWORD, an open quote, `Authorization:`, `ghp_`),
 *    else its last word (the first half of a token);
 *  - inside a line that is too long (the line limit), the cut moves back to a character no token is made of,
 *    and before any match that would span it (a key and its value stay together).
 * Holding back never loses text: what is held goes out with what follows it, or when the command ends.
 */
export function secretSafeCut(buf: string, cut: number, maxHold = 64 * 1024): number {
  const block = openKeyBlock(buf);
  if (block >= 0 && block < cut && buf.length - block <= maxHold) cut = buf.lastIndexOf('\n', block) + 1;
  if (cut <= 0 || buf[cut - 1] === '\n') return cut;
  const lineStart = buf.lastIndexOf('\n', cut - 1) + 1;
  if (cut >= buf.length) {
    // (a progress line redrawn after `\r` is a line of its own: the store turns the `\r` into a newline)
    const from = Math.max(lineStart, buf.lastIndexOf('\r', cut - 1) + 1);
    const line = buf.slice(from, cut);
    if (HOLD_LINE.test(line)) return from;
    if (/\s/.test(line[line.length - 1])) return cut;
    for (let i = line.length - 1; i >= 0; i--) if (/\s/.test(line[i])) return from + i + 1;
    return from;
  }
  // Inside a long line: after whitespace if there is some near, else after any character no token contains.
  let c = cut;
  const floor = Math.max(lineStart, cut - CUT_WINDOW);
  let ws = -1;
  let other = -1;
  for (let i = cut - 1; i >= floor && ws < 0; i--) {
    const ch = buf[i];
    if (/\s/.test(ch)) ws = i + 1;
    else if (other < 0 && NOT_IN_TOKEN.test(ch)) other = i + 1;
  }
  if (ws > 0) c = ws;
  else if (other > 0) c = other;
  for (let n = 0; n < 8 && c > lineStart; n++) {
    const s = matchAcross(buf, c);
    if (s < 0) return c;
    c = s;
  }
  // One match fills the line back to its start (a 64 KB secret?): cut where asked rather than hold forever.
  return c > 0 ? c : cut;
}
