/**
 * The `deploy:` section of cockpit.config.yaml: per environment, how the cockpit deploys there. It never guesses the
 * infrastructure: it runs the environment's deploy script (the contract: `deploy <version> --env E [--colour C]`,
 * `switch <colour> --env E`, `rollback <version> --env E`, `status --env E --json`) and checks what the script
 * claims with `status` and the smoke checks.
 *
 *   deploy:
 *     production:
 *       strategy: blue-green             # in-place (the default, and staging's) | blue-green (production's default)
 *       command: ./scripts/deploy.sh     # the default
 *       url: https://property.example    # the live URL
 *       colours: {blue: https://blue.property.internal, green: https://green.property.internal}
 *       keepPrevious: 30m                # how long the old colour keeps running after a switch, for a switch back
 *       build: [make, image]             # the build command (given the version as its last argument)
 *       smoke:                           # checks as a smoke step's (core/deploy/smoke-check.ts)
 *         - {name: health, path: /health, maxLatency: 500ms}
 *         - {name: version, path: /version, json: {path: version, equals: '${version}'}, target: colour}
 */
import { ENVIRONMENT_NAME } from '../environment.js';
import { z } from 'zod';
import { commandSchema, durationSchema } from '../checklist/schema.js';
import { smokeCheckSchema } from './smoke-check.js';

const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL');

export { smokeCheckSchema, type SmokeCheck } from './smoke-check.js';

export const deployEnvironmentSchema = z
  .strictObject({
    strategy: z.enum(['in-place', 'blue-green']).optional(),
    command: commandSchema.default('./scripts/deploy.sh'),
    url: httpUrl.optional(),
    colours: z.strictObject({ blue: httpUrl, green: httpUrl }).optional(),
    keepPrevious: durationSchema.optional(),
    build: commandSchema.optional(),
    smoke: z.array(smokeCheckSchema).default([]),
  })
  .superRefine((env, ctx) => {
    if (env.strategy === 'in-place' && env.colours) {
      ctx.addIssue({
        code: 'custom',
        path: ['colours'],
        message: 'colours apply to the blue-green strategy only (this environment is in-place)',
      });
    }
  });

export const deployConfigSchema = z
  .record(z.string().regex(ENVIRONMENT_NAME, 'expected an environment name (letters, digits, - and _)'), deployEnvironmentSchema)
  .superRefine((envs, ctx) => {
    for (const [name, env] of Object.entries(envs)) {
      if (strategyOf(name, env) === 'in-place' && env.keepPrevious !== undefined) {
        ctx.addIssue({ code: 'custom', path: [name, 'keepPrevious'], message: 'keepPrevious applies to the blue-green strategy only' });
      }
    }
  });

export type DeployConfig = z.infer<typeof deployConfigSchema>;
export type DeployEnvironment = z.infer<typeof deployEnvironmentSchema>;

/** The strategy of an environment: as written, else blue-green for production (the policy's) and in-place elsewhere. */
export function strategyOf(name: string, env: Pick<DeployEnvironment, 'strategy'> | undefined): 'in-place' | 'blue-green' {
  return env?.strategy ?? (name === 'production' ? 'blue-green' : 'in-place');
}
