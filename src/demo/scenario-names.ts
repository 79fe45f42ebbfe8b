// The names of the demo's scenarios (`cockpit demo --scenario`), said once: the command line's choices, the
// supervisor's context and the Property app's faults (./bluegreen/scenario.ts says what each fault does).
// Only constants: the argument parser reads them before anything else of the demo is loaded.

/** The faults v1.4.0 can have after its deploy. */
export const FAULTS = ['bad-payments', 'slow'] as const;
export type Fault = (typeof FAULTS)[number];

/** `--scenario`'s choices: no fault, or one of {@link FAULTS}. */
export const DEMO_SCENARIOS = ['none', ...FAULTS] as const;
export type DemoScenario = (typeof DEMO_SCENARIOS)[number];
