/**
 * The default of a switch that has a case for every member of a union: `default: exhaustive(e)` compiles only while
 * no member is left without a case, so a new event type (core/events.ts) is a compile error at every switch that
 * must decide about it. At run time it does nothing and the caller goes on with its fallback: a log written by a
 * newer cockpit may hold an event type this one does not know, and reading it must not fail.
 */
export function exhaustive(_value: never): void {}
