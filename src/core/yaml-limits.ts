/**
 * Limits on what a YAML file may make the cockpit do. An alias bomb ("billion laughs": nested anchors, each alias
 * repeating the one before) expands to gigabytes from a few hundred bytes; the `yaml` library stops it when a
 * document's aliases would resolve to more nodes than `maxAliasCount` allows, by throwing. This turns that throw into
 * an answer, so a hostile or mistaken file is bad input and never an internal error.
 */
import type { Document } from 'yaml';

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
