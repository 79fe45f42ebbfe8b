/**
 * Text from outside the cockpit (a commit's subject, its scope, its author) placed in Markdown the cockpit writes
 * (release notes, the changelog, an annotated tag's message): inert. No HTML can form (`<` and `>` become entities),
 * and no link or image: the `](` that closes a link text is escaped, and so is the `![` that opens an image, so
 * `![x](http://…)` and `[x](javascript:…)` read as the text they are. What cannot form either stays as written
 * (`dependabot[bot]`, code spans, emphasis): they are how commits are written, and cannot fetch or run anything.
 */
export function inertMarkdown(text: string): string {
  return text
    .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
    .replace(/!\[/g, '!\\[')
    .replace(/\]\(/g, '\\](');
}
