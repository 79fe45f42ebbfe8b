/**
 * One redaction policy (src/core/sanitize.ts), checked against a corpus of secret shapes
 * (test/fixtures/secret-corpus.json: fake, well-formed tokens; `secret` is the part that must never be kept) and
 * against look-alike lines that must stay as they are.
 */
import { describe, expect, it } from 'vitest';
import { defaultRedactor, REDACTED, sanitizeText } from '../../src/core/sanitize.js';
import { CORPUS, leaked } from '../helpers/secret-corpus.js';

const INNOCENT = [
  'password policy updated',
  'the password policy requires rotation',
  'token count: 5',
  'tokens: 5',
  'max_tokens=512',
  'token_count: 12',
  'token expired, please log in again',
  'secretary: Jane',
  'rotate the secrets every 90 days',
  '--password-file /run/secrets/db',
  'PASSWORD_FILE=/run/secrets/db',
  'passwordless login enabled',
  'Password: ',
  'using credentials from the vault',
  'commit 3f2a1c9e8b7d6f5a4c3b2a1908f7e6d5c4b3a291 (HEAD -> main)',
  'request id 123e4567-e89b-12d3-a456-426614174000 done',
  'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'mysql -uroot -p shop',
  'mkdir -p build/out',
  'authorization failed: the server said no',
  'aws_access_key_id: from the environment',
  'access_key_id=from-vault',
  'secret manager ready',
  'tokenizer v2 loaded',
  'ghp_short xoxb-short sk-learn eyJ alone AKIA is the prefix',
  'git@github.com:org/repo.git and https://user@host/path',
  'global-configuration-settings loaded',
];

describe('the secret corpus', () => {
  it('has at least 40 shapes, each secret inside its text', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
    for (const e of CORPUS) expect(e.text, e.shape).toContain(e.secret);
  });

  it.each(CORPUS.map((e) => [e.shape, e] as const))('redacts: %s', (_shape, e) => {
    const out = defaultRedactor(e.text);
    expect(leaked(out, e.secret), out).toBeNull();
    expect(out).toContain(REDACTED);
    // and as the store writes it (colours stripped, controls neutralised)
    expect(leaked(sanitizeText(`\x1b[32m${e.text}\x1b[0m`), e.secret)).toBeNull();
  });

  it('redacts every shape when they all come in one text, as a chunk of output', () => {
    const all = CORPUS.map((e) => e.text).join('\n');
    const out = defaultRedactor(all);
    for (const e of CORPUS) expect(leaked(out, e.secret), e.shape).toBeNull();
  });

  it('keeps look-alike lines as they are', () => {
    for (const s of INNOCENT) expect(defaultRedactor(s)).toBe(s);
  });

  it('keeps the name and the quotes around a hidden value', () => {
    expect(defaultRedactor(`PASSWORD='a b c'`)).toBe(`PASSWORD='${REDACTED}'`);
    expect(defaultRedactor(`export GPG_PASSPHRASE="x y"`)).toBe(`export GPG_PASSPHRASE="${REDACTED}"`);
    expect(defaultRedactor('db_password: hunter22')).toBe(`db_password: ${REDACTED}`);
    expect(defaultRedactor(`{"apiToken": "abc def"}`)).toBe(`{"apiToken": "${REDACTED}"}`);
    expect(defaultRedactor('mysql -uroot -ps3cr3tpw shop')).toBe(`mysql -uroot -p${REDACTED} shop`);
    expect(defaultRedactor('--password x --verbose')).toBe(`--password ${REDACTED} --verbose`);
    expect(defaultRedactor('Set-Cookie: sid=abc; Path=/; HttpOnly')).toBe(`Set-Cookie: ${REDACTED}`);
    expect(defaultRedactor(`{ password => 'a b' }`)).toBe(`{ password => '${REDACTED}' }`);
  });
});
