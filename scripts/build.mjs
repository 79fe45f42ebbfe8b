// Bundles the cockpit (dist/cockpit.js) so start-up loads one module, not hundreds. The entry holds only the
// argument parser; each command's code is a chunk loaded when that command runs (splitting), so `cockpit --version`
// does not parse the SQLite, PostgreSQL and zod code it never uses.
import { build } from 'esbuild';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fastStringWidth } from './esbuild-plugins.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Chunk names carry content hashes, so each build starts from an empty folder (else old chunks pile up). It is
// built beside dist/ and swapped in with two renames: a cockpit started meanwhile never finds dist/ missing.
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const next = `${dist}.next-${process.pid}`;
const old = `${dist}.old-${process.pid}`;
rmSync(next, { recursive: true, force: true });

await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: next,
  entryNames: 'cockpit',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Less text to parse at start-up; names are kept, so a stack trace still reads.
  minifyWhitespace: true,
  minifySyntax: true,
  // Native addon: loaded from node_modules at run time. pg-native is pg's optional native binding, and
  // react-devtools-core Ink's optional devtools (only with DEV=true); neither is used.
  external: ['better-sqlite3', 'pg-native', 'react-devtools-core', 'esbuild'],
  define: { __COCKPIT_VERSION__: JSON.stringify(pkg.version), 'process.env.NODE_ENV': '"production"' },
  banner: { js: "import { createRequire as __cockpitRequire } from 'node:module'; const require = __cockpitRequire(import.meta.url);" },
  plugins: [fastStringWidth],
  logLevel: 'warning',
});

// The demo's blue/green target (src/demo/bluegreen): the Property app (with prom-client bundled in) and the deploy
// script that drives it behind HAProxy. Each is one self-contained file the demo sandbox's scripts/deploy.sh runs.
// The demo's chat and status-page receiver (src/demo/receivers-main.ts) and its traffic generator
// (src/demo/traffic-main.ts), which cockpit demo runs from dist/.
await build({
  entryPoints: {
    'demo-app': 'src/demo/bluegreen/app.ts',
    'demo-deploy': 'src/demo/bluegreen/deploy.ts',
    'demo-receivers': 'src/demo/receivers-main.ts',
    'demo-traffic': 'src/demo/traffic-main.ts',
  },
  outdir: next,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  banner: { js: "import { createRequire as __cockpitRequire } from 'node:module'; const require = __cockpitRequire(import.meta.url);" },
  logLevel: 'warning',
});

if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
