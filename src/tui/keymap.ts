/**
 * Keys are data (docs/architecture.md §3, "A screen"): every binding of every layer is declared here once. The root input handler
 * resolves a key press to a command through this table, and the help overlay and the status-bar hints are
 * generated from it, so what the screen says and what the keys do cannot drift apart.
 */

/** Where a key is read, from the top of the stack down: an overlay first, then a bar, then the screen, then global keys. */
export type Layer = 'help' | 'dialog' | 'prompt' | 'form' | 'home' | 'session' | 'replay' | 'migrate' | 'global';

/** What the root handler gets from Ink's useInput (the fields it uses). */
export interface KeyPress {
  input: string;
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  tab?: boolean;
  shift?: boolean;
  ctrl?: boolean;
  meta?: boolean;
  backspace?: boolean;
  delete?: boolean;
  /** F1: Ink reports function keys with no flag and no text; read from the raw sequence (`keyPresses`). */
  f1?: boolean;
}

export interface Binding {
  command: string;
  layer: Layer;
  /** Key names: 'enter', 'esc', 'up', 'down', 'left', 'right', 'pgup', 'pgdn', 'home', 'end', 'tab', 'shift+tab', 'space', 'backspace', 'ctrl+c', or a character. */
  keys: string[];
  /** A few words for the status bar. */
  hint: string;
  /** One line for the help overlay. */
  description: string;
  /** Shown in the status bar when available (others only in help). */
  bar?: boolean;
  /**
   * The keys as the status bar shows them when a pair of bindings shares one hint ("←/→"): both carry it, the first
   * (with `bar`) gives the hint, shown while either acts, by the key of the one that acts if only one does.
   */
  barKey?: string;
  /** A command of the same layer that is never available at the same time: the two may share a key. */
  exclusiveWith?: string;
  /** What a global command does on one screen, when it differs there (the help overlay says this instead). */
  on?: Partial<Record<Layer, string>>;
}

const TABLE = [
  // Overlays and bars: they take keys before the screen does.
  { command: 'help.close', layer: 'help', keys: ['esc', '?', 'q', 'f1'], hint: 'close', description: 'close this help', bar: true },
  {
    command: 'help.down',
    layer: 'help',
    keys: ['down', 'j', 'pgdn'],
    hint: 'scroll',
    description: 'scroll the keys down (when they do not fit)',
    bar: true,
    barKey: '↓/↑',
  },
  { command: 'help.up', layer: 'help', keys: ['up', 'k', 'pgup'], hint: 'back', description: 'scroll the keys back up', barKey: '↓/↑' },
  { command: 'dialog.yes', layer: 'dialog', keys: ['y'], hint: 'yes', description: 'answer yes', bar: true },
  { command: 'dialog.no', layer: 'dialog', keys: ['n', 'esc'], hint: 'no', description: 'answer no (the default)', bar: true },
  { command: 'prompt.submit', layer: 'prompt', keys: ['enter'], hint: 'done', description: 'submit what you typed', bar: true },
  { command: 'prompt.cancel', layer: 'prompt', keys: ['esc'], hint: 'cancel', description: 'cancel without recording anything', bar: true },
  { command: 'prompt.erase', layer: 'prompt', keys: ['backspace'], hint: 'erase', description: 'erase the last character' },
  {
    command: 'form.submit',
    layer: 'form',
    keys: ['enter'],
    hint: 'start',
    description: 'check the values and start the checklist',
    bar: true,
  },
  { command: 'form.next', layer: 'form', keys: ['down', 'tab'], hint: 'next field', description: 'next field', bar: true },
  { command: 'form.prev', layer: 'form', keys: ['up', 'shift+tab'], hint: 'previous', description: 'previous field' },
  {
    command: 'form.choice-next',
    layer: 'form',
    keys: ['right'],
    hint: 'next choice',
    description: 'next choice (choice and yes/no fields)',
  },
  {
    command: 'form.choice-prev',
    layer: 'form',
    keys: ['left'],
    hint: 'previous choice',
    description: 'previous choice (choice and yes/no fields)',
  },
  { command: 'form.erase', layer: 'form', keys: ['backspace'], hint: 'erase', description: 'erase the last character' },
  {
    command: 'form.cancel',
    layer: 'form',
    keys: ['esc'],
    hint: 'cancel',
    description: 'back to the home screen, nothing started',
    bar: true,
  },

  // Home screen.
  {
    command: 'home.open',
    layer: 'home',
    keys: ['enter'],
    hint: 'start/resume',
    description: 'start the selected checklist (asks its parameters), or resume the selected session',
    bar: true,
  },
  {
    command: 'home.replay',
    layer: 'home',
    keys: ['r'],
    hint: 'replay',
    description: 'replay the selected session from its audit log',
    bar: true,
  },
  {
    command: 'home.switch',
    layer: 'home',
    keys: ['tab'],
    hint: 'switch list',
    description: 'switch between sessions and checklists',
    bar: true,
  },
  {
    command: 'home.filter',
    layer: 'home',
    keys: ['/'],
    hint: 'filter',
    description: 'show only sessions and checklists matching a text (id, checklist, parameters, operator, status, title)',
    bar: true,
  },
  { command: 'home.clear-filter', layer: 'home', keys: ['esc'], hint: 'clear filter', description: 'show everything again', bar: true },
  {
    command: 'home.abort',
    layer: 'home',
    keys: ['a'],
    hint: 'abort',
    description: 'close the selected stopped session as aborted, for good (recorded with the reason; a superseded one says by whom)',
    bar: true,
  },
  {
    command: 'home.migrations',
    layer: 'home',
    keys: ['m'],
    hint: 'migrations',
    description: "the database's migrations: pending ones with their lint verdicts, SQL preview, upgrade/downgrade/backfill",
  },
  { command: 'move.down', layer: 'home', keys: ['down', 'j'], hint: 'down', description: 'next item' },
  { command: 'move.up', layer: 'home', keys: ['up', 'k'], hint: 'up', description: 'previous item' },
  { command: 'move.first', layer: 'home', keys: ['g', 'home'], hint: 'first', description: 'first item' },
  { command: 'move.last', layer: 'home', keys: ['G', 'end'], hint: 'last', description: 'last item' },

  // The checklist screen of a live session.
  {
    command: 'session.confirm',
    layer: 'session',
    keys: ['enter'],
    hint: 'confirm',
    description: 'answer yes to the step that asks (recorded with your name)',
    bar: true,
    exclusiveWith: 'session.continue',
  },
  {
    command: 'session.continue',
    layer: 'session',
    keys: ['enter'],
    hint: 'continue',
    description: 'continue the stopped session from the step it stopped at (not after a failure: r retries that)',
    bar: true,
    exclusiveWith: 'session.confirm',
  },
  {
    command: 'session.skip',
    layer: 'session',
    keys: ['s'],
    hint: 'skip',
    description: 'skip the step that asks, failed or stopped (a reason is required and recorded)',
    bar: true,
  },
  {
    command: 'session.retry',
    layer: 'session',
    keys: ['r'],
    hint: 'retry',
    description: 'run the failed step again (the message line says what it runs)',
    bar: true,
  },
  {
    command: 'session.note',
    layer: 'session',
    keys: ['n'],
    hint: 'note',
    description: 'add a note to the selected step (recorded with who and when)',
    bar: true,
  },
  {
    command: 'session.rollback',
    layer: 'session',
    keys: ['R'],
    hint: 'rollback',
    description: 'during a watch: start the rollback checklist (the watch stops; it stays resumable)',
    bar: true,
  },
  {
    command: 'session.edit',
    layer: 'session',
    keys: ['e'],
    hint: 'edit message',
    description: 'a notify step shows its message before sending it: edit the text (↵ sends the edit; recorded as edited, with your name)',
    bar: true,
  },
  {
    command: 'session.update',
    layer: 'session',
    keys: ['u'],
    hint: 'update channels',
    description:
      "after a failed step or a watch breach in a production deploy (notify: channels configured): send the 'issue or delay' update to them (shown first, editable; recorded)",
    bar: true,
  },
  {
    command: 'session.demo-approve',
    layer: 'session',
    keys: ['A'],
    hint: 'approve (demo)',
    description: "demo only, an approval waiting: approve as the demo's senior",
    bar: true,
  },
  {
    command: 'session.abort',
    layer: 'session',
    keys: ['a'],
    hint: 'abort',
    description: 'abort the session for good (asks first; a reason is recorded)',
    bar: true,
  },
  { command: 'move.down', layer: 'session', keys: ['down', 'j'], hint: 'down', description: 'select the next step' },
  { command: 'move.up', layer: 'session', keys: ['up', 'k'], hint: 'up', description: 'select the previous step' },
  { command: 'move.first', layer: 'session', keys: ['g', 'home'], hint: 'first', description: 'select the first step' },
  { command: 'move.last', layer: 'session', keys: ['G', 'end'], hint: 'last', description: 'select the last step' },
  { command: 'output.up', layer: 'session', keys: ['pgup'], hint: 'scroll output', description: 'scroll the output back a page' },
  {
    command: 'output.down',
    layer: 'session',
    keys: ['pgdn'],
    hint: 'scroll output',
    description: 'scroll the output forward a page (the end follows new lines)',
  },
  { command: 'back', layer: 'session', keys: ['esc'], hint: 'back', description: 'back to the home screen (while a step runs: says so)' },

  // Replay: the checklist screen, read-only, driven by stored events.
  { command: 'replay.toggle', layer: 'replay', keys: ['space'], hint: 'play/pause', description: 'play or pause', bar: true },
  {
    command: 'replay.back',
    layer: 'replay',
    keys: ['left'],
    hint: 'step',
    description: 'one event back (pauses)',
    bar: true,
    barKey: '←/→',
  },
  {
    command: 'replay.forward',
    layer: 'replay',
    keys: ['right'],
    hint: 'one event forward',
    description: 'one event forward (pauses)',
    barKey: '←/→',
  },
  { command: 'replay.faster', layer: 'replay', keys: ['+', '='], hint: 'speed', description: 'faster', bar: true, barKey: '+/-' },
  { command: 'replay.slower', layer: 'replay', keys: ['-'], hint: 'slower', description: 'slower', barKey: '+/-' },
  {
    command: 'replay.start',
    layer: 'replay',
    keys: ['g', 'home'],
    hint: 'start/end',
    description: 'jump to the start',
    bar: true,
    barKey: 'g/G',
  },
  { command: 'replay.end', layer: 'replay', keys: ['G', 'end'], hint: 'end', description: 'jump to the end', barKey: 'g/G' },
  {
    command: 'replay.next-marker',
    layer: 'replay',
    keys: [']'],
    hint: 'next marker',
    description: 'jump to the next failure, skip, note or approval',
  },
  {
    command: 'replay.prev-marker',
    layer: 'replay',
    keys: ['['],
    hint: 'previous marker',
    description: 'jump to the previous failure, skip, note or approval',
  },
  { command: 'move.down', layer: 'replay', keys: ['down', 'j'], hint: 'down', description: 'select the next step' },
  { command: 'move.up', layer: 'replay', keys: ['up', 'k'], hint: 'up', description: 'select the previous step' },
  { command: 'output.up', layer: 'replay', keys: ['pgup'], hint: 'scroll output', description: 'scroll the output back a page' },
  { command: 'output.down', layer: 'replay', keys: ['pgdn'], hint: 'scroll output', description: 'scroll the output forward a page' },
  { command: 'back', layer: 'replay', keys: ['esc'], hint: 'back', description: 'back to the home screen' },

  // Migrations (`cockpit migrate` in a terminal).
  {
    command: 'migrate.upgrade',
    layer: 'migrate',
    keys: ['u'],
    hint: 'upgrade',
    description: 'apply the pending migrations (asks first; lint errors need a reason, recorded)',
    bar: true,
  },
  {
    command: 'migrate.downgrade',
    layer: 'migrate',
    keys: ['d'],
    hint: 'downgrade',
    description: 'revert the newest applied migration, whichever is selected (asks first; the preview says which)',
    bar: true,
  },
  {
    command: 'migrate.backfill',
    layer: 'migrate',
    keys: ['b'],
    hint: 'backfill',
    description: 'run a backfill of migrations/backfills/ in committed batches, with its progress',
    bar: true,
  },
  {
    command: 'migrate.stop',
    layer: 'migrate',
    keys: ['s'],
    hint: 'stop',
    description: 'stop the running command (an upgrade finishes or rolls back its migration; a backfill stops after its batch)',
    bar: true,
  },
  { command: 'migrate.refresh', layer: 'migrate', keys: ['r'], hint: 'refresh', description: 'read the files and the database again' },
  { command: 'move.down', layer: 'migrate', keys: ['down', 'j'], hint: 'down', description: 'select the next migration' },
  { command: 'move.up', layer: 'migrate', keys: ['up', 'k'], hint: 'up', description: 'select the previous migration' },
  { command: 'move.first', layer: 'migrate', keys: ['g', 'home'], hint: 'first', description: 'select the first migration' },
  { command: 'move.last', layer: 'migrate', keys: ['G', 'end'], hint: 'last', description: 'select the last migration' },
  { command: 'output.up', layer: 'migrate', keys: ['pgup'], hint: 'scroll SQL', description: 'scroll the SQL preview back up' },
  { command: 'output.down', layer: 'migrate', keys: ['pgdn'], hint: 'scroll SQL', description: 'scroll the SQL preview down' },
  { command: 'back', layer: 'migrate', keys: ['esc'], hint: 'home', description: 'to the home screen (not while a command runs)' },

  // Everywhere.
  // F1 also from a text field, where `?` is typed (there `?` opens help only while the field is empty).
  { command: 'help.open', layer: 'global', keys: ['?', 'f1'], hint: 'help', description: 'show every key of this screen', bar: true },
  {
    command: 'quit',
    layer: 'global',
    keys: ['q', 'ctrl+c'],
    hint: 'quit',
    description: 'quit the cockpit',
    bar: true,
    on: {
      session: 'quit (asks while a step runs; the next step waits for the answer)',
      migrate: 'quit (asks while a migration command runs)',
      form: 'quit (nothing has started)',
      home: 'quit (nothing runs here)',
      replay: 'quit (the replay only reads the log)',
    },
  },
] as const satisfies readonly Binding[];

/** Every command id a key can give: a misspelt one in a screen does not compile. */
export type Command = (typeof TABLE)[number]['command'];

export const BINDINGS: readonly (Binding & { command: Command })[] = TABLE;

/** Does one key name match this key press? */
export function matches(name: string, k: KeyPress): boolean {
  switch (name) {
    case 'enter':
      // A line feed is Enter too: keys typed while the cockpit starts reach it through the terminal's line mode
      // (CR turned into LF) before raw mode is on; Ctrl-J sends it as well.
      return !!k.return || k.input === '\n';
    case 'esc':
      return !!k.escape;
    case 'up':
      return !!k.upArrow;
    case 'down':
      return !!k.downArrow;
    case 'left':
      return !!k.leftArrow;
    case 'right':
      return !!k.rightArrow;
    case 'pgup':
      return !!k.pageUp;
    case 'pgdn':
      return !!k.pageDown;
    case 'home':
      return !!k.home;
    case 'end':
      return !!k.end;
    case 'tab':
      return !!k.tab && !k.shift;
    case 'shift+tab':
      return !!k.tab && !!k.shift;
    case 'space':
      return k.input === ' ';
    // Most terminals send DEL (0x7f) for Backspace, which Ink 6 reports as `delete`.
    case 'backspace':
      return !!k.backspace || !!k.delete;
    case 'ctrl+c':
      return !!k.ctrl && k.input === 'c';
    case 'f1':
      return !!k.f1;
    default:
      if (k.ctrl || k.meta || k.escape || k.return || k.tab) return false;
      return k.input === name;
  }
}

/**
 * The command a key press means, looking through the active layers in order (topmost first). `available` says
 * which commands can act now: an unavailable command does not swallow the key.
 */
export function resolveKey(layers: readonly Layer[], k: KeyPress, available: (command: Command) => boolean = () => true): Command | null {
  for (const layer of layers) {
    for (const b of BINDINGS) {
      if (b.layer === layer && available(b.command) && b.keys.some((name) => matches(name, k))) return b.command;
    }
  }
  return null;
}

const KEY_LABEL: Record<string, string> = {
  enter: '↵',
  esc: 'esc',
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  pgup: 'PgUp',
  pgdn: 'PgDn',
  space: 'space',
  backspace: '⌫',
  'ctrl+c': 'ctrl-c',
  'shift+tab': 'shift-tab',
  f1: 'F1',
};

export function keyLabel(name: string): string {
  return KEY_LABEL[name] ?? name;
}

/** A key name that a text field takes as a character (a letter, `?`, `/`), not as a command. */
export function isTypedKey(name: string): boolean {
  return [...name].length === 1;
}

/** Does this key press type a character (no control, escape, enter, tab or erase key)? */
export function typesText(k: KeyPress): boolean {
  return (
    !!k.input && !k.ctrl && !k.meta && !k.escape && !k.return && !k.tab && !k.backspace && !k.delete && k.input !== '\n' && k.input !== '\r'
  );
}

/** What terminals send for F1 (xterm and tmux, the VT220 family, the Linux console). */
const F1 = new Set(['\u001bOP', '\u001b[11~', '\u001b[[A', '\u001b[P']);

/**
 * The key presses in one input event. Ink 6.8 (build/input-parser.js) splits what the terminal sends at escape
 * sequences only: a burst of typed keys or a paste between two of them reaches `useInput` as one string (`jjjj`),
 * which would otherwise be one unknown key. `raw` is the event as Ink's parser emitted it: text that starts with no
 * escape and is longer than one character is split into its characters, each read as Ink's parse-keypress.js reads
 * a lone one (CR is enter, tab, backspace, DEL, control letters, capitals with shift).
 */
export function keyPresses(raw: string | null, single: KeyPress): KeyPress[] {
  if (raw !== null && F1.has(raw)) return [{ input: '', f1: true }];
  if (raw === null || raw !== single.input || raw.startsWith('\u001b') || [...raw].length < 2) return [single];
  return [...raw].map((ch): KeyPress => {
    if (ch === '\r') return { input: '\r', return: true };
    if (ch === '\t') return { input: '\t', tab: true };
    if (ch === '\b') return { input: '', backspace: true };
    if (ch === '\u007f') return { input: '', delete: true };
    if (ch !== '\n' && ch <= '\u001a') return { input: String.fromCharCode(ch.charCodeAt(0) + 96), ctrl: true };
    return { input: ch, shift: /^[A-Z]$/.test(ch) };
  });
}

/**
 * Status-bar hints for the active layers: the first key of each `bar` binding that is available now. While the
 * operator types in a text field (`typing`), a character key types: a binding is shown by a key that is not one
 * (quit as ctrl-c), or not at all.
 */
export function barHints(
  layers: readonly Layer[],
  available: (command: Command) => boolean = () => true,
  typing = false,
): Array<{ key: string; hint: string }> {
  const seen = new Set<string>();
  // Keys an upper layer takes (help's q closes it): a lower binding is shown by its other keys, or not at all.
  const taken = new Set<string>();
  const out: Array<{ key: string; hint: string }> = [];
  for (const layer of layers) {
    const mine = new Set<string>();
    for (const b of BINDINGS) {
      if (b.layer !== layer) continue;
      if (available(b.command)) for (const k of b.keys) mine.add(k);
      if (!b.bar || seen.has(b.command)) continue;
      // A pair sharing one hint: shown while either acts, by the keys of those that do.
      const group = b.barKey ? BINDINGS.filter((x) => x.layer === layer && x.barKey === b.barKey) : [b];
      const acting = group.filter((x) => available(x.command));
      const keys = acting.map((x) => x.keys.filter((k) => !taken.has(k) && !(typing && isTypedKey(k)))).filter((k) => k.length);
      if (!keys.length) continue;
      seen.add(b.command);
      const whole = keys.length === group.length && keys.every((k, i) => k.length === acting[i].keys.length);
      out.push({ key: b.barKey && whole ? b.barKey : keyLabel(keys[0][0]), hint: b.hint });
    }
    for (const k of mine) taken.add(k);
  }
  return out;
}

/**
 * Help overlay rows: the bindings of the given layers that act now, keys joined ("j/↓"), one row per command; a
 * global command says what it does on `screen`.
 */
export function helpRows(
  layers: readonly Layer[],
  available: (command: Command) => boolean = () => true,
  screen?: Layer,
  typing = false,
): Array<{ layer: Layer; keys: string; description: string }> {
  const seen = new Set<string>();
  const out: Array<{ layer: Layer; keys: string; description: string }> = [];
  for (const layer of layers) {
    for (const b of BINDINGS) {
      if (b.layer !== layer || seen.has(`${layer}:${b.command}`) || !available(b.command)) continue;
      const keys = typing ? b.keys.filter((k) => !isTypedKey(k)) : b.keys;
      if (!keys.length) continue;
      seen.add(`${layer}:${b.command}`);
      const description = (screen && b.on?.[screen]) ?? b.description;
      out.push({ layer, keys: keys.map(keyLabel).join('/'), description });
    }
  }
  return out;
}

/** Two bindings in one layer (or a layer and global) that share a key would make one unreachable. */
export function keyConflicts(): string[] {
  const problems: string[] = [];
  const layers = [...new Set(BINDINGS.map((b) => b.layer))];
  for (const layer of layers) {
    const owner = new Map<string, Binding>();
    for (const b of BINDINGS.filter((x) => x.layer === layer)) {
      for (const key of b.keys) {
        const prev = owner.get(key);
        const exclusive = prev && (prev.exclusiveWith === b.command || b.exclusiveWith === prev.command);
        if (prev && prev.command !== b.command && !exclusive)
          problems.push(`${layer}: '${key}' is bound to both ${prev.command} and ${b.command}`);
        owner.set(key, b);
      }
    }
  }
  return problems;
}
