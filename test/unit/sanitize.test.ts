import { describe, it, expect } from 'vitest';
import { defaultRedactor, escapeC1, makeRedactor, neutralize, REDACTED, sanitizeText, sanitizeValue } from '../../src/core/sanitize.js';

const ESC = '\x1b';
/** Any raw C0/C1 control other than newline and tab, or a bidi control. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

describe('neutralize', () => {
  it('spells out colour sequences', () => {
    expect(neutralize(`${ESC}[31mred${ESC}[0m`)).toBe('␛[31mred␛[0m');
  });

  it('spells out cursor movement and screen clearing', () => {
    expect(neutralize(`${ESC}[2J${ESC}[H${ESC}[3A${ESC}[10;20f`)).toBe('␛[2J␛[H␛[3A␛[10;20f');
  });

  it('spells out an OSC 52 clipboard write (BEL-terminated)', () => {
    const out = neutralize(`${ESC}]52;c;ZWNobyBoYWNrZWQ=\x07`);
    expect(out).toBe('␛]52;c;ZWNobyBoYWNrZWQ=␇');
    expect(out).not.toMatch(RAW_CONTROL);
  });

  it('spells out an OSC title set, BEL- or ST-terminated', () => {
    expect(neutralize(`${ESC}]0;pwned\x07`)).toBe('␛]0;pwned␇');
    expect(neutralize(`${ESC}]2;pwned${ESC}\\`)).toBe('␛]2;pwned␛\\');
  });

  it('spells out the 8-bit C1 CSI and other C1 controls', () => {
    expect(neutralize('\x9b31mx')).toBe('\\u{9b}31mx');
    expect(neutralize('\x9d0;t\x9c')).toBe('\\u{9d}0;t\\u{9c}');
    expect(neutralize('\x85')).toBe('\\u{85}');
  });

  it('spells out BEL, backspace, NUL and DEL', () => {
    expect(neutralize('ding\x07')).toBe('ding␇');
    expect(neutralize('secret\b\b\b\b\b\bpublic')).toBe('secret␈␈␈␈␈␈public');
    expect(neutralize('a\x00b\x7fc')).toBe('a␀b␡c');
  });

  it('turns a lone CR and CRLF into a newline, so nothing overwrites a line', () => {
    expect(neutralize('progress 10%\rprogress 100%')).toBe('progress 10%\nprogress 100%');
    expect(neutralize('line 1\r\nline 2\r\n')).toBe('line 1\nline 2\n');
    expect(neutralize('a\r\r\nb')).toBe('a\n\nb');
  });

  it('spells out bidi overrides and isolates (Trojan Source)', () => {
    expect(neutralize('abc\u202Efed')).toBe('abc\\u{202e}fed');
    expect(neutralize('x\u2066y\u2069z')).toBe('x\\u{2066}y\\u{2069}z');
    expect(neutralize('\u202A\u202B\u202C\u202D\u2067\u2068\u200E\u200F\u061C')).not.toMatch(RAW_CONTROL);
  });

  it('keeps newline and tab', () => {
    expect(neutralize('a\n\tb\n')).toBe('a\n\tb\n');
  });

  it('leaves plain text and ordinary unicode untouched', () => {
    for (const s of ['✔ café', 'naïve – “quoted” — 日本語 🚀', '', 'plain ascii: 100% done [ok]']) expect(neutralize(s)).toBe(s);
  });

  it('the stand-ins are themselves inert: neutralising twice changes nothing more', () => {
    const once = neutralize(`${ESC}[1m\x9b\u202e\x07\r`);
    expect(neutralize(once)).toBe(once);
  });
});

describe('redaction: patterns', () => {
  const r = defaultRedactor;

  it('hides a password in a URL, keeping user, host, port and path', () => {
    expect(r('postgres://app:s3cr3t@db:5432/x')).toBe(`postgres://app:${REDACTED}@db:5432/x`);
    expect(r('connecting to redis://:s3cr3t@cache:6379/0 ...')).toBe(`connecting to redis://:${REDACTED}@cache:6379/0 ...`);
    expect(r('https://deploy:tok3n@git.example.com/org/repo.git')).toBe(`https://deploy:${REDACTED}@git.example.com/org/repo.git`);
  });

  it('hides Authorization header credentials (scheme included)', () => {
    expect(r('Authorization: Bearer abc.def')).toBe(`Authorization: ${REDACTED}`);
    expect(r('Authorization: Basic dXNlcjpwYXNz')).toBe(`Authorization: ${REDACTED}`);
    expect(r('proxy-authorization: Basic dXNlcjpwYXNz')).toBe(`proxy-authorization: ${REDACTED}`);
    expect(r('authorization="Bearer abc"')).toBe(`authorization="${REDACTED}"`);
  });

  it('hides Authorization in a curl command line (-H)', () => {
    expect(r(`curl -H 'Authorization: token xyz' https://api.example.com`)).toBe(
      `curl -H 'Authorization: ${REDACTED}' https://api.example.com`,
    );
    expect(r(`curl -H "Authorization: Bearer abc.def" https://x`)).toBe(`curl -H "Authorization: ${REDACTED}" https://x`);
  });

  it('hides Authorization as a quoted key in JSON or a dict dump', () => {
    expect(r('{"Authorization": "Bearer abc.def"}')).toBe(`{"Authorization": "${REDACTED}"}`);
    expect(r(`{'authorization': 'Basic dXNlcjpwYXNz'}`)).toBe(`{'authorization': '${REDACTED}'}`);
  });

  it('hides the password of curl -u / --user, keeping the user', () => {
    expect(r('curl -u admin:pw123 https://x')).toBe(`curl -u admin:${REDACTED} https://x`);
    expect(r('curl -uadmin:pw123 https://x')).toBe(`curl -uadmin:${REDACTED} https://x`);
    expect(r('curl --user=admin:pw123 https://x')).toBe(`curl --user=admin:${REDACTED} https://x`);
    expect(r(`curl -s -u 'admin:pw123' https://x`)).toBe(`curl -s -u 'admin:${REDACTED}' https://x`);
    // not a credential: no password after the user, a user-agent, another tool's -u uid:gid
    expect(r('curl -u admin https://h:8443/')).toBe('curl -u admin https://h:8443/');
    expect(r('curl --user-agent=Mozilla:5.0 https://x')).toBe('curl --user-agent=Mozilla:5.0 https://x');
    expect(r('docker run -u 1000:1000 image')).toBe('docker run -u 1000:1000 image');
  });

  it('hides API key headers', () => {
    expect(r('X-API-Key: abcdef123')).toBe(`X-API-Key: ${REDACTED}`);
    expect(r('PRIVATE-TOKEN: glx-123456')).toBe(`PRIVATE-TOKEN: ${REDACTED}`);
  });

  it('hides GitHub tokens', () => {
    expect(r(`token ghp_${'A1b2'.repeat(9)} used`)).toBe(`token ${REDACTED} used`);
    expect(r(`github_pat_${'x'.repeat(22)}_${'Y'.repeat(59)}`)).toBe(REDACTED);
    expect(r(`gho_${'a'.repeat(36)}`)).toBe(REDACTED);
  });

  it('hides AWS access key ids', () => {
    expect(r('aws_access_key_id AKIAIOSFODNN7EXAMPLE region eu-west-1')).toBe(`aws_access_key_id ${REDACTED} region eu-west-1`);
    expect(r('ASIAY34FZKBOKMUTVV7A')).toBe(REDACTED);
  });

  it('hides Slack, GitLab, npm and sk- tokens', () => {
    expect(r('posting with xoxb-123456789012-abcdefghijkl')).toBe(`posting with ${REDACTED}`);
    expect(r(`glpat-${'a'.repeat(20)}`)).toBe(REDACTED);
    expect(r(`npm_${'a'.repeat(36)}`)).toBe(REDACTED);
    expect(r(`sk-${'a'.repeat(40)}`)).toBe(REDACTED);
  });

  it('hides JWTs', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    expect(r(`got ${jwt} back`)).toBe(`got ${REDACTED} back`);
  });

  it('hides a PEM private key block, keeping the text around it', () => {
    const pem = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA7', 'q3k1x2Zz', '-----END RSA PRIVATE KEY-----'].join('\n');
    const out = r(`before\n${pem}\nafter`);
    expect(out).toBe(`before\n-----BEGIN PRIVATE KEY----- ${REDACTED}\nafter`);
    expect(out).not.toMatch(/MIIE|q3k1/);
  });

  it('hides a truncated PEM private key (no END line) to the end of the text', () => {
    expect(r('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n...')).toBe(`-----BEGIN PRIVATE KEY----- ${REDACTED}`);
  });

  it('hides KEY=value and "key": "value" where the key names a secret', () => {
    expect(r('DB_PASSWORD=hunter22')).toBe(`DB_PASSWORD=${REDACTED}`);
    expect(r('export PGPASSWORD="hunter22"')).toBe(`export PGPASSWORD="${REDACTED}"`);
    expect(r('{"api_key": "abcd1234"}')).toBe(`{"api_key": "${REDACTED}"}`);
    expect(r('{"password":"hunter22","user":"app"}')).toBe(`{"password":"${REDACTED}","user":"app"}`);
    expect(r('AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG')).toBe(`AWS_SECRET_ACCESS_KEY=${REDACTED}`);
    expect(r('client_secret: abc123 next')).toBe(`client_secret: ${REDACTED} next`);
    expect(r('mysql --password=hunter22 db')).toBe(`mysql --password=${REDACTED} db`);
  });

  it('is idempotent: redacting redacted text changes nothing', () => {
    for (const s of [
      'postgres://app:s3cr3t@db:5432/x',
      'Authorization: Bearer abc.def',
      'DB_PASSWORD=hunter22',
      '{"api_key": "abcd1234"}',
      'curl -u admin:pw https://x',
      '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
    ]) {
      const once = r(s);
      expect(r(once)).toBe(once);
    }
  });
});

describe('redaction: what must stay readable', () => {
  const r = defaultRedactor;

  it('keeps ordinary prose that mentions passwords and tokens', () => {
    for (const s of [
      'the password policy requires rotation',
      'password reset link sent',
      'token expired, please log in again',
      'rotate the secrets every 90 days',
      'Password: ', // a prompt with nothing after it
      'using credentials from the vault',
    ]) {
      expect(r(s)).toBe(s);
    }
  });

  it('keeps URLs and remotes without a password', () => {
    for (const s of [
      'https://user@host/path',
      'git@github.com:org/repo.git',
      'ssh://git@host:22/repo',
      'https://host/a:b@c',
      'http://localhost:8080/health',
    ]) {
      expect(r(s)).toBe(s);
    }
  });

  it('keeps words that merely start like a token prefix', () => {
    for (const s of ['ghp_short', 'AKIA is the prefix', 'sk-learn', 'eyJ alone', 'xoxb-short']) expect(r(s)).toBe(s);
  });

  // The KEY=value rule only fires when the key ENDS with the secret word, so ordinary counters and words keep
  // their values.
  describe('no over-redaction of keys that merely contain a secret word', () => {
    it('"tokens: 5" keeps the count', () => {
      expect(r('tokens: 5')).toBe('tokens: 5');
    });
    it('"max_tokens=512" keeps the number', () => {
      expect(r('max_tokens=512')).toBe('max_tokens=512');
    });
    it('"token_count: 12" keeps the number', () => {
      expect(r('token_count: 12')).toBe('token_count: 12');
    });
    it('"secretary: Jane" keeps the name', () => {
      expect(r('secretary: Jane')).toBe('secretary: Jane');
    });
    it('"PWD=/home/app" (the working directory) keeps the path', () => {
      expect(r('PWD=/home/app')).toBe('PWD=/home/app');
    });
  });
});

describe('redaction: literal secret values', () => {
  it('hides each given value wherever it appears, also inside words', () => {
    const r = makeRedactor(['hunter22', 's3cr3t!']);
    expect(r('pw hunter22 and s3cr3t! and xhunter22y')).toBe(`pw ${REDACTED} and ${REDACTED} and x${REDACTED}y`);
  });

  it('treats the values literally, not as regular expressions', () => {
    const r = makeRedactor(['a.b*c(d']);
    expect(r('x a.b*c(d y aXbbbc(d')).toBe(`x ${REDACTED} y aXbbbc(d`);
  });

  it('prefers the longer of overlapping values', () => {
    const r = makeRedactor(['abcd', 'abcdef']);
    expect(r('abcdef abcd')).toBe(`${REDACTED} ${REDACTED}`);
    expect(r('abcdefgh')).toBe(`${REDACTED}gh`);
  });

  it('ignores values shorter than 4 characters (and non-strings)', () => {
    const r = makeRedactor(['abc', '1', '', 'abcd', 42 as unknown as string]);
    expect(r('abc 1 42 abcd')).toBe(`abc 1 42 ${REDACTED}`);
  });

  it('with no values, only the patterns apply', () => {
    expect(makeRedactor()('hunter22 DB_PASSWORD=x1')).toBe(`hunter22 DB_PASSWORD=${REDACTED}`);
  });
});

describe('sanitizeText: strip colours, redact, then neutralise', () => {
  const r = makeRedactor(['hunter22']);

  it('redacts and neutralises in one pass; colour codes are dropped, other controls made visible', () => {
    expect(sanitizeText(`${ESC}[31mDB_PASSWORD=hunter22${ESC}[0m and hunter22`, r)).toBe(`DB_PASSWORD=${REDACTED} and ${REDACTED}`);
    expect(sanitizeText(`${ESC}[31mDB_PASSWORD=hunter22${ESC}[0m and more`)).toBe(`DB_PASSWORD=${REDACTED} and more`);
    expect(sanitizeText(`${ESC}[2J${ESC}]0;title\x07 x`)).toBe('␛[2J␛]0;title␇ x');
  });

  it('uses the default redactor when none is given', () => {
    expect(sanitizeText('token ghp_' + 'a'.repeat(36) + '\x07')).toBe(`token ${REDACTED}␇`);
  });

  it('a secret containing a control character is still redacted (redaction sees the raw text)', () => {
    const withBel = makeRedactor(['pa\x07ss']);
    expect(sanitizeText('x pa\x07ss y', withBel)).toBe(`x ${REDACTED} y`);
  });

  it('a secret split by colour codes (grep --color) is whole again before redaction', () => {
    expect(sanitizeText(`hun${ESC}[0mter22`, r)).toBe(REDACTED);
    expect(sanitizeText(`match: hun${ESC}[01;31mter${ESC}[m22`, r)).toBe(`match: ${REDACTED}`);
    expect(sanitizeText(`match: hun\u009b1mter22`, r)).toBe(`match: ${REDACTED}`);
  });

  it('a secret split by another control sequence: no raw ESC reaches the output, the sequence stays visible', () => {
    const out = sanitizeText(`hun${ESC}[2Kter22`, r);
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out).toBe('hun␛[2Kter22');
  });
});

describe('sanitizeValue', () => {
  const r = makeRedactor(['hunter22']);

  it('recurses into nested objects and arrays, leaving non-strings alone', () => {
    const input = {
      stdout: `${ESC}[32mok${ESC}[0m`,
      params: { password: 'hunter22', retries: 3, dry: false, nothing: null },
      lines: ['plain', ['deeper hunter22', { url: 'postgres://app:s3cr3t@db/x' }]],
    };
    expect(sanitizeValue(input, r)).toEqual({
      stdout: 'ok',
      params: { password: REDACTED, retries: 3, dry: false, nothing: null },
      lines: ['plain', [`deeper ${REDACTED}`, { url: `postgres://app:${REDACTED}@db/x` }]],
    });
  });

  it('neutralises keys too', () => {
    const out = sanitizeValue({ [`k${ESC}[1m`]: { [`\u202Eevil`]: 'v' } }, r);
    expect(Object.keys(out)).toEqual(['k␛[1m']);
    expect(Object.keys(out['k␛[1m' as keyof typeof out] as object)).toEqual(['\\u{202e}evil']);
  });

  it('keys are neutralised but not redacted (questionable, reported)', () => {
    // A secret used as a key survives: only values go through the redactor.
    expect(Object.keys(sanitizeValue({ hunter22: 1 }, r))).toEqual(['hunter22']);
  });

  it('returns a new value and does not modify the input', () => {
    const input = { a: ['hunter22'] };
    const out = sanitizeValue(input, r);
    expect(input).toEqual({ a: ['hunter22'] });
    expect(out).not.toBe(input);
  });

  it('passes numbers, booleans, null and undefined through', () => {
    expect(sanitizeValue(5)).toBe(5);
    expect(sanitizeValue(true)).toBe(true);
    expect(sanitizeValue(null)).toBe(null);
    expect(sanitizeValue(undefined)).toBe(undefined);
  });
});

describe('escapeC1', () => {
  it('escapes the C1 controls JSON leaves raw, and the JSON still parses to the same value', () => {
    const value = { text: 'csi \u009b31m red, nel \u0085 end, é and ü stay' };
    const json = escapeC1(JSON.stringify(value));
    expect(json).not.toMatch(/[\u0080-\u009f]/);
    expect(json).toContain('\\u009b31m');
    expect(json).toContain('é and ü stay');
    expect(JSON.parse(json)).toEqual(value);
  });
});
