/**
 * The home screen's start-up loads only what its first frame needs (docs/architecture.md §6): Ink, React, the
 * screens, the light workspace and the SQLite store. This guard builds the bundle's module graph (esbuild's metafile,
 * as scripts/build.mjs bundles) and follows the static imports from every module the home route loads
 * (src/cli/main.ts's default action): the schemas (zod), the YAML parser, drizzle, pg, the engine and the step kinds
 * must not be among them. They load when first used (a run starts, a form opens), or on a cache miss.
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** What `cockpit` with no command imports, in order: the parser, the kept frame, the workspace, Ink and the screens. */
const HOME_ROUTE = [
  'src/cli/main.ts',
  'src/cli/first-frame.ts',
  'src/cli/workspace.ts',
  'src/cli/load-tui.ts',
  'src/cli/plain-home.ts',
  'src/cli/tui.tsx',
];

/** The plain first frame (drawn before Ink loads): its chunk and what it imports. */
const PLAIN = 'src/cli/plain-home.ts';

/** What the plain first frame must draw without: React, Ink and its layout engine. */
const INK = [
  { what: 'react', test: (f: string) => /node_modules\/react[^/]*\//.test(f) },
  { what: 'ink', test: (f: string) => /node_modules\/ink\//.test(f) },
  { what: 'yoga-layout', test: (f: string) => /node_modules\/yoga-layout\//.test(f) },
  { what: 'a .tsx module (a React component)', test: (f: string) => f.endsWith('.tsx') },
];

/** Packages and folders the home route must not load before its first frame. */
const NOT_AT_START = [
  { what: 'zod', test: (f: string) => /node_modules\/zod\//.test(f) },
  { what: 'yaml', test: (f: string) => /node_modules\/yaml\//.test(f) },
  { what: 'drizzle-orm', test: (f: string) => /node_modules\/drizzle-orm\//.test(f) },
  { what: 'pg', test: (f: string) => /node_modules\/pg[^/]*\//.test(f) },
  {
    what: 'src/engine (but the anchors the entry waits for)',
    test: (f: string) => f.startsWith('src/engine/') && f !== 'src/engine/pending-anchors.ts',
  },
  { what: 'src/steps', test: (f: string) => f.startsWith('src/steps/') },
  { what: 'src/app/run.ts', test: (f: string) => f === 'src/app/run.ts' },
  { what: 'the checklist loader', test: (f: string) => f.startsWith('src/core/checklist/load') },
  { what: 'the config schema', test: (f: string) => f === 'src/cli/config.ts' },
  { what: 'the full workspace', test: (f: string) => f === 'src/cli/setup.ts' },
  { what: 'the audit stores', test: (f: string) => f === 'src/audit/sqlite.ts' || f === 'src/audit/postgres.ts' },
];

let built: Promise<Metafile> | undefined;
const metafile = () => (built ??= buildMetafile());

async function buildMetafile(): Promise<Metafile> {
  // The bundle's own plugins (string-width's fast path), as scripts/build.mjs uses them.
  const plugins = (await import(path.join(root, 'scripts/esbuild-plugins.mjs'))) as { fastStringWidth: Plugin };
  const r = await build({
    plugins: [plugins.fastStringWidth],
    absWorkingDir: root,
    entryPoints: HOME_ROUTE,
    bundle: true,
    splitting: true,
    write: false,
    metafile: true,
    outdir: 'out',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'pg-native', 'react-devtools-core', 'esbuild'],
    define: { __COCKPIT_VERSION__: '"0.0.0"', 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  return r.metafile;
}

/** Every module reachable from `entries` by static imports, each with the module that first imported it. */
function staticClosure(meta: Metafile, entries: string[]): Map<string, string | null> {
  const seen = new Map<string, string | null>(entries.map((e) => [e, null]));
  const queue = [...entries];
  while (queue.length) {
    const file = queue.shift()!;
    for (const imp of meta.inputs[file]?.imports ?? []) {
      if (imp.external || (imp.kind !== 'import-statement' && imp.kind !== 'require-call')) continue;
      if (!seen.has(imp.path)) {
        seen.set(imp.path, file);
        queue.push(imp.path);
      }
    }
  }
  return seen;
}

const chain = (closure: Map<string, string | null>, file: string) => {
  const out: string[] = [];
  for (let f: string | null | undefined = file; f; f = closure.get(f)) out.unshift(f);
  return out.join(' → ');
};

describe("the home screen's start-up", () => {
  it('imports no schema, YAML, drizzle, pg, engine or step kind before its first frame', { timeout: 60_000 }, async () => {
    const meta = await metafile();
    for (const e of HOME_ROUTE) expect(meta.inputs[e], e).toBeDefined();
    const closure = staticClosure(meta, HOME_ROUTE);
    // The guard sees what it guards: Ink and the home screen are in the closure.
    expect([...closure.keys()].some((f) => /node_modules\/ink\//.test(f))).toBe(true);
    expect(closure.has('src/tui/screens/HomeScreen.tsx')).toBe(true);
    // Ink measures with the fast string width (src/tui/fast-width.ts), which is where the real one is imported from.
    const ink = [...closure.keys()].find((f) => /node_modules\/ink\/build\/output\.js$/.test(f))!;
    expect(meta.inputs[ink].imports.map((i) => i.path)).toContain('src/tui/fast-width.ts');
    const realWidth = meta.inputs['src/tui/fast-width.ts'].imports.map((i) => i.path);
    expect(realWidth.some((p) => /node_modules\/string-width\/index\.js$/.test(p))).toBe(true);
    const found = NOT_AT_START.flatMap(({ what, test }) => {
      const hit = [...closure.keys()].find(test);
      return hit ? [`${what}: ${chain(closure, hit)}`] : [];
    });
    expect(found, 'statically imported on the home route (import it where it is first used instead)').toEqual([]);
  });

  it(
    'reads the SQLite audit log without drizzle, and opens the store (first start, a migration) without the schemas',
    { timeout: 60_000 },
    async () => {
      const meta = await metafile();
      const hits = (closure: Map<string, string | null>, skip: string[]) =>
        NOT_AT_START.filter((n) => !skip.includes(n.what)).flatMap(({ what, test }) => {
          const hit = [...closure.keys()].find(test);
          return hit ? [`${what}: ${chain(closure, hit)}`] : [];
        });
      // Home's data is read before the first frame: what the workspace imports to read it is loaded then too.
      expect(hits(staticClosure(meta, [...HOME_ROUTE, 'src/audit/sqlite-reader.ts']), []), 'loaded with the reader').toEqual([]);
      // A log to create or migrate is opened with the store (drizzle), still without zod, YAML or the loader.
      expect(
        hits(staticClosure(meta, [...HOME_ROUTE, 'src/audit/sqlite.ts']), ['drizzle-orm', 'the audit stores']),
        'loaded with the store',
      ).toEqual([]);
    },
  );

  it(
    'draws the plain first frame without React, Ink or yoga: its chunk and the chunks it imports hold none of them',
    { timeout: 60_000 },
    async () => {
      const meta = await metafile();
      // The modules: what plain-home.ts imports, statically, all the way down.
      const closure = staticClosure(meta, [PLAIN]);
      // The guard sees what it guards: the renderer and the reader are in it.
      for (const f of ['src/tui/home-plain.ts', 'src/tui/home-layout.ts', 'src/cli/home-data.ts']) expect(closure.has(f), f).toBe(true);
      const modules = [...INK, ...NOT_AT_START].flatMap(({ what, test }) => {
        const hit = [...closure.keys()].find(test);
        return hit ? [`${what}: ${chain(closure, hit)}`] : [];
      });
      expect(modules, 'statically imported by the plain first frame').toEqual([]);
      // The bundle's chunks: the one built for plain-home.ts and those it imports (a chunk shared with Ink's would load
      // Ink's modules with it).
      const outputs = Object.entries(meta.outputs);
      const entry = outputs.find(([, o]) => o.entryPoint === PLAIN);
      expect(entry, 'a chunk of its own').toBeDefined();
      const seen = new Set([entry![0]]);
      const queue = [entry![0]];
      while (queue.length) {
        for (const imp of meta.outputs[queue.shift()!].imports) {
          if (imp.external || imp.kind !== 'import-statement' || seen.has(imp.path)) continue;
          seen.add(imp.path);
          queue.push(imp.path);
        }
      }
      const inChunks = [...seen].flatMap((o) => Object.keys(meta.outputs[o].inputs));
      expect(
        inChunks.some((f) => /node_modules\/chalk\//.test(f)),
        'chalk, as Ink writes colours',
      ).toBe(true);
      expect(
        INK.flatMap(({ what, test }) => inChunks.filter(test).map((f) => `${what}: ${f}`)),
        'loaded with the plain first frame',
      ).toEqual([]);
    },
  );

  it('still loads them where they are used: a run, the config and the checklists', { timeout: 60_000 }, async () => {
    const meta = await metafile();
    // The guard's walk finds a heavy import when there is one: the full workspace reaches zod, YAML and the steps.
    const full = staticClosure(meta, ['src/cli/setup.ts']);
    for (const what of ['zod', 'yaml', 'src/steps'])
      expect([...full.keys()].some(NOT_AT_START.find((n) => n.what === what)!.test), what).toBe(true);
  });
});
