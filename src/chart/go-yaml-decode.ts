/**
 * Reads YAML into the values Helm sees: go-yaml v2 semantics (YAML 1.1
 * scalars, `<<` merges applied in document order, duplicate keys: last wins)
 * followed by sigs.k8s.io/yaml's conversion of map keys to strings. The
 * `yaml` package parses (its failsafe schema keeps every scalar as source
 * text plus its style); the scalar typing is ours, from go-resolve.ts.
 */
import { type Document, type Node, isAlias, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml';
import { GoFloat, GoInt, formatGoFloat, resolvePlain, yamlFloatName } from './go-resolve.js';

export type GoValue = string | boolean | null | GoInt | GoFloat | GoValue[] | GoMap;
/** A YAML mapping with keys already converted to strings (insertion order kept). */
export type GoMap = Map<string, GoValue>;

export class GoYamlError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/**
 * Upper bound on nodes visited, aliases expanded included: a "billion laughs"
 * document stops here instead of exhausting memory (go-yaml has a similar
 * alias budget).
 */
const MAX_NODES = 100_000;

/** Parses the first YAML document of `text` (go-yaml ignores the rest). */
export function decodeGoYaml(text: string): GoValue {
  return decodeDocs(text, 1)[0] ?? null;
}

/** Parses every document of a multi-document stream (Helm 4 reads values.yaml this way). */
export function decodeGoYamlAll(text: string): GoValue[] {
  return decodeDocs(text, Infinity);
}

function decodeDocs(text: string, max: number): GoValue[] {
  const docs = parseAllDocuments(text, {
    version: '1.1',
    schema: 'failsafe',
    uniqueKeys: false,
    merge: false,
    strict: false,
    prettyErrors: true,
  });
  if (docs.length === 0) {
    // An empty stream, or one the parser could not split into documents.
    const empty = docs as unknown as { errors?: { message: string }[] };
    if (empty.errors?.length) throw new GoYamlError(firstLine(empty.errors[0]!.message));
    return [];
  }
  // The budget grows with the text so big plain files pass and only alias
  // expansion can exhaust it.
  const state = { doc: docs[0]!, text, budget: MAX_NODES + text.length };
  const out: GoValue[] = [];
  for (const doc of docs.slice(0, max)) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      throw new GoYamlError(firstLine(err.message), err.linePos?.[0]?.line);
    }
    state.doc = doc;
    out.push(convert(doc.contents, state));
  }
  return out;
}

interface State {
  doc: Document.Parsed;
  text: string;
  budget: number;
}

function convert(node: Node | null | undefined, state: State): GoValue {
  if (--state.budget < 0) throw new GoYamlError('document too large or too many alias expansions');
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(state.doc);
    if (!target) throw new GoYamlError(`unknown anchor '${node.source}' referenced`);
    return convert(target as Node, state);
  }
  if (isScalar(node)) return scalar(node.value as string, node.type, node.tag, node.range?.[0], state);
  if (isSeq(node)) return node.items.map((item) => convert(item as Node, state));
  if (isMap(node)) {
    const out: GoMap = new Map();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (isMergeKey(keyNode)) {
        mergeInto(out, pair.value as Node, state);
        continue;
      }
      const key = convert(keyNode, state);
      const value = convert(pair.value as Node | null, state);
      out.delete(mapKey(key));
      out.set(mapKey(key), value);
    }
    return out;
  }
  throw new GoYamlError('unsupported YAML node');
}

function scalar(value: string, type: string | undefined, tag: string | undefined, offset: number | undefined, state: State): GoValue {
  const plain = type === 'PLAIN';
  const short = tag?.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice(18)}` : tag;
  if (short === undefined || short === '!') {
    // A quoted or block scalar without a tag is always a string.
    if (!plain || short === '!') return value;
    const r = resolvePlain(value);
    return r.tag === 'int' || r.tag === 'float' || r.tag === 'bool' || r.tag === 'null' ? r.value : value;
  }
  switch (short) {
    case '!!str':
    case '!!timestamp':
      return value;
    case '!!binary':
      return Buffer.from(value.replace(/\s+/g, ''), 'base64').toString('utf8');
    case '!!int':
    case '!!float':
    case '!!bool':
    case '!!null': {
      const r = resolvePlain(value);
      const want = short.slice(2);
      if (r.tag === want) return r.value as GoValue;
      if (want === 'float' && r.tag === 'int') return new GoFloat(Number((r.value as GoInt).value));
      const line = offset === undefined ? undefined : state.text.slice(0, offset).split('\n').length;
      throw new GoYamlError(`cannot decode !!${r.tag} \`${value}\` as a ${short}`, line);
    }
    default:
      // go-yaml keeps scalars with tags it does not know as plain strings.
      return value;
  }
}

function isMergeKey(node: Node | null): boolean {
  return (
    isScalar(node) && node.type === 'PLAIN' && node.value === '<<' && (node.tag === undefined || node.tag === 'tag:yaml.org,2002:merge')
  );
}

/** go-yaml v2 merges a map, or a list of maps applied last-to-first. */
function mergeInto(out: GoMap, node: Node, state: State): void {
  const resolved = isAlias(node) ? (node.resolve(state.doc) as Node | undefined) : node;
  if (isSeq(resolved)) {
    for (const item of [...resolved.items].reverse()) {
      const target = isAlias(item) ? (item.resolve(state.doc) as Node | undefined) : (item as Node);
      if (!isMap(target)) throw new GoYamlError('map merge requires map or sequence of maps as the value');
      mergeMap(out, convert(target, state));
    }
    return;
  }
  if (!isMap(resolved)) throw new GoYamlError('map merge requires map or sequence of maps as the value');
  mergeMap(out, convert(resolved, state));
}

function mergeMap(out: GoMap, value: GoValue): void {
  if (!(value instanceof Map)) return;
  for (const [k, v] of value) {
    out.delete(k);
    out.set(k, v);
  }
}

/** sigs.k8s.io/yaml turns every map key into a string this way. */
function mapKey(key: GoValue): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'boolean') return key ? 'true' : 'false';
  if (key instanceof GoInt) return key.value.toString();
  if (key instanceof GoFloat) return yamlFloatName(formatGoFloat(key.value, 32));
  throw new GoYamlError(`unsupported map key: ${key === null ? 'null' : Array.isArray(key) ? 'a list' : 'a map'}`);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/:$/, '');
}
