/**
 * YAML built to cost its reader: alias bombs in several shapes, for
 * Chart.yaml, values.yaml and the metadata a .prov signs.
 */
import { CHART_YAML } from './tar-writer.js';

/**
 * A YAML "billion laughs": ten anchors, each a list of ten aliases to the
 * one before, so `keywords: *a9` stands for 10^9 strings in 600 bytes.
 */
export function billionLaughs(): string {
  return `${CHART_YAML}${laughs()}`;
}

/** The anchors and the `keywords: *a9` line of billionLaughs, to put into any mapping. */
export function laughs(): string {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  lines.push('keywords: *a9');
  return `${lines.join('\n')}\n`;
}

/**
 * Few nodes, many bytes: one 64 KiB string and a flow list of 20,000 aliases
 * to it — 70 KB of YAML standing for 1.3 GB of keywords. go-yaml's alias
 * ratio lets this through (half the nodes are aliases); a node budget alone
 * does too.
 */
export function aliasedStringsBomb(stringBytes = 64 * 1024, aliases = 20_000): string {
  return `apiVersion: v2\nname: evil\nversion: 1.0.0\ndescription: &d ${'x'.repeat(stringBytes)}\nkeywords: [${Array(aliases).fill('*d').join(',')}]\n`;
}

/**
 * Many distinct anchors each aliased once: cheap for a reader that indexes
 * anchors, quadratic for one that searches the document for each alias
 * (yaml's Alias.resolve does), so 600 KB takes minutes there.
 */
export function manyAnchors(pairs = 25_000, indent = ''): string {
  return Array.from({ length: pairs }, (_, i) => `${indent}a${i}: &a${i} v\n${indent}b${i}: *a${i}`).join('\n');
}

/** Aliases nested through aliases, 20,000 deep: a parser's nesting limit never sees it, a recursive converter does. */
export function aliasChain(depth = 20_000): string {
  const lines = ['apiVersion: v2', 'name: evil', 'version: 1.0.0', 'c0: &c0 [x]'];
  for (let i = 1; i < depth; i++) lines.push(`c${i}: &c${i} [*c${i - 1}]`);
  lines.push(`annotations: {deep: *c${depth - 1}}`);
  return `${lines.join('\n')}\n`;
}
