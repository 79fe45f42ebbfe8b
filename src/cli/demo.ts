import { cmdRun } from './commands.js';
import { demoDir, deployedEnvironments, ensureSandbox } from '../demo/sandbox.js';
import { Workspace } from './setup.js';

/**
 * `cockpit demo` / `npm start`: the cockpit on a sandbox it makes itself. In a terminal it opens the home screen on
 * the sandbox; without one (CI, a pipe) it runs the demo checklist non-interactively so the tour still shows something.
 */
export async function cmdDemo(flags: { reset?: boolean; dir?: string; nonInteractive?: boolean }): Promise<number> {
  const dir = demoDir(flags.dir);
  const made = ensureSandbox(dir, !!flags.reset);
  const interactive = !flags.nonInteractive && !!process.stdin.isTTY && !!process.stdout.isTTY;
  const where = `${made ? 'Made' : 'Using'} the demo sandbox in ${dir}${made ? '' : ' (cockpit demo --reset makes it anew)'}`;
  // The commands printed say `npx cockpit` (the demo is run from the cockpit folder) and --repo the sandbox.
  const ws = new Workspace({ repo: dir }, 'npx cockpit');
  const recorded = `See what was recorded (from the cockpit folder):\n  ${ws.command(['audit', 'list'])}\n  ${ws.command(['audit', 'show'])} <session> --format md\n  ${ws.command(['audit', 'verify'])}\n`;
  // A deploy leaves the Property app and HAProxy serving (to look at, switch, roll back): said, with how to stop them.
  const serving = () =>
    deployedEnvironments(dir)
      .map(
        (env) =>
          `The demo's Property app keeps serving ${env}: see it with ./scripts/deploy.sh status --env ${env}, stop it with ./scripts/deploy.sh stop --env ${env} (in ${dir}), or cockpit demo --reset\n`,
      )
      .join('');
  const after = () => recorded + serving();
  if (interactive) {
    const { tuiHome } = await (await import('./load-tui.js')).loadTui();
    const code = await tuiHome(ws);
    process.stdout.write(`${where}\n${after()}`);
    return code;
  }
  process.stdout.write(`${where}\n\n`);
  const code = await cmdRun({ repo: dir }, 'demo', { nonInteractive: true, yes: ['all'] });
  process.stdout.write(`\n${after()}`);
  return code;
}
