/**
 * Go's encoding/json Marshal, the pieces needed to write Helm's config and
 * manifest blobs byte for byte: compact output, strings HTML-escaped, map
 * keys sorted by their UTF-8 bytes. Structs are written by the caller as
 * ordered fields (goObject), since their order is the Go struct's, not a sort.
 */

export type GoJsonValue = string | number | boolean | null | GoJsonValue[] | { [key: string]: GoJsonValue };

// Everything Go writes unchanged is the printable ASCII minus " \ < > &.
const NEEDS_ESCAPE = /[\x00-\x1f"\\<>&\u2028\u2029\ud800-\udfff]/;
const SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A JSON string as Go writes it (Go ≥ 1.22: \b and \f short; invalid UTF-16 → \ufffd as Go does invalid UTF-8). */
export function goString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (SHORT[ch] !== undefined) out += SHORT[ch];
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      out += ch + s[i + 1];
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** A float64 as Go writes it: like JS, except that -0 keeps its sign. */
export function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`json: unsupported value: ${n}`);
  return Object.is(n, -0) ? '-0' : String(n);
}

/** interface{} values after a JSON round trip: objects are maps, so keys are sorted. */
export function goValue(v: GoJsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(goValue).join(',')}]`;
  return goMap(Object.entries(v).map(([k, x]) => [k, goValue(x)]));
}

/** A Go map from already-encoded values: keys sorted by UTF-8 bytes, as encoding/json does. */
export function goMap(entries: Iterable<readonly [string, string]>): string {
  const sorted = [...entries].sort((a, b) => compareUtf8(a[0], b[0]));
  return goObject(sorted);
}

/** A struct: fields in the order given (the caller has dropped omitempty ones). */
export function goObject(fields: Iterable<readonly [string, string]>): string {
  const parts: string[] = [];
  for (const [k, v] of fields) parts.push(`${goString(k)}:${v}`);
  return `{${parts.join(',')}}`;
}

/** map[string]string, as a plain record. */
export function goStringMap(record: Record<string, string>): string {
  return goMap(Object.entries(record).map(([k, v]) => [k, goString(v)]));
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
