import { describe, expect, it } from 'vitest';
import { inlineValues, sqlIdent, sqlLiteral, txControlProblem } from '../../src/adapters/migrate/modules.js';

// The pure parts of the migration builder (src/migrate-api.ts): how values become SQL text.

describe('sqlLiteral', () => {
  it('renders scalars, keeping a negative number from turning `x - $1` into a comment', () => {
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(undefined)).toBe('NULL');
    expect(sqlLiteral(42)).toBe('42');
    expect(sqlLiteral(-1.5)).toBe('(-1.5)');
    expect(sqlLiteral(Number.NaN)).toBe("'NaN'");
    expect(sqlLiteral(-Infinity)).toBe("'-Infinity'");
    expect(sqlLiteral(12345678901234567890n)).toBe('12345678901234567890');
    expect(sqlLiteral(-3n)).toBe('(-3)');
    expect(sqlLiteral(true)).toBe('TRUE');
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral('a\\b')).toBe("E'a\\\\b'");
    expect(sqlLiteral(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe("'2024-01-02T03:04:05.000Z'");
    expect(sqlLiteral(Buffer.from([0xde, 0xad]))).toBe("'\\xdead'");
  });

  it('renders arrays as PostgreSQL array literals and objects as JSON text', () => {
    // the backslash escaping the inner quote makes it an E'…' string, its backslash doubled
    expect(sqlLiteral(['a', 'b"c', null, 1])).toBe(`E'{"a","b\\\\"c",NULL,"1"}'`);
    expect(sqlLiteral([[1, 2], [3]])).toBe(`'{{"1","2"},{"3"}}'`);
    expect(sqlLiteral({ plan: "o'k" })).toBe(`'{"plan":"o''k"}'`);
  });

  it('refuses what cannot be text in PostgreSQL', () => {
    expect(() => sqlLiteral('a\0b')).toThrow(/NUL/);
    expect(() => sqlLiteral(new Date(Number.NaN))).toThrow(/invalid Date/);
  });
});

describe('sqlIdent', () => {
  it('leaves plain lower-case names bare and quotes the rest', () => {
    expect(sqlIdent('listings')).toBe('listings');
    expect(sqlIdent('user')).toBe('"user"');
    expect(sqlIdent('Tenant 1')).toBe('"Tenant 1"');
    expect(sqlIdent('a"b')).toBe('"a""b"');
    expect(() => sqlIdent('')).toThrow(/non-empty/);
  });
});

describe('inlineValues', () => {
  it('replaces $n outside quotes, comments and dollar-quoted bodies', () => {
    expect(inlineValues("UPDATE t SET a = $1, b = '$1' WHERE id = $2 -- $1", ['x', 7])).toBe(
      "UPDATE t SET a = 'x', b = '$1' WHERE id = 7 -- $1",
    );
    expect(inlineValues('DO $$ BEGIN PERFORM $1; END $$; SELECT $1', [1])).toBe('DO $$ BEGIN PERFORM $1; END $$; SELECT 1');
    expect(inlineValues('SELECT x - $1', [-5])).toBe('SELECT x - (-5)');
    expect(() => inlineValues('SELECT $2', [1])).toThrow(/\$2 has no value \(1 value\(s\) given\)/);
  });
});

describe('txControlProblem', () => {
  it('refuses BEGIN/COMMIT/ROLLBACK but not ROLLBACK TO SAVEPOINT, with the advice for modules', () => {
    expect(txControlProblem('COMMIT', false, 'module')).toMatch(/a separate migration exporting `noTransaction = true`/);
    expect(txControlProblem('begin work', true, 'sql')).toMatch(/split it into separate migrations/);
    expect(txControlProblem('ROLLBACK TO SAVEPOINT a', false, 'module')).toBeNull();
    expect(txControlProblem('SELECT 1', false, 'module')).toBeNull();
  });
});
