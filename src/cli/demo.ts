import { cmdRun } from './commands.js';
import { demoDir, deployedEnvironments, ensureSandbox } from '../demo/sandbox.js';
import { markDemoSandbox } from '../demo/mode.js';
import { cockpitCommand } from '../core/command-line.js';
import { Workspace } from './setup.js';

/**
 * `cockpit demo` / `npm start`: the cockpit on a sandbox it makes itself. In a terminal it opens the home screen on
 * the sandbox; without one (CI, a pipe) it runs the demo checklist non-interactively so the tour still shows something.
 */
export async function cmdDemo(flags: { reset?: boolean; dir?: string; nonInteractive?: boolean; messages?: boolean }): Promise<number> {
  const dir = demoDir(flags.dir);
  // The comms room's: what the demo's chat and status page received (src/demo/messages.ts).
  if (flags.messages) return (await import('../demo/messages.js')).printMessages(dir);
  const made = ensureSandbox(dir, !!flags.reset);
  const interactive = !flags.nonInteractive && !!process.stdin.isTTY && !!process.stdout.isTTY;
  // The commands printed say `npx cockpit` (the demo is run from the cockpit folder) and --repo the sandbox.
  const ws = new Workspace({ repo: dir }, 'npx cockpit');
  const reset = cockpitCommand(['demo', '--reset', ...(flags.dir ? ['--dir', dir] : [])], {
    program: 'npx cockpit',
    repoDir: dir,
    elsewhere: false,
  });
  const where = `${made ? 'Made' : 'Using'} the demo sandbox in ${dir}${made ? '' : ` (${reset} makes it anew)`}`;
  const recorded = async () => {
    // The newest session is the one just run (or the last one touched on the screen).
    const [newest] = await (await ws.openStore({ readOnly: true })).listSessions(1);
    const show = newest
      ? ws.command(['audit', 'show', newest.id, '--format', 'md'])
      : `${ws.command(['audit', 'show'])} <session> --format md`;
    return `See what was recorded (from the cockpit folder):\n  ${ws.command(['audit', 'list'])}\n  ${show}\n  ${ws.command(['audit', 'verify'])}\n`;
  };
  // A deploy leaves the Property app and HAProxy serving (to look at, switch, roll back): said, with how to stop them.
  const serving = () =>
    deployedEnvironments(dir)
      .map(
        (env) =>
          `The demo's Property app keeps serving ${env}: see it with ./scripts/deploy.sh status --env ${env}, stop it with ./scripts/deploy.sh stop --env ${env} (in ${dir}), or ${reset}\n`,
      )
      .join('');
  const after = async () => (await recorded()) + serving();
  if (interactive) {
    // The screens know this is the demo's sandbox (src/demo/mode.ts): the home's story line, A approves as the demo's senior.
    markDemoSandbox(dir);
    const { tuiHome } = await (await import('./load-tui.js')).loadTui();
    const code = await tuiHome(ws);
    process.stdout.write(`${where}\n${await after()}`);
    return code;
  }
  process.stdout.write(`${where}\n\n`);
  const code = await cmdRun({ repo: dir }, 'demo', { nonInteractive: true, yes: ['all'] });
  process.stdout.write(`\n${await after()}`);
  return code;
}
