/**
 * YAML output byte-for-byte as sigs.k8s.io/yaml's Marshal writes it (JSON →
 * go-yaml v2 → libyaml emitter). Helm writes Chart.yaml, Chart.lock and the
 * .prov metadata block this way, so an archive Helm loads identically needs
 * the same bytes: keys sorted with go-yaml's "natural" order, sequences not
 * indented under their key, strings quoted only when YAML 1.1 would read them
 * as something else, plain/quoted scalars folded after column 80, Go's
 * escapes in double quotes. The emitter rules below follow go-yaml's
 * emitterc.go (a libyaml port); only the block styles Marshal can produce are
 * implemented (flow style appears only for empty `[]` / `{}`).
 */
import { formatGoFloat, isBase60Float, resolvePlain } from './go-resolve.js';
import { goKeyCompare } from './go-yaml-keys.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A string Helm's own marshalling fails on ("yaml: control characters are not allowed"). */
export class GoYamlMarshalError extends Error {
  constructor(
    message: string,
    readonly value: string,
  ) {
    super(message);
  }
}

/**
 * Marshals a JSON-like value the way Go's sigs.k8s.io/yaml.Marshal does.
 * Throws GoYamlMarshalError where Go's would fail.
 */
export function marshalGoYaml(value: JsonValue): string {
  const e = new Emitter();
  e.node(value, { root: true, sequence: false, mapping: false, simpleKey: false });
  e.writeIndent(); // document end
  return e.out.join('');
}

type Style = 'plain' | 'single' | 'double' | 'literal';
interface Ctx {
  root: boolean;
  sequence: boolean;
  mapping: boolean;
  simpleKey: boolean;
}
interface Analysis {
  multiline: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
  block: boolean;
}

const BEST_INDENT = 2;
const BEST_WIDTH = 80;
const isBreak = (c: string | undefined) => c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlank = (c: string | undefined) => c === ' ' || c === '\t';
const isBlankOrBreak = (c: string | undefined) => c === undefined || isBlank(c) || isBreak(c) || c === '\0';

/** libyaml's is_printable, on code points instead of UTF-8 bytes. */
function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
}

class Emitter {
  out: string[] = [];
  column = 0;
  indent = -1;
  indents: number[] = [];
  whitespace = true;
  indention = true;

  node(value: JsonValue, ctx: Ctx): void {
    if (Array.isArray(value)) return this.sequence(value, ctx);
    if (value !== null && typeof value === 'object') return this.mapping(value, ctx);
    this.scalar(value, ctx);
  }

  private sequence(items: JsonValue[], ctx: Ctx): void {
    if (items.length === 0) return this.emptyFlow('[', ']');
    this.increaseIndent(false, ctx.mapping && !this.indention);
    for (const item of items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.node(item, { root: false, sequence: true, mapping: false, simpleKey: false });
    }
    this.indent = this.indents.pop()!;
  }

  private mapping(obj: { [key: string]: JsonValue }, _ctx: Ctx): void {
    const keys = Object.keys(obj).sort(goKeyCompare);
    if (keys.length === 0) return this.emptyFlow('{', '}');
    this.increaseIndent(false, false);
    for (const key of keys) {
      this.writeIndent();
      const a = analyze(key);
      // A simple key is one line and at most 128 bytes.
      if (!a.multiline && Buffer.byteLength(key) <= 128) {
        this.scalar(key, { root: false, sequence: false, mapping: true, simpleKey: true });
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.scalar(key, { root: false, sequence: false, mapping: true, simpleKey: false });
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.node(obj[key]!, { root: false, sequence: false, mapping: true, simpleKey: false });
    }
    this.indent = this.indents.pop()!;
  }

  private emptyFlow(open: string, close: string): void {
    this.writeIndicator(open, true, true, false);
    this.writeIndicator(close, false, false, false);
  }

  private scalar(value: string | number | boolean | null, ctx: Ctx): void {
    let text: string;
    let requested: Style = 'plain';
    if (typeof value === 'string') {
      text = throughJson(value, ctx.simpleKey);
      const r = resolvePlain(text);
      const canUsePlain = r.tag === 'str' && !isBase60Float(text);
      requested = text.includes('\n') ? 'literal' : canUsePlain ? 'plain' : 'double';
    } else if (value === null) {
      text = 'null';
    } else if (typeof value === 'boolean') {
      text = value ? 'true' : 'false';
    } else {
      text = formatJsonNumber(value);
    }
    const a = analyze(text);
    let style: Style = requested;
    if (ctx.simpleKey && a.multiline) style = 'double';
    if (style === 'plain' && (!a.blockPlain || (text.length === 0 && ctx.simpleKey))) style = 'single';
    if (style === 'single' && !a.singleQuoted) style = 'double';
    if (style === 'literal' && (!a.block || ctx.simpleKey)) style = 'double';

    this.increaseIndent(true, false);
    const allowBreaks = !ctx.simpleKey;
    if (style === 'plain') this.writePlain(text, allowBreaks);
    else if (style === 'single') this.writeSingle(text, allowBreaks);
    else if (style === 'double') this.writeDouble(text, allowBreaks);
    else this.writeLiteral(text);
    this.indent = this.indents.pop()!;
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.indent += BEST_INDENT;
  }

  private put(s: string): void {
    this.out.push(s);
    this.column++;
  }

  private putBreak(): void {
    this.out.push('\n');
    this.column = 0;
  }

  /** write_break: a "\n" is emitted as the line break; other breaks verbatim. */
  private writeBreak(c: string): void {
    if (c === '\n') this.putBreak();
    else {
      this.out.push(c);
      this.column = 0;
    }
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  private writeIndicator(indicator: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const c of indicator) this.put(c);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  private writePlain(text: string, allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ');
    const cs = [...text];
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && cs[i + 1] !== ' ') this.writeIndent();
        else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  private writeSingle(text: string, allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    const cs = [...text];
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cs.length - 1 && cs[i + 1] !== ' ') this.writeIndent();
        else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (c === "'") this.put("'");
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private writeDouble(text: string, allowBreaks: boolean): void {
    this.writeIndicator('"', true, false, false);
    const cs = [...text];
    // libyaml's is_bom looks at the start of the value, not at i: a value
    // starting with a BOM has every character escaped. Kept for byte parity.
    const startsWithBom = cs[0] === '\ufeff';
    let spaces = false;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (!isPrintable(c) || startsWithBom || isBreak(c) || c === '"' || c === '\\') {
        this.put('\\');
        for (const ch of escapeFor(c.codePointAt(0)!)) this.put(ch);
        spaces = false;
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cs.length - 1) {
          this.writeIndent();
          if (cs[i + 1] === ' ') this.put('\\');
        } else this.put(c);
        spaces = true;
      } else {
        this.put(c);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private writeLiteral(text: string): void {
    this.writeIndicator('|', true, false, false);
    const cs = [...text];
    if (cs[0] === ' ' || isBreak(cs[0])) this.writeIndicator(String(BEST_INDENT), false, false, false);
    const last = cs[cs.length - 1];
    let chomp = '';
    if (!isBreak(last)) chomp = '-';
    else if (cs.length === 1 || isBreak(cs[cs.length - 2])) chomp = '+';
    if (chomp) this.writeIndicator(chomp, false, false, false);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    let breaks = true;
    for (const c of cs) {
      if (isBreak(c)) {
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(c);
        this.indention = false;
        breaks = false;
      }
    }
  }
}

/**
 * What a string looks like after Go's JSON encoding is parsed back by go-yaml
 * (the middle step of sigs.k8s.io/yaml.Marshal). JSON escapes C0 controls,
 * "\n", U+2028 and U+2029, but writes DEL, the C1 controls and U+FFFE/FFFF
 * raw, which go-yaml's reader refuses; NEL (U+0085) is a YAML 1.1 line break,
 * so inside the quoted string it is folded like one: one NEL and the blanks
 * around it become a space, n NELs become n-1 newlines. In a key it is a
 * multi-line implicit key, which go-yaml refuses.
 */
function throughJson(s: string, isKey: boolean): string {
  const bad = /[\u007f-\u0084\u0086-\u009f\ufffe\uffff]/.exec(s);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new GoYamlMarshalError(`holds the control character U+${cp}, which Helm cannot write to YAML`, s);
  }
  if (!s.includes('\u0085')) return s;
  if (isKey) throw new GoYamlMarshalError('holds a NEL (U+0085) line break in a key, which Helm cannot write to YAML', s);
  return s.replace(/[ \t]*(\u0085(?:[ \t]*\u0085)*)[ \t]*/g, (_m, run: string) => {
    const n = [...run].filter((c) => c === '\u0085').length;
    return n === 1 ? ' ' : '\n'.repeat(n - 1);
  });
}

/** yaml_emitter_analyze_scalar, reduced to the block-context answers. */
function analyze(text: string): Analysis {
  const cs = [...text];
  if (cs.length === 0) return { multiline: false, blockPlain: true, singleQuoted: true, block: false };
  let blockIndicators = text.startsWith('---') || text.startsWith('...');
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    const followedByWhitespace = i + 1 >= cs.length || isBlank(cs[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      else if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true;
    } else if ((c === ':' && followedByWhitespace) || (c === '#' && precededByWhitespace)) {
      blockIndicators = true;
    }
    if (!isPrintable(c)) special = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === cs.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === cs.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankOrBreak(c);
  }
  let blockPlain = true;
  let singleQuoted = true;
  let block = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlain = false;
  if (trailingSpace) block = false;
  if (breakSpace) blockPlain = singleQuoted = false;
  if (spaceBreak || special) blockPlain = singleQuoted = block = false;
  if (lineBreaks || blockIndicators) blockPlain = false;
  return { multiline: lineBreaks, blockPlain, singleQuoted, block };
}

function escapeFor(cp: number): string {
  const named: Record<number, string> = {
    0x00: '0',
    0x07: 'a',
    0x08: 'b',
    0x09: 't',
    0x0a: 'n',
    0x0b: 'v',
    0x0c: 'f',
    0x0d: 'r',
    0x1b: 'e',
    0x22: '"',
    0x5c: '\\',
    0x85: 'N',
    0xa0: '_',
    0x2028: 'L',
    0x2029: 'P',
  };
  if (named[cp] !== undefined) return named[cp]!;
  const hex = cp.toString(16).toUpperCase();
  if (cp <= 0xff) return `x${hex.padStart(2, '0')}`;
  if (cp <= 0xffff) return `u${hex.padStart(4, '0')}`;
  return `U${hex.padStart(8, '0')}`;
}

/** A JSON number after Go's json → go-yaml round trip: ints stay ints, floats print as %g. */
function formatJsonNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) {
    const big = BigInt(n);
    if (big >= -(1n << 63n) && big < 1n << 64n) return big.toString();
  }
  return formatGoFloat(n, 64);
}
