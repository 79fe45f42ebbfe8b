import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One secret shape of test/fixtures/secret-corpus.json (fake, well-formed): `secret` is what must never be kept. */
export interface CorpusEntry {
  shape: string;
  text: string;
  secret: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const CORPUS: CorpusEntry[] = JSON.parse(readFileSync(path.join(here, '..', 'fixtures', 'secret-corpus.json'), 'utf8'));

/** The secret, or any long enough word of it (a quoted value with spaces), still in `out`; null when none is. */
export function leaked(out: string, secret: string): string | null {
  if (out.includes(secret)) return secret;
  return secret.split(/\s+/).find((w) => w.length >= 6 && out.includes(w)) ?? null;
}
