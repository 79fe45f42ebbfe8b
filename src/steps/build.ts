import { commandArgv, environmentOf } from '../core/deploy/command.js';
import { defineStepKind } from './define.js';
import { checkDeployFields, environment, envField, scriptFailed, shown, versionField, versionOf } from './deploy-common.js';

/**
 * Builds what an environment deploys: `deploy.<env>.build` with the version as its last argument, run as a recorded
 * command. It records what it produced (`deploy.built`): the image and its digest when the command prints
 * `image: <ref>` / `digest: sha256:…`, or the artifact and its sha256 (computed by the cockpit) when it prints
 * `artifact: <path>`. No build command configured: ○ nothing to check, saying so. A build that needs Docker where
 * there is none fails saying so, and one that names nothing it built fails too: nothing is pretended.
 */
export const buildStep = defineStepKind({
  kind: 'build',
  // Building again is harmless: an interrupted build builds again.
  rerunSafe: true,
  fields: { env: envField, version: versionField },
  needs: ['deploy', 'record', 'log'],
  validate: (step, params) => checkDeployFields(step, params, ['env', 'version']),
  describe({ spec, params, settings }) {
    const name = shown(spec.env, params);
    const build = environmentOf(settings?.deploy, name).build;
    if (!build) return `nothing to build: deploy.${name}.build is not configured`;
    return `${[...commandArgv(build), shown(spec.version, params)].join(' ')} (records the image and digest, or the artifact and its sha256, it reports)`;
  },
  async execute(ctx) {
    const e = environment(ctx, ctx.spec.env);
    if (!e.ok) return e.outcome;
    const v = versionOf(ctx.spec.version, ctx.params);
    if (!v.ok) return v.outcome;
    if (!e.config.build)
      return {
        status: 'passed',
        nothingToCheck: `no build command is configured for ${e.name} (deploy.${e.name}.build in cockpit.config.yaml)`,
      };
    const r = await e.script.build(v.version);
    if (!r.ok) return scriptFailed(r);
    const { image, digest, artifact, sha256 } = r;
    await ctx.record([
      {
        type: 'deploy.built',
        data: {
          env: e.name,
          version: v.version,
          command: [...commandArgv(e.config.build), v.version].join(' '),
          ...(image ? { image } : {}),
          ...(digest ? { digest } : {}),
          ...(artifact ? { artifact } : {}),
          ...(sha256 ? { sha256 } : {}),
        },
      },
    ]);
    ctx.log(
      image ? `built ${v.version}: image ${image}${digest ? ` (${digest})` : ''}` : `built ${v.version}: ${artifact} (sha256 ${sha256})`,
    );
    return { status: 'passed', exitCode: 0, via: 'command' };
  },
});
