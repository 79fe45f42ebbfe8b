/**
 * How closely `cockpit migrate lint` agrees with squawk's own rule tests (test/fixtures/squawk-cases.json):
 *
 *   node --import tsx scripts/bench/lint-parity.ts [--list]
 *
 * Prints should-flag caught N/M and should-pass passed N/M, counting the deliberate differences (cases with
 * `cockpitDiffers`) as misses; --list prints every case where the cockpit's verdict is not squawk's, with the reason.
 */
import { cockpitFlags, loadSquawkCases, parity, parityText } from '../../test/helpers/squawk-parity.js';

const cases = loadSquawkCases();
const r = parity(cases);
console.log(parityText(r));
if (process.argv.includes('--list'))
  for (const c of cases) {
    if (cockpitFlags(c) === c.shouldFlag) continue;
    console.log(`- ${c.rule} (${c.note}): squawk ${c.shouldFlag ? 'flags' : 'passes'}; ${c.cockpitDiffers ?? 'UNEXPLAINED'}`);
  }
process.exitCode = r.disagreements.length ? 1 : 0;
