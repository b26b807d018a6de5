/**
 * A port of the parts of go-yaml v2's emitter (emitterc.go, itself a port of
 * libyaml) that `yaml.Marshal` reaches when it writes plain Go values: block
 * mappings and sequences, empty `{}`/`[]`, and plain, single-quoted,
 * double-quoted and literal scalars, with best_width 80 and best_indent 2.
 *
 * Helm writes Chart.yaml, Chart.lock and the signed .prov metadata with this
 * emitter, so every quirk matters: where a long line folds, which strings get
 * quotes, how a sequence under a mapping key is not indented. The state
 * variables and their names follow the Go code so the two can be compared
 * line by line; we work on code points where Go works on UTF-8 bytes, which
 * gives the same result because Go advances by whole characters and counts
 * one column per character.
 */
import { analyzeScalar, escapeFor, isBreak, isPrintable, isSpace } from './go-yaml-scalar.js';

/** The style go-yaml's encoder asks for; the emitter may fall back to quotes. */
export type ScalarStyle = 'plain' | 'double' | 'literal';

export interface ScalarNode {
  kind: 'scalar';
  value: string;
  style: ScalarStyle;
}
export type EmitNode = ScalarNode | { kind: 'seq'; items: EmitNode[] } | { kind: 'map'; entries: Array<[ScalarNode, EmitNode]> };

const BEST_INDENT = 2;
const BEST_WIDTH = 80;

interface Context {
  mapping: boolean;
  simpleKey: boolean;
}

const codePoints = (s: string): number[] => Array.from(s, (ch) => ch.codePointAt(0)!);

/** Serialises one node tree as a YAML document exactly as go-yaml v2's Marshal would. */
export function emitGoYaml(root: EmitNode): string {
  return new Emitter().document(root);
}

class Emitter {
  private readonly out: string[] = [];
  private column = 0;
  private indent = -1;
  private readonly indents: number[] = [];
  private whitespace = true;
  private indention = true;
  private ctx: Context = { mapping: false, simpleKey: false };

  document(root: EmitNode): string {
    // Implicit document start writes nothing; the root node follows.
    this.emitNode(root, { mapping: false, simpleKey: false });
    // Document end (implicit): finish the last line. No "..." at stream end:
    // go-yaml's encoder.finish clears open_ended before the STREAM-END event,
    // so Marshal never writes one (not even after a root plain scalar).
    this.writeIndent();
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

  /** write_break: "\n" is written as the line break, other breaks verbatim. */
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
    for (const ch of indicator) this.put(ch);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  private emitNode(node: EmitNode, ctx: Context): void {
    this.ctx = ctx;
    switch (node.kind) {
      case 'scalar':
        return this.emitScalar(node.value, node.style);
      case 'seq':
        // Marshal asks for block style; libyaml still writes an empty collection in flow style.
        if (node.items.length === 0) return this.emitEmptyFlow('[', ']');
        return this.emitBlockSequence(node.items);
      case 'map':
        if (node.entries.length === 0) return this.emitEmptyFlow('{', '}');
        return this.emitBlockMapping(node.entries);
    }
  }

  private emitEmptyFlow(open: string, close: string): void {
    this.writeIndicator(open, true, true, false);
    this.writeIndicator(close, false, false, false);
  }

  private emitBlockSequence(items: EmitNode[]): void {
    // The "- " of a sequence that is a mapping value stays at the key's column.
    this.increaseIndent(false, this.ctx.mapping && !this.indention);
    for (const item of items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.emitNode(item, { mapping: false, simpleKey: false });
    }
    this.popIndent();
  }

  private emitBlockMapping(entries: Array<[ScalarNode, EmitNode]>): void {
    this.increaseIndent(false, false);
    for (const [key, value] of entries) {
      this.writeIndent();
      // yaml_emitter_check_simple_key: one line and at most 128 bytes.
      if (!analyzeScalar(codePoints(key.value)).multiline && Buffer.byteLength(key.value, 'utf8') <= 128) {
        this.emitNode(key, { mapping: true, simpleKey: true });
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.emitNode(key, { mapping: true, simpleKey: false });
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.emitNode(value, { mapping: true, simpleKey: false });
    }
    this.popIndent();
  }

  /** yaml_emitter_select_scalar_style, then the writer for the chosen style. */
  private emitScalar(value: string, requested: ScalarStyle): void {
    const cps = codePoints(value);
    const a = analyzeScalar(cps);
    let style: ScalarStyle | 'single' = requested;
    if (this.ctx.simpleKey && a.multiline) style = 'double';
    if (style === 'plain' && (!a.blockPlainAllowed || (cps.length === 0 && this.ctx.simpleKey))) style = 'single';
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
    if (style === 'literal' && (!a.blockAllowed || this.ctx.simpleKey)) style = 'double';

    this.increaseIndent(true, false);
    const allowBreaks = !this.ctx.simpleKey;
    if (style === 'plain') this.writePlain(cps, allowBreaks);
    else if (style === 'single') this.writeSingleQuoted(cps, allowBreaks);
    else if (style === 'double') this.writeDoubleQuoted(cps, allowBreaks);
    else this.writeLiteral(cps);
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
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && !isSpace(cps[i + 1])) this.writeIndent();
        else this.write(c);
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
    // go-yaml's is_bom looks at the start of the value whatever the position,
    // so a leading BOM makes every character come out escaped. Kept for parity.
    const leadingBom = cps[0] === 0xfeff;
    let spaces = false;
    this.writeIndicator('"', true, false, false);
    for (let i = 0; i < cps.length; i++) {
      const c = cps[i]!;
      if (!isPrintable(c) || leadingBom || isBreak(c) || c === 0x22 || c === 0x5c) {
        this.put('\\');
        for (const ch of escapeFor(c)) this.put(ch);
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

  /** Indentation hint when the text starts with a space or break; chomping from its end. */
  private writeBlockScalarHints(cps: number[]): void {
    if (isSpace(cps[0]) || isBreak(cps[0])) this.writeIndicator(String(BEST_INDENT), false, false, false);
    const last = cps.length - 1;
    let chomp = '';
    if (cps.length === 0 || !isBreak(cps[last])) {
      chomp = '-';
    } else if (last === 0 || isBreak(cps[last - 1])) {
      // "keep": trailing blank lines are content. (go-yaml also marks the
      // document open-ended here, but writing the "+" clears that again.)
      chomp = '+';
    }
    if (chomp) this.writeIndicator(chomp, false, false, false);
  }
}
