/**
 * Text from outside the cockpit (a commit's subject, its author, command output, a note, a metric label) placed in
 * Markdown the cockpit writes: inert, whatever it holds. No HTML or autolink can form (`<` and `>` become entities)
 * and no link or image. Two ways, by where the text goes:
 *  - `prose` (release notes, the changelog, an annotated tag's message): the `](` that closes a link text is escaped,
 *    and so is the `![` that opens an image, so `![x](http://…)` and `[x](javascript:…)` read as the text they are.
 *    What cannot form either stays as written (`dependabot[bot]`, code spans, emphasis): they are how commits are
 *    written, and cannot fetch or run anything.
 *  - `literal` (a report's table cells and lines): it renders as exactly the same text and never as structure, on
 *    one line. `&`, `<`, `>`, `[` and `]` become entities (CommonMark does not read an entity as structure);
 *    emphasis, code and table characters are backslash-escaped, so a `|` cannot open a column.
 */
export function inertMarkdown(text: string, mode: 'prose' | 'literal' = 'prose'): string {
  if (mode === 'prose')
    return text
      .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
      .replace(/!\[/g, '!\\[')
      .replace(/\]\(/g, '\\](');
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[&<>[\]]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '[': '&#91;', ']': '&#93;' })[c]!)
    .replace(/[\\`*_~|]/g, (c) => `\\${c}`);
}

/** A piece of a line of Markdown as a screen draws it: its text without the markers, and how it is styled. */
export interface MarkdownRun {
  text: string;
  strong?: boolean;
  code?: boolean;
}

/**
 * One line of the policy's Markdown (or a step's help) as styled runs: `**strong**` and `__strong__` lose their
 * markers and are drawn bold, `` `code` `` loses its backticks. Nothing else is interpreted: a lone `*` (a glob, a
 * footnote) stays as written. A marker that is never closed is text.
 */
export function markdownRuns(line: string): MarkdownRun[] {
  const runs: MarkdownRun[] = [];
  const push = (run: MarkdownRun) => {
    if (!run.text) return;
    const last = runs[runs.length - 1];
    if (last && !!last.strong === !!run.strong && !!last.code === !!run.code) last.text += run.text;
    else runs.push(run);
  };
  let open: string | null = null; // the marker that opened the bold run
  let strong = false;
  let i = 0;
  let text = '';
  const flush = () => {
    push({ text, ...(strong ? { strong: true } : {}) });
    text = '';
  };
  while (i < line.length) {
    if (line[i] === '`') {
      const end = line.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        push({ text: line.slice(i + 1, end), code: true, ...(strong ? { strong: true } : {}) });
        i = end + 1;
        continue;
      }
    }
    const two = line.slice(i, i + 2);
    if (two === '**' || two === '__') {
      // Opens only when it closes later on the line; closes what it opened.
      if (open === two || (!open && line.indexOf(two, i + 2) > i + 2)) {
        flush();
        strong = !strong;
        open = strong ? two : null;
        i += 2;
        continue;
      }
    }
    text += line[i];
    i++;
  }
  flush();
  return runs;
}
