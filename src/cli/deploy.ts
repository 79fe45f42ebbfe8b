import { ENVIRONMENT_NAME } from '../core/environment.js';
import { suggestParams } from '../app/suggest.js';
import { neutralize } from '../core/sanitize.js';
import { cliContext, parseParams, paramForm, runChecklist, wantsForm, type RunFlags } from './commands.js';
import { UsageError, Workspace, type GlobalOptions } from './setup.js';

/**
 * The environments `cockpit deploy` knows here: each `deploy:` entry of cockpit.config.yaml and each `deploy-<env>`
 * checklist (the repo's own, then the defaults), with the checklist that deploys there when there is one.
 */
export function deployEnvironments(ws: Workspace): Map<string, { checklist: string | null; configured: boolean }> {
  const envs = new Map<string, { checklist: string | null; configured: boolean }>();
  for (const name of Object.keys(ws.config.deploy ?? {})) envs.set(name, { checklist: null, configured: true });
  for (const c of ws.listChecklists()) {
    const env = c.id.startsWith('deploy-') ? c.id.slice('deploy-'.length) : '';
    if (ENVIRONMENT_NAME.test(env)) envs.set(env, { checklist: c.id, configured: envs.get(env)?.configured ?? false });
  }
  return envs;
}

/**
 * `cockpit deploy <env> [version]`: the short way to run `deploy-<env>`. The version, when not given: in a terminal
 * the parameter form opens with the suggestion (as `cockpit run` does); otherwise production takes the newest release
 * tag on main (said, with why), and any other environment needs it given (a staging deploy is of a branch being
 * tested, which the cockpit cannot guess).
 */
export async function cmdDeploy(g: GlobalOptions, env: string, version: string | undefined, flags: RunFlags): Promise<number> {
  const ws = new Workspace(g);
  const envs = deployEnvironments(ws);
  const known = [...envs.keys()].sort();
  const target = envs.get(env);
  if (!target)
    throw new UsageError(
      `no environment '${env}' to deploy to: the ones known here are ${known.join(', ') || 'none'} (a deploy: entry in cockpit.config.yaml, or a deploy-<env> checklist)`,
    );
  if (!target.checklist)
    throw new UsageError(
      `cockpit.config.yaml has a deploy: entry for '${env}', but there is no checklist deploy-${env} to run: add checklists/deploy-${env}.yaml (start from ${ws.command(['checklist', 'show', 'deploy-staging'])})`,
    );
  const checklist = target.checklist;
  const given = parseParams(flags.param);
  if (version !== undefined) given.version = version;
  if (given.version === undefined) {
    const defs = ws.mustLoad(checklist).bundle.root.checklist.params;
    if (defs.version && wantsForm(flags)) return paramForm(ws, checklist, given, flags.yes);
    if (defs.version?.required && defs.version.default === undefined) {
      const how = `give it: ${ws.command(['deploy', env, '<version>'])}`;
      if (env !== 'production') throw new UsageError(`cockpit deploy ${env} needs the version to deploy: ${how}`);
      const s = (await suggestParams(ws.repoDir, checklist, defs)).version;
      if (!s?.value) throw new UsageError(`no version to deploy to production: ${s?.reason ?? 'nothing to suggest'}; ${how}`);
      given.version = s.value;
      if (!flags.json) process.stdout.write(neutralize(`deploy ${env} ${s.value}: ${s.reason} (no version given)\n`));
    }
  }
  return runChecklist(cliContext(ws), { checklist, params: given, yes: flags.yes }, flags);
}
