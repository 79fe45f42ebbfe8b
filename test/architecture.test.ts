/**
 * The layers of src/ and what each may import, checked over the import statements of every file (a regex over
 * `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`; relative paths resolved to their layer).
 *
 *   core/    pure: no I/O library (node:fs, node:child_process, node:net, node:http(s), ink, react, drizzle-orm,
 *            better-sqlite3, pg, …) and none of adapters/, audit/, engine/, steps/, cli/, app/, tui/, report/.
 *   tui/     gets everything through services (AppServices in tui/types.ts): nothing of adapters/, audit/, cli/,
 *            app/, not even types; from engine/ only `import type` (tui/types.ts takes LiveView from engine/live).
 *   steps/   from adapters/ only `import type` (the adapters reach a step through its context); nothing of cli/,
 *            app/, tui/.
 *   app/     the use cases: no ink, react, commander; nothing of tui/, cli/.
 *   engine/  nothing of cli/, app/, tui/.
 *
 * A type-only import is an `import type … from` or `export type … from` statement, or `import('…')` in a type
 * position (`typeof import('…')`, `import('…').Name`). `import { type A } from` is not: under verbatimModuleSyntax
 * it stays in the output as an import of the module.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '..', 'src');

export interface Import {
  /** The specifier as written. */
  spec: string;
  typeOnly: boolean;
}

/** What a file imports (comments removed first, so a comment that shows an import is not one). */
export function importsOf(text: string): Import[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const found: Import[] = [];
  // import … from '…' / export … from '…' (across lines), and the side-effect `import '…'`.
  const stmt = /(?:^|[;\n}])\s*(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of code.matchAll(stmt)) found.push({ spec: m[4], typeOnly: !!m[2] });
  for (const m of code.matchAll(/(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g)) found.push({ spec: m[1], typeOnly: false });
  // import('…'): a type when after `typeof` or followed by a member that is not a promise's.
  const dyn = /(typeof\s+)?\bimport\(\s*['"]([^'"]+)['"]\s*\)(\s*\.\s*([A-Za-z_$][\w$]*))?/g;
  for (const m of code.matchAll(dyn)) {
    const member = m[4];
    const typeOnly = !!m[1] || (!!member && !['then', 'catch', 'finally'].includes(member));
    found.push({ spec: m[2], typeOnly });
  }
  return found;
}

type Layer = 'core' | 'tui' | 'steps' | 'app' | 'engine' | 'adapters' | 'audit' | 'cli' | 'report' | 'root';

/** The layer a file of src/ is in (its first folder; files at the top of src/ are `root`). */
function layerOf(srcRelative: string): Layer {
  const parts = srcRelative.split('/');
  return (parts.length > 1 ? parts[0] : 'root') as Layer;
}

/** An import as a target: a layer of src/, or a package (node builtins as `node:x`). */
type Target = { kind: 'layer'; layer: Layer; path: string } | { kind: 'package'; name: string };

const BUILTINS = new Set(['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'http2', 'os', 'readline', 'dgram', 'dns', 'tls']);

function targetOf(file: string, spec: string): Target {
  if (spec.startsWith('.')) {
    const abs = path.resolve(path.dirname(path.join(SRC, file)), spec);
    const rel = path.relative(SRC, abs).split(path.sep).join('/');
    if (rel.startsWith('..')) return { kind: 'package', name: spec };
    return { kind: 'layer', layer: layerOf(rel), path: rel };
  }
  if (spec.startsWith('node:')) return { kind: 'package', name: spec.replace(/\/.*$/, (s) => (s === '/promises' ? s : '')) };
  if (BUILTINS.has(spec)) return { kind: 'package', name: `node:${spec}` };
  const parts = spec.split('/');
  return { kind: 'package', name: spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] };
}

const IO_PACKAGES = [
  'node:fs',
  'node:fs/promises',
  'node:child_process',
  'node:net',
  'node:http',
  'node:https',
  'node:http2',
  'node:dgram',
  'node:dns',
  'node:tls',
  'node:readline',
  'node:os',
  'node:worker_threads',
  'node:cluster',
  'ink',
  'react',
  'drizzle-orm',
  'better-sqlite3',
  'pg',
  'axios',
  'simple-git',
  'esbuild',
  'commander',
  'execa',
  'undici',
  'node-fetch',
];

interface Rule {
  /** Shown after each violation. */
  name: string;
  /** The import is refused. */
  refuses(t: Target, typeOnly: boolean): boolean;
}

const layerIn =
  (...layers: Layer[]) =>
  (t: Target) =>
    t.kind === 'layer' && layers.includes(t.layer);
const packageIn =
  (...names: string[]) =>
  (t: Target) =>
    t.kind === 'package' && names.includes(t.name);

const RULES: Partial<Record<Layer, Rule[]>> = {
  core: [
    { name: 'core/ imports no I/O library', refuses: packageIn(...IO_PACKAGES) },
    {
      name: 'core/ imports no other layer',
      refuses: layerIn('adapters', 'audit', 'engine', 'steps', 'cli', 'app', 'tui', 'report'),
    },
  ],
  tui: [
    { name: 'tui/ gets services, it imports no adapters/, audit/, cli/, app/', refuses: layerIn('adapters', 'audit', 'cli', 'app') },
    { name: 'tui/ imports only types from engine/', refuses: (t, typeOnly) => layerIn('engine')(t) && !typeOnly },
  ],
  steps: [
    { name: 'steps/ imports only types from adapters/', refuses: (t, typeOnly) => layerIn('adapters')(t) && !typeOnly },
    { name: 'steps/ imports no cli/, app/, tui/', refuses: layerIn('cli', 'app', 'tui') },
  ],
  app: [
    { name: 'app/ imports no ink, react, commander', refuses: packageIn('ink', 'react', 'commander') },
    { name: 'app/ imports no tui/, cli/', refuses: layerIn('tui', 'cli') },
  ],
  engine: [{ name: 'engine/ imports no cli/, app/, tui/', refuses: layerIn('cli', 'app', 'tui') }],
};

/** Every violation in these files (paths relative to src/), as `file: imports X (rule)`. */
export function violations(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of files) {
    const rules = RULES[layerOf(file)] ?? [];
    for (const imp of importsOf(text)) {
      const target = targetOf(file, imp.spec);
      for (const rule of rules) {
        if (rule.refuses(target, imp.typeOnly)) out.push(`src/${file}: imports ${imp.typeOnly ? 'type ' : ''}${imp.spec} (${rule.name})`);
      }
    }
  }
  return out;
}

function sourceFiles(dir: string, base = dir): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) for (const [k, v] of sourceFiles(full, base)) files.set(k, v);
    else if (/\.(ts|tsx|mts|cts)$/.test(entry.name))
      files.set(path.relative(base, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
  }
  return files;
}

describe('architecture: what each layer of src/ may import', () => {
  it('every file of src/ keeps its layer’s rules', () => {
    const files = sourceFiles(SRC);
    expect(files.size).toBeGreaterThan(50);
    for (const layer of ['core', 'tui', 'steps', 'app', 'engine'])
      expect(
        [...files.keys()].some((f) => f.startsWith(`${layer}/`)),
        `no files in src/${layer}/`,
      ).toBe(true);
    // The parser sees the imports (a regex that matched nothing would pass every rule).
    const all = [...files.values()].flatMap((text) => importsOf(text));
    expect(all.length).toBeGreaterThan(300);
    expect(all.some((i) => i.typeOnly)).toBe(true);
    const found = violations(files);
    expect(found, `\n${found.join('\n')}\n`).toEqual([]);
  });

  it('finds a violation of each rule, and lets the allowed imports through', () => {
    const files = new Map<string, string>([
      ['core/bad.ts', `import { readFileSync } from 'node:fs';\nimport os from 'os';\nimport { x } from '../engine/session.js';`],
      ['core/bad-type.ts', `import type { AuditStore } from '../audit/store.js';`],
      ['tui/bad.tsx', `import {\n  LiveSession,\n} from '../engine/live.js';\nimport { prepareRun } from '../app/run.js';`],
      ['tui/screens/bad.tsx', `const m = await import('../../adapters/git.js');`],
      ['steps/bad.ts', `import { gitReader } from '../adapters/git.js';\nexport { y } from '../cli/setup.js';`],
      ['app/bad.ts', `import { render } from 'ink';\nimport { Command } from 'commander';\nimport type { Route } from '../tui/App.js';`],
      ['engine/bad.ts', `import { Workspace } from '../cli/setup.js';`],
      // Allowed: types from engine/ in tui/, types from adapters/ in steps/, a comment, a pure package in core/.
      [
        'tui/ok.ts',
        `import type { LiveView } from '../engine/live.js';\n// import { x } from '../cli/setup.js';\n/* import '../app/run.js' */`,
      ],
      ['steps/ok.ts', `import type { GitReader } from '../adapters/git.js';\ntype M = typeof import('../adapters/shell.js');`],
      ['core/ok.ts', `import { z } from 'zod';\nimport { createHash } from 'node:crypto';\nimport { reduce } from './reducer.js';`],
    ]);
    expect(violations(files)).toEqual([
      'src/core/bad.ts: imports node:fs (core/ imports no I/O library)',
      'src/core/bad.ts: imports os (core/ imports no I/O library)',
      'src/core/bad.ts: imports ../engine/session.js (core/ imports no other layer)',
      'src/core/bad-type.ts: imports type ../audit/store.js (core/ imports no other layer)',
      'src/tui/bad.tsx: imports ../engine/live.js (tui/ imports only types from engine/)',
      'src/tui/bad.tsx: imports ../app/run.js (tui/ gets services, it imports no adapters/, audit/, cli/, app/)',
      'src/tui/screens/bad.tsx: imports ../../adapters/git.js (tui/ gets services, it imports no adapters/, audit/, cli/, app/)',
      'src/steps/bad.ts: imports ../adapters/git.js (steps/ imports only types from adapters/)',
      'src/steps/bad.ts: imports ../cli/setup.js (steps/ imports no cli/, app/, tui/)',
      'src/app/bad.ts: imports ink (app/ imports no ink, react, commander)',
      'src/app/bad.ts: imports commander (app/ imports no ink, react, commander)',
      'src/app/bad.ts: imports type ../tui/App.js (app/ imports no tui/, cli/)',
      'src/engine/bad.ts: imports ../cli/setup.js (engine/ imports no cli/, app/, tui/)',
    ]);
  });
});

/** Import cycles among the files under `prefix` (static, runtime imports: `import type` and lazy `import()` do not count). */
function cyclesUnder(files: Map<string, string>, prefix: string): string[][] {
  const graph = new Map<string, string[]>();
  for (const [file, text] of files) {
    if (!file.startsWith(prefix)) continue;
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '');
    const deps: string[] = [];
    for (const m of code.matchAll(/(?:^|[;\n}])\s*(?:import|export)\s+(?!type\s)[^;'"]*?\s*from\s*['"](\.[^'"]+)['"]/g)) {
      const rel = path
        .relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), m[1]))
        .split(path.sep)
        .join('/');
      const target = [rel, rel.replace(/\.js$/, '.ts'), rel.replace(/\.js$/, '.tsx')].find((c) => files.has(c));
      if (target?.startsWith(prefix)) deps.push(target);
    }
    graph.set(file, deps);
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return cycles;
}

describe('architecture: no import cycles', () => {
  it('the screens do not import the root back: no runtime import cycle under src/', () => {
    const files = sourceFiles(SRC);
    const cycles = cyclesUnder(files, '').map((c) => c.join(' → '));
    expect(cycles, `\n${cycles.join('\n')}\n`).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const files = new Map([
      ['tui/App.tsx', "import { HomeScreen } from './screens/HomeScreen.js';"],
      ['tui/screens/HomeScreen.tsx', "import { useUi } from '../App.js';\nimport type { Ui } from '../context.js';"],
      ['tui/context.ts', "import type { Route } from './App.js';"],
    ]);
    expect(cyclesUnder(files, 'tui/')).toEqual([['tui/App.tsx', 'tui/screens/HomeScreen.tsx', 'tui/App.tsx']]);
  });
});
