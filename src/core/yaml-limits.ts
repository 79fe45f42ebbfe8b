/**
 * Limits on what a YAML file may make the cockpit do. An alias bomb ("billion laughs": nested anchors, each alias
 * repeating the one before) expands to gigabytes from a few hundred bytes; the `yaml` library stops it when a
 * document's aliases would resolve to more nodes than `maxAliasCount` allows, by throwing. This turns that throw into
 * an answer, so a hostile or mistaken file is bad input and never an internal error.
 */
import type { Document } from 'yaml';

/**
 * The largest YAML file the cockpit reads (a checklist, cockpit.config.yaml, a backfill definition), in characters.
 * The largest default checklist is a few kilobytes; parsing takes about a second per megabyte, so a file past this
 * is refused at once rather than answered slowly.
 */
export const MAX_YAML_CHARS = 1024 * 1024;

/** Why `text` is too large to read, or null. */
export function yamlSizeProblem(text: string): string | null {
  if (text.length <= MAX_YAML_CHARS) return null;
  return `is ${(text.length / 1024 / 1024).toFixed(1)} MB: more than the 1 MB a YAML file read by the cockpit may be`;
}

/** How many alias resolutions one document may make (the `yaml` library's own default, said here once). */
export const MAX_YAML_ALIASES = 100;

/** The document as plain data, or why it was refused: a sentence that the caller prefixes with the file. */
export function yamlToData(doc: Document): { ok: true; data: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, data: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown };
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      return {
        ok: false,
        message: `too many YAML aliases (more than ${MAX_YAML_ALIASES} expansions of anchors): refused as a possible alias bomb; write the values out instead`,
      };
    }
    if (e instanceof ReferenceError) return { ok: false, message: `invalid YAML: ${e.message.split('\n')[0]}` };
    throw e;
  }
}
