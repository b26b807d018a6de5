/**
 * A port of the parts of gopkg.in/yaml.v2's emitter (emitterc.go, itself a
 * port of libyaml) that `yaml.Marshal` reaches when it writes plain Go values:
 * block mappings and sequences, empty `{}`/`[]`, and plain, single-quoted,
 * double-quoted and literal scalars, with best_width 80 and best_indent 2.
 *
 * Helm signs the bytes this emitter produces, so every quirk matters: where a
 * long line folds, which strings get quotes, how a sequence under a mapping key
 * is not indented. The state variables and their names follow the Go code so
 * the two can be compared line by line; we work on code points where Go works
 * on UTF-8 bytes, which gives the same result because Go advances by whole
 * characters and counts one column per character.
 */

import { analyzeScalar, isBreak, isPrintable, isSpace } from './go-yaml-scalar.js';

export type ScalarStyle = 'plain' | 'double' | 'literal';

export type EmitNode =
  | { kind: 'scalar'; value: string; style: ScalarStyle }
  | { kind: 'seq'; items: EmitNode[] }
  | { kind: 'map'; entries: Array<[EmitNode, EmitNode]> };

const BEST_INDENT = 2;
const BEST_WIDTH = 80;

interface Context {
  root: boolean;
  sequence: boolean;
  mapping: boolean;
  simpleKey: boolean;
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

class Emitter {
  private out: string[] = [];
  private column = 0;
  private indent = -1;
  private readonly indents: number[] = [];
  private whitespace = true;
  private indention = true;
  private openEnded = false;
  private flowLevel = 0;
  private ctx: Context = { root: false, sequence: false, mapping: false, simpleKey: false };

  document(root: EmitNode): string {
    // Implicit document start writes nothing; the root node follows.
    this.emitNode(root, { root: true, sequence: false, mapping: false, simpleKey: false });
    // Document end (implicit): finish the last line.
    this.writeIndent();
    // Stream end: an open-ended last scalar (keep-chomped literal) gets "...".
    if (this.openEnded) {
      this.writeIndicator('...', true, false, false);
      this.writeIndent();
    }
    return this.out.join('');
  }

  private put(s: string): void {
    this.out.push(s);
    this.column++;
  }

  private putBreak(): void {
    this.out.push('\n');
    this.column = 0;
  }

  private write(c: number): void {
    this.out.push(String.fromCodePoint(c));
    this.column++;
  }

  private writeBreak(c: number): void {
    if (c === 0x0a) {
      this.putBreak();
    } else {
      this.write(c);
      this.column = 0;
    }
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent < 0) {
      this.indent = flow ? BEST_INDENT : 0;
    } else if (!indentless) {
      this.indent += BEST_INDENT;
    }
  }

  private popIndent(): void {
    this.indent = this.indents.pop()!;
  }

  private writeIndent(): void {
    const indent = this.indent < 0 ? 0 : this.indent;
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) {
      this.putBreak();
    }
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  private writeIndicator(indicator: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const ch of indicator) this.write(ch.codePointAt(0)!);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
    this.openEnded = false;
  }

  private emitNode(node: EmitNode, ctx: Context): void {
    this.ctx = ctx;
    switch (node.kind) {
      case 'scalar':
        return this.emitScalar(node.value, node.style);
      case 'seq':
        if (this.flowLevel > 0 || node.items.length === 0) return this.emitEmptyFlow('[', ']', node.items.length);
        return this.emitBlockSequence(node.items);
      case 'map':
        if (this.flowLevel > 0 || node.entries.length === 0) return this.emitEmptyFlow('{', '}', node.entries.length);
        return this.emitBlockMapping(node.entries);
    }
  }

  /** Flow style only ever happens for empty collections: Marshal asks for block style. */
  private emitEmptyFlow(open: string, close: string, length: number): void {
    if (length !== 0) throw new Error('go-yaml emitter: non-empty flow collection is not supported');
    this.writeIndicator(open, true, true, false);
    this.increaseIndent(true, false);
    this.popIndent();
    this.writeIndicator(close, false, false, false);
  }

  private emitBlockSequence(items: EmitNode[]): void {
    // The "- " of a sequence that is a mapping value stays at the key's column.
    this.increaseIndent(false, this.ctx.mapping && !this.indention);
    for (const item of items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.emitNode(item, { root: false, sequence: true, mapping: false, simpleKey: false });
    }
    this.popIndent();
  }

  private emitBlockMapping(entries: Array<[EmitNode, EmitNode]>): void {
    this.increaseIndent(false, false);
    for (const [key, value] of entries) {
      this.writeIndent();
      if (this.isSimpleKey(key)) {
        this.emitNode(key, { root: false, sequence: false, mapping: true, simpleKey: true });
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.emitNode(key, { root: false, sequence: false, mapping: true, simpleKey: false });
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.emitNode(value, { root: false, sequence: false, mapping: true, simpleKey: false });
    }
    this.popIndent();
  }

  private isSimpleKey(key: EmitNode): boolean {
    switch (key.kind) {
      case 'scalar': {
        const cps = Array.from(key.value, (ch) => ch.codePointAt(0)!);
        if (analyzeScalar(cps).multiline) return false;
        return utf8Length(key.value) <= 128;
      }
      case 'seq':
        return key.items.length === 0;
      case 'map':
        return key.entries.length === 0;
    }
  }

  private emitScalar(value: string, requested: ScalarStyle): void {
    const cps = Array.from(value, (ch) => ch.codePointAt(0)!);
    const a = analyzeScalar(cps);
    let style: ScalarStyle | 'single' = requested;
    if (this.ctx.simpleKey && a.multiline) style = 'double';
    if (style === 'plain') {
      if ((this.flowLevel > 0 && !a.flowPlainAllowed) || (this.flowLevel === 0 && !a.blockPlainAllowed)) style = 'single';
      if (cps.length === 0 && (this.flowLevel > 0 || this.ctx.simpleKey)) style = 'single';
    }
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
    if (style === 'literal' && (!a.blockAllowed || this.flowLevel > 0 || this.ctx.simpleKey)) style = 'double';

    this.increaseIndent(true, false);
    const allowBreaks = !this.ctx.simpleKey;
    switch (style) {
      case 'plain':
        this.writePlain(cps, allowBreaks);
        break;
      case 'single':
        this.writeSingleQuoted(cps, allowBreaks);
        break;
      case 'double':
        this.writeDoubleQuoted(cps, allowBreaks);
        break;
      case 'literal':
        this.writeLiteral(cps);
        break;
    }
    this.popIndent();
  }

  private writePlain(cps: number[], allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ');
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i]!;
      if (isSpace(c)) {
        // Fold at the first space past column 80 unless another space follows.
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && !isSpace(cps[i + 1])) {
          this.writeIndent();
        } else {
          this.write(c);
        }
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === 0x0a) this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.write(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
    if (this.ctx.root) this.openEnded = true;
  }

  private writeSingleQuoted(cps: number[], allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i]!;
      if (isSpace(c)) {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cps.length - 1 && !isSpace(cps[i + 1])) {
          this.writeIndent();
        } else {
          this.write(c);
        }
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === 0x0a) this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (c === 0x27) this.put("'");
        this.write(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private writeDoubleQuoted(cps: number[], allowBreaks: boolean): void {
    // Go's is_bom looks at the start of the value whatever the position, so a
    // leading BOM makes every character come out escaped. Kept for fidelity.
    const leadingBom = cps[0] === 0xfeff;
    let spaces = false;
    this.writeIndicator('"', true, false, false);
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i]!;
      if (!isPrintable(c) || leadingBom || isBreak(c) || c === 0x22 || c === 0x5c) {
        this.put('\\');
        this.putEscape(c);
        spaces = false;
      } else if (isSpace(c)) {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cps.length - 1) {
          this.writeIndent();
          if (isSpace(cps[i + 1])) this.put('\\');
        } else {
          this.write(c);
        }
        spaces = true;
      } else {
        this.write(c);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private putEscape(v: number): void {
    const short: Record<number, string> = {
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
    const s = short[v];
    if (s !== undefined) {
      this.put(s);
      return;
    }
    const [letter, width] = v <= 0xff ? ['x', 2] : v <= 0xffff ? ['u', 4] : ['U', 8];
    this.put(letter as string);
    for (const digit of v
      .toString(16)
      .toUpperCase()
      .padStart(width as number, '0'))
      this.put(digit);
  }

  private writeLiteral(cps: number[]): void {
    this.writeIndicator('|', true, false, false);
    this.writeBlockScalarHints(cps);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    let breaks = true;
    for (const c of cps) {
      if (isBreak(c)) {
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.write(c);
        this.indention = false;
        breaks = false;
      }
    }
  }

  private writeBlockScalarHints(cps: number[]): void {
    if (isSpace(cps[0]) || isBreak(cps[0])) {
      this.writeIndicator(String(BEST_INDENT), false, false, false);
    }
    this.openEnded = false;
    let chomp = '';
    if (cps.length === 0) {
      chomp = '-';
    } else {
      const last = cps.length - 1;
      if (!isBreak(cps[last])) {
        chomp = '-';
      } else if (last === 0) {
        chomp = '+';
        this.openEnded = true;
      } else if (isBreak(cps[last - 1])) {
        chomp = '+';
        this.openEnded = true;
      }
    }
    if (chomp) this.writeIndicator(chomp, false, false, false);
  }
}

/** Serialises one node tree as a YAML document exactly as yaml.v2's Marshal would. */
export function emitGoYaml(root: EmitNode): string {
  return new Emitter().document(root);
}
