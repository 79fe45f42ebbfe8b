export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The wall clock with a sleep that a stop cuts short (the watch's clock, live). */
export const sleepingClock: Clock & { sleep(ms: number, signal: AbortSignal): Promise<void> } = {
  now: () => Date.now(),
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
