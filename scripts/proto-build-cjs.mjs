import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
const pkg = JSON.parse(readFileSync('/work/main/package.json', 'utf8'));
await build({
  entryPoints: ['/work/main/src/cli/main.ts'],
  outfile: '/work/main/dist/cockpit.cjs',
  bundle: true, platform: 'node', format: 'cjs', target: 'node20',
  minifyWhitespace: true, minifySyntax: true,
  supported: { 'dynamic-import': false },
  external: ['better-sqlite3', 'pg-native', 'react-devtools-core', 'esbuild'],
  define: { __COCKPIT_VERSION__: JSON.stringify(pkg.version), 'process.env.NODE_ENV': '"production"', 'import.meta.url': '__cockpitImportMetaUrl' },
  logLevel: 'warning',
});
