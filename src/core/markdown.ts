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
