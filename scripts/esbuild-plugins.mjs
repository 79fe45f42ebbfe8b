// esbuild plugins of the cockpit's bundle (scripts/build.mjs; test/unit/home-closure.test.ts builds the same graph).
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// esbuild names modules by their real path (src/ is a link in the start-up benchmark's install folder).
const fastWidth = realpathSync(fileURLToPath(new URL('../src/tui/fast-width.ts', import.meta.url)));

/**
 * `string-width` (the version at the top of node_modules: Ink's, slice-ansi's, cells.ts's) is src/tui/fast-width.ts,
 * which answers printable ASCII and a verified table of narrow symbols at once and passes everything else to the real
 * string-width: its first call on such a string would compile its emoji regexes during the home screen's first frame
 * (docs/architecture.md §6). Copies of other versions (wrap-ansi's string-width 7) are left as they are.
 */
export const fastStringWidth = {
  name: 'fast-string-width',
  setup(build) {
    let top;
    const real = (resolveDir, kind) => build.resolve('string-width', { resolveDir, kind, pluginData: 'real' });
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === 'real' || args.importer === fastWidth) return undefined;
      top ??= (await real(path.dirname(fastWidth), 'import-statement')).path;
      const r = await real(args.resolveDir, args.kind);
      return r.path && r.path === top ? { path: fastWidth } : undefined;
    });
    // string-width builds its `\p{RGI_Emoji}` set (`v` flag: thousands of strings) as it loads, ~4 ms before the
    // home screen's first frame (docs/architecture.md §6); it is needed only for a string fast-width passes on.
    // Built at its first use instead. (Another string-width without that line is left as it is.)
    build.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const eager = 'const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;';
      if (!text.includes(eager)) return undefined;
      const lazy = "let rgiEmoji; const rgiEmojiRegex = { test: (s) => (rgiEmoji ??= new RegExp('^\\\\p{RGI_Emoji}$', 'v')).test(s) };";
      return { contents: text.replace(eager, () => lazy), loader: 'js' };
    });
  },
};
