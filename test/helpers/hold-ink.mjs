// `node --import <this file> bin/cockpit.js`: the screens' chunk (dist/chunks/tui-*.js: Ink, React, yoga and the
// screens) is held back until the file named by HOLD_INK_UNTIL exists (20 s at most), so a test can see what is on
// the terminal before Ink has loaded (test/integration/first-frame-terminal.test.ts). A loader hook (node:module's
// register), which runs on its own thread: the cockpit itself runs on, unaware.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { existsSync } from 'node:fs';
export async function load(url, context, next) {
  const gate = process.env.HOLD_INK_UNTIL;
  if (gate && /\\/dist\\/chunks\\/tui-[^/]*\\.js$/.test(url)) {
    const until = Date.now() + 20000;
    while (!existsSync(gate) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }
  return next(url, context);
}`)}`,
);
