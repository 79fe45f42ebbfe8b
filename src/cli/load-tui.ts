/**
 * Load the screens. Ink decides once, as it loads, whether it runs in CI (`CI` or `CONTINUOUS_INTEGRATION` set):
 * then it draws nothing until it exits. Whoever gets here has a terminal in front of them (checked before), so
 * Ink is loaded with those variables hidden, and they are put back at once: the commands a session runs still see
 * them.
 */
export async function loadTui(): Promise<typeof import('./tui.js')> {
  return withoutCi(loadInk);
}

/**
 * Load modules with `CI` and `CONTINUOUS_INTEGRATION` hidden, and put them back at once: chalk decides its colours
 * and Ink whether it draws as it loads. The plain first frame (cli/plain-home.ts) loads chalk before Ink does, so
 * it loads under the same conditions: both draw with the one chalk, in the same colours.
 */
export async function withoutCi<T>(load: () => Promise<T>): Promise<T> {
  const keys = ['CI', 'CONTINUOUS_INTEGRATION'] as const;
  const saved = keys.map((k) => [k, process.env[k]] as const);
  for (const k of keys) delete process.env[k];
  try {
    return await load();
  } finally {
    for (const [k, v] of saved) if (v !== undefined) process.env[k] = v;
  }
}

async function loadInk(): Promise<typeof import('./tui.js')> {
  // Ink's layout engine (yoga, compiled to WebAssembly) loads its inlined binary with `fetch` when there is one,
  // and Node's fetch costs ~20 ms to load: a fifth of starting node. Without it, yoga decodes the same bytes itself.
  // Node's `fetch` is a lazy getter: its descriptor is kept (not read) and put back once Ink is loaded.
  const fetchDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  if (fetchDescriptor?.configurable) Object.defineProperty(globalThis, 'fetch', { value: undefined, configurable: true, writable: true });
  try {
    return await import('./tui.js');
  } finally {
    if (fetchDescriptor?.configurable) Object.defineProperty(globalThis, 'fetch', fetchDescriptor);
  }
}
