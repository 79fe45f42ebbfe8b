import { cmdAuditList, cmdChecklistList } from './commands.js';
import type { GlobalOptions } from './setup.js';

/** `cockpit` alone: what is here and what is unfinished. (The full-screen home arrives with the screens.) */
export async function cmdHome(g: GlobalOptions): Promise<number> {
  process.stdout.write('Checklists\n');
  await cmdChecklistList(g);
  process.stdout.write('\nSessions\n');
  await cmdAuditList(g, { limit: '10' });
  process.stdout.write('\nStart one: cockpit run <checklist> -p key=value …   ·   continue one: cockpit resume <session>   ·   cockpit --help\n');
  return 0;
}
