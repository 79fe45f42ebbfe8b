/** A Markdown report with its fenced blocks taken out (they hold output verbatim, where Markdown is not read), and those blocks. */
export function splitFences(md: string): { prose: string; fences: string[][] } {
  const prose: string[] = [];
  const fences: string[][] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})/.exec(lines[i]);
    if (!open) {
      prose.push(lines[i]);
      continue;
    }
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i].startsWith(open[1]) && /^`+\s*$/.test(lines[i])); i++) body.push(lines[i]);
    fences.push(body);
  }
  return { prose: prose.join('\n'), fences };
}
