// The demo's scenarios (cockpit demo --scenario): which fault the Property app has, and which versions have it. The
// supervisor writes the scenario to `<sandbox>/.sandbox/demo/scenario`; the deploy driver (deploy.ts) reads it at
// each deploy and passes `--scenario` to the apps whose version has the fault (app.ts). No file: no scenario.
//
// The file: one line, the scenario's name, then optionally the last good version ("bad-payments 1.3.0"). The fault
// is in every version newer than that (semver), so the release being cut (1.4.0) fails and a rollback to the
// release the sandbox started with (1.3.0, the default) cures it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { FAULTS, type DemoScenario, type Fault } from '../scenario-names.js';

export const SCENARIOS = FAULTS;
export type Scenario = Fault;
/**
 * bad-payments: one valid payment in this many fails (2%), evenly spread (the 25th, the 75th, …) rather than at
 * random, so that the watch's breach comes within seconds of the switch at any traffic, every time.
 */
export const FAILED_PAYMENT_EVERY = 50;
export const FAILED_PAYMENT_RATIO = 1 / FAILED_PAYMENT_EVERY;

/** Whether the n-th valid payment (from 1) fails under bad-payments. */
export const paymentFails = (n: number): boolean => n % FAILED_PAYMENT_EVERY === FAILED_PAYMENT_EVERY / 2;
/** slow: what every listings and search answer waits more. */
export const SLOW_EXTRA_MS = 300;
/** The last good version when the file names none: the sandbox's last release (history.ts RELEASED, tested equal). */
export const LAST_GOOD_VERSION = '1.3.0';
/** Where the supervisor writes the scenario, under the sandbox. */
export const SCENARIO_FILE = path.join('.sandbox', 'demo', 'scenario');

export const isScenario = (v: string): v is Scenario => (SCENARIOS as readonly string[]).includes(v);

export interface ScenarioSetting {
  scenario: Scenario;
  lastGood: string;
}

/** The file's text: `bad-payments`, or `bad-payments 1.3.0`. */
export function scenarioText(scenario: Scenario, lastGood?: string): string {
  return `${scenario}${lastGood ? ` ${lastGood}` : ''}\n`;
}

/**
 * For the supervisor, before the targets start: the sandbox's scenario (`none` removes the file). `lastGood` is the
 * version the demo starts with (default {@link LAST_GOOD_VERSION}): the fault is in every newer one.
 */
export function writeScenario(sandbox: string, scenario: DemoScenario, lastGood?: string): void {
  const file = path.join(sandbox, SCENARIO_FILE);
  if (scenario === 'none') return rmSync(file, { force: true });
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, scenarioText(scenario, lastGood));
}

/** The sandbox's scenario, or null (no file, `none`, or a line that is not one: the demo runs without a fault). */
export function readScenario(sandbox: string): ScenarioSetting | null {
  let text: string;
  try {
    text = readFileSync(path.join(sandbox, SCENARIO_FILE), 'utf8');
  } catch {
    return null;
  }
  const [name, lastGood] = text.trim().split(/\s+/);
  if (!name || !isScenario(name)) return null;
  return { scenario: name, lastGood: lastGood && semver.valid(lastGood) ? lastGood : LAST_GOOD_VERSION };
}

/** The fault `version` has under the setting: its scenario when it is newer than the last good version, else none. */
export function faultOf(setting: ScenarioSetting | null, version: string): Scenario | null {
  if (!setting) return null;
  const v = semver.valid(version) ?? semver.valid(semver.coerce(version));
  return v && semver.gt(v, setting.lastGood) ? setting.scenario : null;
}
