/**
 * squawk's rule tests (test/fixtures/squawk-cases.json, SQL transcribed from sbdchd/squawk's
 * crates/squawk_linter/src/rules/*.rs test modules) run through the cockpit's lint. Each squawk rule maps to the
 * cockpit rules that catch the same hazard; a case agrees when the cockpit reports one of those rules exactly when
 * squawk does. Cases the cockpit deliberately decides otherwise carry `cockpitDiffers` (why).
 */
import { readFileSync } from 'node:fs';
import { splitStatements } from '../../src/core/migrate/sql.js';
import { lintMigration, type RuleId } from '../../src/core/migrate/lint.js';

export interface SquawkCase {
  /** squawk's rule id. */
  rule: string;
  sql: string;
  /** squawk's verdict: its test expects a violation of `rule`. */
  shouldFlag: boolean;
  /** Which squawk test it comes from (and anything to know). */
  note: string;
  /**
   * squawk runs it inside a transaction (BEGIN … COMMIT in the SQL, or its assume_in_transaction setting); else
   * each statement commits on its own, as in a cockpit migration declared noTransaction.
   */
  transaction?: boolean;
  /** The PostgreSQL major version squawk's test sets (pg_version); the cockpit lints for the same. */
  pgVersion?: number;
  /** Why the cockpit's verdict is the opposite of squawk's. */
  cockpitDiffers?: string;
}

/** squawk rule → the cockpit rules that report the same hazard (none: a rule the cockpit does not apply). */
export const RULE_MAP: Record<string, RuleId[]> = {
  'adding-field-with-default': ['volatile-default'],
  'adding-foreign-key-constraint': ['constraint-not-valid'],
  'adding-not-nullable-field': ['set-not-null'],
  'adding-serial-primary-key-field': ['unique-constraint'],
  'adding-required-field': ['add-required-column'],
  'ban-char-field': ['char-type'],
  'ban-concurrent-index-creation-in-transaction': ['concurrent-in-transaction'],
  'ban-drop-column': ['drop-column'],
  'ban-drop-database': ['drop-database'],
  'ban-drop-table': ['drop-table'],
  'ban-drop-not-null': ['drop-not-null'],
  'ban-truncate-cascade': ['truncate-cascade'],
  'changing-column-type': ['change-column-type'],
  'constraint-missing-not-valid': ['constraint-not-valid'],
  'disallow-unique-constraint': ['unique-constraint'],
  'prefer-robust-stmts': ['non-idempotent-no-transaction'],
  'prefer-text-field': ['char-type', 'change-column-type'],
  'renaming-column': ['rename-column'],
  'renaming-table': ['rename-table'],
  'require-concurrent-index-creation': ['index-not-concurrent'],
  'require-concurrent-index-deletion': ['drop-index-not-concurrent'],
  'require-concurrent-reindex': ['blocking-maintenance'],
  'prefer-repack': ['blocking-maintenance'],
  'ban-create-domain-with-constraint': ['domain-constraint'],
  'ban-alter-domain-with-add-constraint': ['domain-constraint'],
  'require-timeout-settings': ['no-lock-timeout'],
  'require-concurrent-partition-detach': [],
  'prefer-bigint-over-int': [],
  'prefer-bigint-over-smallint': [],
  'prefer-identity': [],
  'prefer-timestamptz': [],
  'require-enum-value-ordering': [],
  'require-table-schema': [],
  'transaction-nesting': [],
};

const TX_CONTROL = /^(begin|commit|start\s+transaction|rollback|end)\b/i;

export function loadSquawkCases(file = new URL('../fixtures/squawk-cases.json', import.meta.url)): SquawkCase[] {
  return JSON.parse(readFileSync(file, 'utf8')) as SquawkCase[];
}

/** Whether the cockpit reports the case's hazard (one of the mapped rules). */
export function cockpitFlags(c: SquawkCase): boolean {
  const rules = RULE_MAP[c.rule];
  if (!rules) throw new Error(`squawk rule ${c.rule} is not mapped in RULE_MAP`);
  // A cockpit migration cannot hold BEGIN/COMMIT (the loader refuses them; the runner owns the transaction).
  const up = splitStatements(c.sql).filter((s) => !TX_CONTROL.test(s.text));
  const findings = lintMigration(
    { id: 'squawk', up, down: splitStatements('SELECT 1;'), noTransaction: !c.transaction },
    {},
    { postgresMajor: c.pgVersion },
  );
  return findings.some((f) => rules.includes(f.rule));
}

export interface ParityCounts {
  flagCaught: number;
  flagTotal: number;
  passPassed: number;
  passTotal: number;
  differs: number;
  /** Cases neither agreeing nor listed as deliberate differences. */
  disagreements: SquawkCase[];
  /** Cases listed as deliberate differences that in fact agree (the fixture is out of date). */
  staleDiffers: SquawkCase[];
}

export function parity(cases: SquawkCase[]): ParityCounts {
  const r: ParityCounts = { flagCaught: 0, flagTotal: 0, passPassed: 0, passTotal: 0, differs: 0, disagreements: [], staleDiffers: [] };
  for (const c of cases) {
    const flagged = cockpitFlags(c);
    const agrees = flagged === c.shouldFlag;
    if (c.shouldFlag) {
      r.flagTotal++;
      if (flagged) r.flagCaught++;
    } else {
      r.passTotal++;
      if (!flagged) r.passPassed++;
    }
    if (c.cockpitDiffers) {
      r.differs++;
      if (agrees) r.staleDiffers.push(c);
    } else if (!agrees) r.disagreements.push(c);
  }
  return r;
}

export function parityText(r: ParityCounts): string {
  return (
    `squawk parity: should-flag caught ${r.flagCaught}/${r.flagTotal}, should-pass passed ${r.passPassed}/${r.passTotal} ` +
    `(${r.differs} deliberate difference(s), ${r.disagreements.length} unexplained)`
  );
}
