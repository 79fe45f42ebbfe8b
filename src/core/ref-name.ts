/**
 * Git's rules for a ref name (git-check-ref-format(1)), applied to a branch or tag name as written (`release/v1.2.0`,
 * `v1.2.0`: one level allowed, as `git check-ref-format --allow-onelevel`). A name built from parameters is checked
 * with these before git sees it; test/unit/ref-name.test.ts compares them with the real `git check-ref-format`.
 */

/** Why git would refuse `name` as a ref name, in words ("contains '..'"), or null when it accepts it. */
export function refNameProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name === '@') return "is '@' alone";
  const control = /[\u0000-\u001f\u007f]/.exec(name);
  if (control) return `contains a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
  if (name.includes(' ')) return 'contains a space';
  const bad = /[~^:?*[\\]/.exec(name);
  if (bad) return `contains '${bad[0]}'`;
  if (name.includes('..')) return "contains '..'";
  if (name.includes('@{')) return "contains '@{'";
  if (name.startsWith('/')) return "starts with '/'";
  if (name.endsWith('/')) return "ends with '/'";
  if (name.includes('//')) return "contains '//'";
  if (name.endsWith('.')) return "ends with '.'";
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return `has a part starting with '.' (${part})`;
    if (part.endsWith('.lock')) return `has a part ending in '.lock' (${part})`;
  }
  return null;
}
