import path from 'node:path';
import { z } from 'zod';
import { scheduleSchema } from '../core/release/schedule.js';
import { versionFileSpecSchema } from '../core/release/version-files.js';
import { publishCommandSchema } from '../core/release/publish.js';
import { parseYamlLayers } from '../core/yaml-input.js';
import { localConfigFile, readConfigFile } from './config-cache.js';
import { watchConfigSchema } from '../core/watch/config.js';
import { deployConfigSchema } from '../core/deploy/config.js';
import { verifyConfigSchema } from '../core/verify.js';
import { UsageError } from '../core/errors.js';
import { parseDuration, timerDurationProblem } from '../core/duration.js';
import { RULES, type RuleId } from '../core/migrate/lint.js';
import { notifyConfigSchema } from '../core/notify/config.js';
import { ENVIRONMENT_NAME } from '../core/environment.js';

/** A database URL: literal, or `{env: NAME}` to read it from the environment (a password then stays out of the file). */
const databaseUrl = z.union(
  [z.string().min(1), z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') })],
  { error: 'expected a postgres:// URL, or {env: NAME} to read it from the environment' },
);

/** `cockpit.config.yaml` in the repository: everything optional. */
export const configSchema = z.strictObject({
  audit: z
    .strictObject({
      url: z.string().min(1).optional(),
      /** An SSH private key (kept outside the repository) that signs every anchor commit on refs/cockpit/audit. */
      signingKey: z.string().min(1).optional(),
      /** An allowed-signers file (ssh-keygen's format): audit verify checks the anchors' signature against it. */
      allowedSigners: z.string().min(1).optional(),
    })
    .optional(),
  /** Where the repo's own checklists are (default `checklists`). */
  checklists: z.string().min(1).optional(),
  secrets: z
    .strictObject({
      /** Names of environment variables whose values must never reach the log or the screen. */
      env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')).default([]),
    })
    .optional(),
  /** How releases are made here: the version files to bump (default frontend/package.json and backend/setup.py), the remote. */
  release: z
    .strictObject({
      versionFiles: z.array(versionFileSpecSchema).min(1).optional(),
      remote: z.string().min(1).optional(),
      /** The bi-weekly schedule: `every: 14d`, `anchor:` a past release time, `freeze: 24h`, `announce: 48h`. */
      schedule: scheduleSchema.optional(),
      /** The command that publishes a release's notes on the forge (argv; `${version}`, `${tag}`, `${notesFile}`): the `publish` step runs it. */
      publish: publishCommandSchema.optional(),
    })
    .optional(),
  /**
   * The application's database, for `cockpit migrate` and `cockpit db`: its URL (else DATABASE_URL) or one per
   * environment, the migrations folder, and an empty
   * database for `migrate verify` (else it creates a scratch database on the server of `url`); `lint`: per lint rule
   * (src/core/migrate/lint.ts RULES), `error`, `warning` or `off` instead of its default severity.
   */
  database: z
    .strictObject({
      url: databaseUrl.optional(),
      migrations: z.string().min(1).optional(),
      scratchUrl: databaseUrl.optional(),
      /**
       * One database per environment (`staging: {url: …, scratchUrl: …}`), chosen by `--env` and the steps' `env:`;
       * an environment not listed is refused. Without it, every environment uses url (src/core/database-target.ts).
       */
      environments: z
        .record(
          z.string().regex(ENVIRONMENT_NAME, 'expected an environment name such as staging or production'),
          z.strictObject({ url: databaseUrl, scratchUrl: databaseUrl.optional() }),
        )
        .optional(),
      /** Where `cockpit db backup` keeps dumps and their manifests (default .cockpit/backups in the repository). */
      backups: z.string().min(1).optional(),
      /** Queries that must each return true after a restore (the policy's "verify database integrity"). */
      verifyQueries: z.array(z.strictObject({ name: z.string().min(1), sql: z.string().min(1) })).optional(),
      /** The oldest PostgreSQL major version the migrations must be safe on, for `migrate lint` (a live database's own version is used otherwise). */
      postgresVersion: z.number().int().min(11).max(99).optional(),
      /**
       * Migrations with an id before this one predate `cockpit migrate create` (written by hand, already applied, so
       * never to be edited): `migrate check` asks them only to be committed, not for the tool's header or a downgrade.
       */
      legacyBefore: z
        .string()
        .regex(/^\d{14}$/, 'expected a migration id: YYYYMMDDHHMMSS (quote it in YAML)')
        .optional(),
      lint: z.partialRecord(z.enum(Object.keys(RULES) as [RuleId, ...RuleId[]]), z.enum(['error', 'warning', 'off'])).optional(),
    })
    .optional(),
  /**
   * The post-deploy watch: Prometheus (url, timeout, headers, auth), query vars, interval/duration/baseline/window,
   * signals and rules over the built-in ones (src/core/watch/config.ts). Resolve with `resolveWatchConfig`.
   */
  // Lazy: the watch's schemas are built only for a config that has a `watch:` section.
  watch: z.lazy(() => watchConfigSchema()).optional(),
  /** Per environment: the deploy script, strategy, URLs, build command and smoke checks (src/core/deploy/config.ts). */
  deploy: deployConfigSchema.optional(),
  /** The application's own checks the deploys run: the test command, the Day-2 verification scripts per environment (src/core/verify.ts). */
  verify: verifyConfigSchema.optional(),
  /**
   * Who approves (the `approve` step, `cockpit approve`): every key but the three below is a role, listing the e-mail
   * addresses (git user.email) that hold it (`senior: [alice@example.com]`). `signing: ssh` counts only approvals
   * signed with `ssh-keygen -Y sign` by a key `allowedSigners` lists for the approver; `timeout` (default 4h).
   */
  approvers: z
    .object({
      signing: z.literal('ssh').optional(),
      allowedSigners: z.string().min(1).optional(),
      timeout: z
        .union([z.string(), z.number()])
        .refine((v) => parseDuration(v) !== null && timerDurationProblem(v) === null, {
          message: 'expected a duration such as 4h or 30m (at most 24 days)',
        })
        .optional(),
    })
    .catchall(z.array(z.string().regex(/^[^@\s]+@[^@\s]+$/, 'expected an e-mail address')).min(1))
    .refine((a) => !a.signing || !!a.allowedSigners, { message: 'signing: ssh needs allowedSigners (an allowed-signers file)' })
    .optional(),
  /**
   * Where the `notify` step sends messages: channel name → `type: slack` (a Slack-compatible incoming webhook: Slack,
   * Mattermost, Rocket.Chat), `type: webhook` (any JSON webhook, with a template) or `type: statuspage` (Atlassian
   * Statuspage). URLs and API keys are secrets: `{env: NAME}` or literals, sent and never recorded (src/core/notify/config.ts).
   */
  notify: z.lazy(() => notifyConfigSchema()).optional(),
  /** Extra environment for every command a step runs. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export type CockpitConfig = z.infer<typeof configSchema>;

/** cockpit.config.yaml is missing (when named) or invalid: bad input, exit 2. */
export class ConfigError extends UsageError {}

/**
 * The config in `file`, with `cockpit.local.yaml` beside it laid over it when there is one (key by key: objects merge,
 * anything else replaces): this machine's values (URLs with ports, endpoints, tokens), kept out of the committed file.
 */
export function loadConfig(file: string, explicit: boolean): CockpitConfig {
  const local = localConfigFile(file);
  const layers: Array<{ file: string; text: string }> = [];
  // The default config and every overlay are read only from inside their folder (a link may not lead elsewhere);
  // a config named with --config is read where it is.
  const base = readConfigFile(file, explicit ? undefined : path.dirname(file));
  if (base !== null) layers.push({ file, text: base });
  else if (explicit) throw new ConfigError(`config file ${file} does not exist`);
  const over = readConfigFile(local, path.dirname(local));
  if (over !== null) layers.push({ file: local, text: over });
  if (!layers.length) return {};
  const r = parseYamlLayers(layers, configSchema, 'config');
  if (!r.ok) throw new ConfigError(r.message);
  return r.data;
}
