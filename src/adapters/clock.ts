export interface Clock {
  /** Wall-clock time (epoch ms): what records carry. */
  now(): number;
  /** A monotonic reading (ms from an arbitrary origin) that setting the system's time does not move: what durations use. */
  monotonic?(): number;
}

export const systemClock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };

/**
 * "Now" for durations shown live: the wall clock read once, moved on by the monotonic clock. Setting the system's
 * time while it runs does not make a recovery clock jump. A clock without a monotonic reading is read as it is.
 */
export function steadyNow(clock: Clock): () => number {
  const mono = clock.monotonic?.bind(clock);
  if (!mono) return () => clock.now();
  const wall0 = clock.now();
  const mono0 = mono();
  return () => wall0 + (mono() - mono0);
}

/** The wall clock with a sleep that a stop cuts short (the watch's clock, live). */
export const sleepingClock: Clock & { sleep(ms: number, signal: AbortSignal): Promise<void> } = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
    }),
};
