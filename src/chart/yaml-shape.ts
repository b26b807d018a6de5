/**
 * A look at a YAML text's shape before the yaml package parses it. That
 * parser keeps ~100 bytes of syntax tree per byte of input, and more for
 * nesting: 5 MB of "[" (Helm's per-file limit, 5 KB gzip'd) costs it 2.8 GB
 * and half a minute before it gives up at a depth of ~800, and a dense
 * 4 MB file 600 MB. Its lexer alone runs in constant memory, so we lex
 * first and refuse a document nested deeper than any parser here can read,
 * or with more tokens than fit the memory we allow a chart file.
 */
import { Lexer } from 'yaml';

/** Deeper than this, the yaml package's composer runs out of stack anyway. */
export const MAX_YAML_DEPTH = 1000;
/**
 * About 125 MB of syntax tree: for values.yaml, whose biggest real examples
 * (a few thousand lines) have tens of thousands of tokens.
 */
export const MAX_YAML_TOKENS = 500_000;
/**
 * For Chart.yaml, Chart.lock, requirements.yaml and a .prov's documents,
 * which hold hundreds of tokens (a chart with a thousand dependencies, some
 * tens of thousands). Several are read at once (`verify *.tgz`), so each
 * gets a fifth of the budget.
 */
export const MAX_METADATA_YAML_TOKENS = 100_000;

/** Why `text` is too deep or too large to parse, or undefined when it is fine. */
export function yamlShapeProblem(text: string, limits: { depth?: number; tokens?: number } = {}): string | undefined {
  const maxDepth = limits.depth ?? MAX_YAML_DEPTH;
  const maxTokens = limits.tokens ?? MAX_YAML_TOKENS;
  let tokens = 0;
  let flow = 0;
  let compact = 0;
  // The lexer marks every scalar with "\x1f" before its text: a scalar that
  // reads "[" is text, not a flow collection.
  let scalarNext = false;
  for (const token of new Lexer().lex(text)) {
    if (++tokens > maxTokens) return `more than ${maxTokens} YAML tokens, more than chartprov reads from one file`;
    if (scalarNext) {
      scalarNext = false;
      continue;
    }
    const c = token[0];
    if (c === '\x1f') scalarNext = true;
    else if ((c === '[' || c === '{') && token.length === 1) {
      if (++flow > maxDepth) return `nested more than ${maxDepth} levels deep`;
    } else if ((c === ']' || c === '}') && token.length === 1) {
      if (flow > 0) flow--;
    } else if (c === '\n' || c === '\r') {
      compact = 0;
    } else if ((c === '-' || c === '?') && token.length === 1) {
      // "- - - x": block collections nested on one line.
      if (++compact > maxDepth) return `nested more than ${maxDepth} levels deep`;
    }
  }
  return undefined;
}
