/**
 * A small PostgreSQL lexer: enough to split a migration file into statements and to let the linter
 * (./lint.ts) read statement kinds and a few clauses. Pure: no fs, no pg.
 *
 * Why not a real SQL parser: the only complete one for Node is libpg-query (the Postgres parser compiled to
 * a native addon / wasm), and its install needs a native build step that this project's npm install-script
 * gating blocks. The splitter only has to get quoting and comments exactly right (a naive `;` split breaks on
 * `VALUES (';')`, golang-migrate PR #495), and the linter needs statement kinds plus a handful of clauses
 * (ADD COLUMN … NOT NULL, CONCURRENTLY, NOT VALID, …), which a token stream gives us.
 */

export interface SqlStatement {
  /** The statement as written, from its first token to its last (comments before it and the ';' are not included). */
  text: string;
  /** 1-based line of the statement's first token in the source text. */
  line: number;
}

export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'param' | 'op' | 'punct';

export interface Token {
  kind: TokenKind;
  /** The token exactly as written (for a string: including its quotes and prefix). */
  raw: string;
  /**
   * word: lower-cased (Postgres folds unquoted names); ident: the name inside the double quotes, case kept,
   * "" unescaped; string: the contents ('' and, for E-strings, the common backslash escapes resolved);
   * anything else: raw.
   */
  value: string;
  /** Offsets into the text given to tokenize(): [start, end). */
  start: number;
  end: number;
  /** 1-based line of the token's first character. */
  line: number;
  /** Whitespace or a comment comes between this token and the previous one. */
  spaced: boolean;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const NUMBER = /0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?/y;
const OP_CHARS = '+-*/<>=~!@#%^&|`?:';
const PUNCT = '(),;[].';
const E_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

/** Tokenize SQL text. Comments and whitespace produce no tokens; unterminated quotes/comments run to the end. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  let line = 1;
  let spaced = false;

  const countLines = (from: number, to: number): number => {
    let c = 0;
    for (let k = from; k < to; k++) if (sql.charCodeAt(k) === 10) c++;
    return c;
  };
  const push = (kind: TokenKind, start: number, end: number, value?: string): void => {
    const raw = sql.slice(start, end);
    out.push({ kind, raw, value: value ?? raw, start, end, line, spaced });
    line += countLines(start, end);
    spaced = false;
    i = end;
  };
  /** Read a quoted run starting at the opening quote `at`; returns [end offset, unescaped contents]. */
  const readQuoted = (at: number, quote: string, backslash: boolean): [number, string] => {
    let k = at + 1;
    let val = '';
    while (k < n) {
      const c = sql[k];
      if (backslash && c === '\\' && k + 1 < n) {
        const e = sql[k + 1];
        val += E_ESCAPES[e] ?? e;
        k += 2;
        continue;
      }
      if (c === quote) {
        if (sql[k + 1] === quote) {
          val += quote;
          k += 2;
          continue;
        }
        return [k + 1, val];
      }
      val += c;
      k++;
    }
    return [n, val];
  };

  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      if (c === '\n') line++;
      spaced = true;
      i++;
      continue;
    }
    if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl; // the newline itself is counted as whitespace
      spaced = true;
      continue;
    }
    if (c === '/' && next === '*') {
      // Postgres block comments nest.
      let depth = 1;
      let k = i + 2;
      while (k < n && depth > 0) {
        if (sql[k] === '/' && sql[k + 1] === '*') {
          depth++;
          k += 2;
        } else if (sql[k] === '*' && sql[k + 1] === '/') {
          depth--;
          k += 2;
        } else k++;
      }
      line += countLines(i, k);
      i = k;
      spaced = true;
      continue;
    }
    if (c === "'") {
      const [end, val] = readQuoted(i, "'", false);
      push('string', i, end, val);
      continue;
    }
    if (c === '"') {
      const [end, val] = readQuoted(i, '"', false);
      push('ident', i, end, val);
      continue;
    }
    if (c === '$') {
      if (next !== undefined && next >= '0' && next <= '9') {
        let k = i + 1;
        while (k < n && sql[k] >= '0' && sql[k] <= '9') k++;
        push('param', i, k);
        continue;
      }
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(sql);
      if (m) {
        const delim = m[0];
        const bodyStart = i + delim.length;
        const close = sql.indexOf(delim, bodyStart);
        const end = close < 0 ? n : close + delim.length;
        push('string', i, end, sql.slice(bodyStart, close < 0 ? n : close));
        continue;
      }
      push('op', i, i + 1);
      continue;
    }
    if (IDENT_START.test(c)) {
      let k = i + 1;
      while (k < n && IDENT_PART.test(sql[k])) k++;
      const word = sql.slice(i, k);
      const lw = word.toLowerCase();
      if (sql[k] === "'" && (lw === 'e' || lw === 'b' || lw === 'x' || lw === 'n')) {
        // E'…' takes backslash escapes; B'…', X'…' and N'…' are ordinary quoting.
        const [end, val] = readQuoted(k, "'", lw === 'e');
        push('string', i, end, val);
        continue;
      }
      if (lw === 'u' && sql[k] === '&' && (sql[k + 1] === "'" || sql[k + 1] === '"')) {
        const q = sql[k + 1];
        const [end, val] = readQuoted(k + 1, q, false);
        push(q === "'" ? 'string' : 'ident', i, end, val);
        continue;
      }
      push('word', i, k, lw);
      continue;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && next !== undefined && next >= '0' && next <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(sql);
      push('number', i, i + (m ? m[0].length : 1));
      continue;
    }
    if (PUNCT.includes(c)) {
      push('punct', i, i + 1);
      continue;
    }
    if (OP_CHARS.includes(c)) {
      // An operator run stops where a comment starts, as in the Postgres lexer.
      let k = i + 1;
      while (k < n && OP_CHARS.includes(sql[k]) && !(sql[k] === '-' && sql[k + 1] === '-') && !(sql[k] === '/' && sql[k + 1] === '*')) k++;
      push('op', i, k);
      continue;
    }
    push('op', i, i + 1);
  }
  return out;
}

const isWord = (t: Token | undefined, w: string): boolean => t !== undefined && t.kind === 'word' && t.value === w;

/** CREATE [OR REPLACE] FUNCTION|PROCEDURE: the only statements whose body may be BEGIN ATOMIC … END (PG14+). */
function isRoutine(toks: Token[]): boolean {
  if (!isWord(toks[0], 'create')) return false;
  let k = 1;
  if (isWord(toks[1], 'or') && isWord(toks[2], 'replace')) k = 3;
  return isWord(toks[k], 'function') || isWord(toks[k], 'procedure');
}

/**
 * Split SQL text into statements, each without its trailing ';'. A ';' inside '…' (with '' escapes), E'…'
 * (backslash escapes), "quoted identifiers", $$…$$ / $tag$…$tag$, -- line comments, nested block comments, or a
 * SQL-standard function body (BEGIN ATOMIC … END) does not split. Statements that are only whitespace/comments
 * are dropped.
 */
export function splitStatements(sql: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let cur: Token[] = [];
  let atomicDepth = 0;
  let routine: boolean | null = null;
  const flush = (): void => {
    if (cur.length > 0) out.push({ text: sql.slice(cur[0].start, cur[cur.length - 1].end), line: cur[0].line });
    cur = [];
    atomicDepth = 0;
    routine = null;
  };
  for (const t of tokenize(sql)) {
    if (t.kind === 'punct' && t.raw === ';' && atomicDepth === 0) {
      flush();
      continue;
    }
    cur.push(t);
    if (t.kind !== 'word') continue;
    if (routine === null && cur.length >= 3) routine = isRoutine(cur);
    if (!routine) continue;
    if (t.value === 'atomic' && isWord(cur[cur.length - 2], 'begin')) atomicDepth++;
    else if (atomicDepth > 0 && t.value === 'case') atomicDepth++;
    else if (atomicDepth > 0 && t.value === 'end') atomicDepth--;
  }
  flush();
  return out;
}

/** Render tokens back to text: single spaces where the source had whitespace or comments. */
export function renderTokens(toks: readonly Token[]): string {
  let s = '';
  for (const t of toks) {
    if (t.spaced && s !== '') s += ' ';
    s += t.kind === 'word' ? t.value : t.kind === 'string' ? "'…'" : t.raw;
  }
  return s;
}

/**
 * The statement for matching: comments removed, whitespace runs collapsed to one space, unquoted words
 * lower-cased, every string literal (including E'…' and dollar-quoted bodies) replaced by '…'. Quoted
 * identifiers are kept as written ("MyTable"), since their case is significant.
 */
export function normalize(stmt: string): string {
  return renderTokens(tokenize(stmt));
}
