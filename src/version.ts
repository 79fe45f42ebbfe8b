import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from './paths.js';

declare const __COCKPIT_VERSION__: string | undefined;

/** Set by the bundler; read from package.json when running from source (tests). */
export function cockpitVersion(): string {
  if (typeof __COCKPIT_VERSION__ === 'string') return __COCKPIT_VERSION__;
  return JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;
}
