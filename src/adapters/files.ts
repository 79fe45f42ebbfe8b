import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Files of one repository, by relative path. A path that resolves outside the repository is refused, not followed. */
export function repoFiles(repoDir: string) {
  const root = path.resolve(repoDir);
  const resolve = (rel: string): string => {
    const abs = path.resolve(root, rel);
    if (abs !== root && !abs.startsWith(root + path.sep)) throw new Error(`${rel}: outside the repository ${root}`);
    return abs;
  };
  return {
    read(rel: string): string | null {
      const abs = resolve(rel);
      return existsSync(abs) ? readFileSync(abs, 'utf8') : null;
    },
    /** Written beside and renamed into place: a crash never leaves half a file. */
    write(rel: string, text: string): void {
      const abs = resolve(rel);
      mkdirSync(path.dirname(abs), { recursive: true });
      const tmp = `${abs}.cockpit-${process.pid}`;
      writeFileSync(tmp, text);
      renameSync(tmp, abs);
    },
  };
}
