/** Run a benchmark's main: exit 0 once it has reported (budgets are reported, not enforced); a crash is not a measurement, so it says so loudly and exits 1. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error('\nBENCHMARK ERROR: the benchmark could not run to the end');
      console.error(e);
      process.exit(1);
    },
  );
}
