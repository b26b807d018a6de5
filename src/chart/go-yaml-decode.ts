/**
 * Reads YAML into the values Helm sees: go-yaml v2 semantics (YAML 1.1
 * scalars, `<<` merges applied in document order, duplicate keys: last wins)
 * followed by sigs.k8s.io/yaml's conversion of map keys to strings. The
 * `yaml` package parses (its failsafe schema keeps every scalar as source
 * text plus its style); the scalar typing is ours, from go-resolve.ts.
 */
import { type Alias, type Document, type Node, isAlias, isMap, isScalar, isSeq, parseAllDocuments, visit } from 'yaml';
import { GoFloat, GoInt, formatGoFloat, resolvePlain, yamlFloatName } from './go-resolve.js';
import { MAX_METADATA_YAML_TOKENS, MAX_YAML_DEPTH, MAX_YAML_TOKENS, yamlShapeProblem } from './yaml-shape.js';

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
 * alias budget, applied below too).
 */
const MAX_NODES = 100_000;
/**
 * Upper bound on the text aliases add: few nodes can stand for gigabytes when
 * each alias names a long string (20,000 aliases of a 64 KiB string is 1.3 GB
 * from 70 KB of YAML). go-yaml's alias ratio lets that through, and Helm then
 * runs out of memory writing it back; we refuse it.
 */
const MAX_ALIAS_BYTES = 1024 * 1024;
/**
 * Nesting limit (go-yaml v3 has 10,000). yaml-shape.ts refuses deeper text
 * before it is parsed; only aliases nested through aliases reach this one,
 * which keeps the recursive conversion off the end of the stack.
 */
const MAX_DEPTH = MAX_YAML_DEPTH;

/** Parses the first YAML document of `text` (go-yaml ignores the rest): Chart.yaml, Chart.lock, requirements.yaml. */
export function decodeGoYaml(text: string): GoValue {
  return decodeDocs(text, 1, MAX_METADATA_YAML_TOKENS)[0] ?? null;
}

/** Parses every document of a multi-document stream (Helm 4 reads values.yaml this way). */
export function decodeGoYamlAll(text: string): GoValue[] {
  return decodeDocs(text, Infinity, MAX_YAML_TOKENS);
}

function decodeDocs(text: string, max: number, tokens: number): GoValue[] {
  const problem = yamlShapeProblem(text, { tokens });
  if (problem !== undefined) throw new GoYamlError(problem);
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
  const state: State = {
    text,
    targets: new Map(),
    budget: MAX_NODES + text.length,
    aliasBytes: MAX_ALIAS_BYTES + text.length,
    decodes: 0,
    aliased: 0,
    aliasDepth: 0,
    depth: 0,
    expanding: new Set(),
  };
  const out: GoValue[] = [];
  for (const doc of docs.slice(0, max)) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      throw new GoYamlError(firstLine(err.message), err.linePos?.[0]?.line);
    }
    state.targets = aliasTargets(doc);
    try {
      out.push(convert(doc.contents, state));
    } catch (err) {
      // The depth limit keeps conversion well inside the stack; this is the backstop.
      if (err instanceof RangeError) throw new GoYamlError('document nested too deeply');
      throw err;
    }
  }
  return out;
}

interface State {
  text: string;
  /** What each alias of the current document refers to. */
  targets: Map<Alias, Node | undefined>;
  budget: number;
  /** Characters of scalars that aliases may still add. */
  aliasBytes: number;
  /** go-yaml's decodeCount and aliasCount. */
  decodes: number;
  aliased: number;
  aliasDepth: number;
  depth: number;
  /** Anchored nodes being expanded now: an alias to one of them is a loop. */
  expanding: Set<Node>;
}

/**
 * Each alias's anchor, found in one pass in document order: an alias refers
 * to the last node with that anchor before it (a collection holding the
 * alias counts, which makes a loop). The yaml package's Alias.resolve walks
 * the document again for every alias, which makes 25,000 aliases take minutes.
 */
function aliasTargets(doc: Document.Parsed): Map<Alias, Node | undefined> {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node | undefined>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return targets;
}

/**
 * go-yaml v2's excessive-aliasing rule (decode.go allowedAliasRatio): past
 * 1,000 nodes, at most 99 % of them may come from alias expansion, down to
 * 10 % for documents of 4 million nodes and more. Helm refuses the same
 * documents with "document contains excessive aliasing".
 */
function allowedAliasRatio(decodes: number): number {
  if (decodes <= 400_000) return 0.99;
  if (decodes >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decodes - 400_000) / 3_600_000);
}

function convert(node: Node | null | undefined, state: State): GoValue {
  if (--state.budget < 0) throw new GoYamlError('document too large or too many alias expansions');
  state.decodes++;
  if (state.aliasDepth > 0) state.aliased++;
  if (state.aliased > 100 && state.decodes > 1000 && state.aliased / state.decodes > allowedAliasRatio(state.decodes)) {
    throw new GoYamlError('document contains excessive aliasing');
  }
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return expand(node, state, (target) => convert(target, state));
  if (isScalar(node)) {
    const value = node.value as string;
    if (state.aliasDepth > 0 && (state.aliasBytes -= value.length) < 0) {
      throw new GoYamlError(`aliases expand to more than ${MAX_ALIAS_BYTES} bytes of text`);
    }
    return scalar(value, node.type, node.tag, node.range?.[0], state);
  }
  if (++state.depth > MAX_DEPTH) throw new GoYamlError(`document nested more than ${MAX_DEPTH} levels deep`);
  try {
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
  } finally {
    state.depth--;
  }
  throw new GoYamlError('unsupported YAML node');
}

/** Runs `fn` on what an alias refers to, counted as alias expansion. */
function expand<T>(alias: Alias, state: State, fn: (target: Node) => T): T {
  const target = state.targets.get(alias);
  if (!target) throw new GoYamlError(`unknown anchor '${alias.source}' referenced`);
  if (state.expanding.has(target)) throw new GoYamlError(`anchor '${alias.source}' value contains itself`);
  state.expanding.add(target);
  state.aliasDepth++;
  try {
    return fn(target);
  } finally {
    state.aliasDepth--;
    state.expanding.delete(target);
  }
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
  if (isAlias(node)) return expand(node, state, (target) => mergeInto(out, target, state));
  if (isSeq(node)) {
    for (const item of [...node.items].reverse()) {
      const one = (target: Node | undefined) => {
        if (!isMap(target)) throw new GoYamlError('map merge requires map or sequence of maps as the value');
        mergeMap(out, convert(target, state));
      };
      if (isAlias(item)) expand(item, state, one);
      else one(item as Node);
    }
    return;
  }
  if (!isMap(node)) throw new GoYamlError('map merge requires map or sequence of maps as the value');
  mergeMap(out, convert(node, state));
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
