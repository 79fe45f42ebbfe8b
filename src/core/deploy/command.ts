import semver from 'semver';
import { strategyOf, type DeployConfig, type DeployEnvironment } from './config.js';
import { deployEnvironmentSchema } from './config.js';

/** A command as argv: a list as written, a text split at spaces (never given to a shell). */
export function commandArgv(command: string | readonly string[]): string[] {
  return typeof command === 'string' ? command.trim().split(/\s+/).filter(Boolean) : [...command];
}

/** An environment's deploy settings: as configured, else the defaults (./scripts/deploy.sh, the strategy by its name). */
export function environmentOf(config: DeployConfig | undefined, name: string): DeployEnvironment {
  return config?.[name] ?? deployEnvironmentSchema.parse({});
}

/** The script's command line as a dry run shows it (`./scripts/deploy.sh deploy 1.5.0 --env production …`). */
export function scriptLine(config: DeployConfig | undefined, name: string, args: string[]): string {
  return [...commandArgv(environmentOf(config, name).command), ...args].join(' ');
}

export { strategyOf };

/** A version as it may reach argv: valid semver (never an option: semver cannot start with '-'). */
export function versionProblem(version: string): string | null {
  return semver.valid(version) === version ? null : `'${version}' is not a semantic version like 1.5.0`;
}
