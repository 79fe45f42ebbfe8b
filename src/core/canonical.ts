/**
 * Canonical JSON (RFC 8785 / JCS for the values the audit log holds: strings, finite numbers, booleans,
 * null, arrays, plain objects). Keys are sorted by UTF-16 code units, which is what Array#sort does.
 *
 * Written here rather than taken from the `canonicalize` package because its current release needs
 * Node 22 and this is the audit log's hot path (every append hashes one event).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i) out += ',';
          out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
        }
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        if (i) out += ',';
        out += JSON.stringify(keys[i]) + ':' + canonicalJson(obj[keys[i]]);
      }
      return out + '}';
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
  }
}
