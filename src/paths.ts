import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The cockpit's own install folder (where package.json, checklists/ and drizzle/ are), from src/ or dist/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'drizzle'))) return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the cockpit install folder (package.json beside drizzle/)');
    dir = up;
  }
}

export const defaultChecklistsDir = () => path.join(packageRoot(), 'checklists');
export const migrationsDir = (dialect: 'sqlite' | 'pg') => path.join(packageRoot(), 'drizzle', dialect);

/** The local overlay's file name: beside the config file, laid over it key by key (cli/config.ts `loadConfig`). */
export const LOCAL_CONFIG = 'cockpit.local.yaml';
