// Bundles the cockpit (dist/cockpit.js) so start-up loads one module, not hundreds. The entry holds only the
// argument parser; each command's code is a chunk loaded when that command runs (splitting), so `cockpit --version`
// does not parse the SQLite, PostgreSQL and zod code it never uses.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Chunk names carry content hashes: without a clean start, every build would leave the last one's chunks behind.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist',
  entryNames: 'cockpit',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Native addon: loaded from node_modules at run time. pg-native is pg's optional native binding, and
  // react-devtools-core Ink's optional devtools (only with DEV=true); neither is used.
  external: ['better-sqlite3', 'pg-native', 'react-devtools-core'],
  define: { __COCKPIT_VERSION__: JSON.stringify(pkg.version), 'process.env.NODE_ENV': '"production"' },
  banner: { js: "import { createRequire as __cockpitRequire } from 'node:module'; const require = __cockpitRequire(import.meta.url);" },
  logLevel: 'warning',
});
