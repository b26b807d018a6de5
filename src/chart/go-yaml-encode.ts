/**
 * YAML output byte-for-byte as sigs.k8s.io/yaml's Marshal writes it: Go's
 * encoding/json turns the value into JSON, go-yaml v2 reads that JSON back
 * into plain maps, and go-yaml v2's encoder writes them (go-yaml-emitter.ts).
 * Helm writes Chart.yaml, Chart.lock and the .prov metadata block this way,
 * so an archive Helm loads identically, or a .prov Helm verifies, needs the
 * same bytes: keys in go-yaml's "natural" order (go-yaml-keys.ts), strings
 * quoted only when YAML 1.1 would read them as something else
 * (go-resolve.ts), numbers as the JSON round trip leaves them.
 */
import { formatGoFloat, isBase60Float, resolvePlain, yamlFloatName } from './go-resolve.js';
import { type EmitNode, type ScalarNode, emitGoYaml } from './go-yaml-emitter.js';
import { goKeyCompare } from './go-yaml-keys.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A value Helm's own marshalling fails on (e.g. "yaml: control characters are not allowed"). */
export class GoYamlMarshalError extends Error {
  constructor(
    message: string,
    readonly value: string,
  ) {
    super(message);
  }
}

/**
 * Marshals a JSON-like value the way Go's sigs.k8s.io/yaml.Marshal does: one
 * document, ending in "\n". Throws GoYamlMarshalError where Go's would fail.
 */
export function marshalGoYaml(value: JsonValue): string {
  return emitGoYaml(toNode(value));
}

function toNode(v: JsonValue): EmitNode {
  if (v === null) return { kind: 'scalar', value: 'null', style: 'plain' };
  if (typeof v === 'string') return stringNode(throughJson(v, false));
  if (typeof v === 'boolean') return { kind: 'scalar', value: v ? 'true' : 'false', style: 'plain' };
  if (typeof v === 'number') return { kind: 'scalar', value: formatJsonNumber(v), style: 'plain' };
  if (Array.isArray(v)) return { kind: 'seq', items: v.map(toNode) };
  // Keys go through JSON too; go-yaml sorts what it read back.
  const entries = new Map<string, JsonValue>();
  for (const [k, val] of Object.entries(v)) entries.set(throughJson(k, true), val);
  const keys = [...entries.keys()].sort(goKeyCompare);
  return { kind: 'map', entries: keys.map((k) => [stringNode(k), toNode(entries.get(k)!)]) };
}

/** go-yaml's encoder.stringv: literal if multi-line, plain if it reads back as this string, else double quotes. */
function stringNode(s: string): ScalarNode {
  const canUsePlain = resolvePlain(s).tag === 'str' && !isBase60Float(s);
  return { kind: 'scalar', value: s, style: s.includes('\n') ? 'literal' : canUsePlain ? 'plain' : 'double' };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Characters encoding/json leaves raw and go-yaml's reader then refuses
// ("yaml: control characters are not allowed"): Helm cannot write them.
const YAML_READER_REJECTS = /[\u007f-\u0084\u0086-\u009f\ufffe\uffff]/;
// A raw NEL in the JSON text is a line break to go-yaml's scanner, folded like
// one inside the double-quoted JSON string: one NEL and the spaces around it
// become a space, n NELs in a row become n-1 newlines. Tabs are not blanks
// here: JSON writes them as the escape "\t", which the folding leaves alone.
const RAW_NEL_RUN = / *(?:\u0085 *)+/g;

/**
 * A string as it comes out of json.Marshal → go-yaml Unmarshal, the trip
 * sigs.k8s.io/yaml makes every string take. JSON escapes C0 controls, "\n",
 * U+2028 and U+2029, but writes DEL, the C1 controls and U+FFFE/FFFF raw,
 * which go-yaml's reader refuses; a lone surrogate (invalid UTF-8 to Go)
 * becomes U+FFFD. In a key a NEL makes a multi-line implicit key in a flow
 * mapping, which go-yaml refuses ("did not find expected ',' or '}'").
 */
function throughJson(s: string, isKey: boolean): string {
  const value = s.replace(LONE_SURROGATE, '\ufffd');
  const bad = YAML_READER_REJECTS.exec(value);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new GoYamlMarshalError(`holds the control character U+${cp}, which Helm cannot write to YAML`, s);
  }
  if (!value.includes('\u0085')) return value;
  if (isKey) throw new GoYamlMarshalError('holds a NEL (U+0085) line break in a key, which Helm cannot write to YAML', s);
  return value.replace(RAW_NEL_RUN, (run) => {
    const breaks = run.split('\u0085').length - 1;
    return breaks === 1 ? ' ' : '\n'.repeat(breaks - 1);
  });
}

const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * A float64 through json.Marshal and go-yaml. Below 1e21 JSON writes the
 * shortest digits that round-trip, without exponent, so 2^60 is
 * "1152921504606847000" (as JavaScript's String() writes it too); integral
 * text in the int64/uint64 range reads back as an int and is written as is.
 * Everything else reads back as a float: FormatFloat(f, 'g', -1, 64).
 */
function formatJsonNumber(n: number): string {
  if (!Number.isFinite(n)) throw new GoYamlMarshalError('is not a number JSON can hold', String(n));
  if (Number.isInteger(n) && Math.abs(n) < 1e21) {
    const text = String(n); // "-0" is written "0" here; go-yaml reads Go's "-0" as the int 0 too
    const big = BigInt(text);
    if (big >= INT64_MIN && big <= UINT64_MAX) return text;
  }
  return yamlFloatName(formatGoFloat(n, 64));
}
