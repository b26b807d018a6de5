/**
 * Just enough of Go's encoding/json to write a registry config file byte for
 * byte as oras-go (Helm 4) does: it decodes the file into
 * map[string]json.RawMessage, so untouched values keep their own text (key
 * order, number spelling, escapes) and only map keys are re-encoded and
 * sorted; then json.MarshalIndent(…, "", "\t") compacts, HTML-escapes and
 * re-indents everything. Input here has already passed JSON.parse.
 */

export interface RawMember {
  key: string;
  raw: string;
}

/** The members of a JSON object's text, in file order, each value as raw text (a later duplicate key wins, as in Go). */
export function rawMembers(text: string): RawMember[] {
  const members = new Map<string, string>();
  let i = skipSpace(text, 0);
  if (text[i] !== '{') throw new SyntaxError('not a JSON object');
  i = skipSpace(text, i + 1);
  while (text[i] !== '}') {
    const keyEnd = endOfValue(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const start = skipSpace(text, skipSpace(text, keyEnd) + 1); // past ':'
    const end = endOfValue(text, start);
    members.delete(key);
    members.set(key, text.slice(start, end));
    i = skipSpace(text, end);
    if (text[i] === ',') i = skipSpace(text, i + 1);
  }
  return [...members].map(([key, raw]) => ({ key, raw }));
}

/** A JSON object from raw members, keys sorted by bytes as Go sorts map keys, in MarshalIndent's tab layout. */
export function marshalIndentMap(members: readonly RawMember[]): string {
  return indent(compactMap(sortedAsGoMap(members)));
}

/** Members in the order Go's json.Marshal writes a map's keys: by their UTF-8 bytes. */
export function sortedAsGoMap(members: readonly RawMember[]): RawMember[] {
  return [...members].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
}

/** A compact JSON object from raw members in the order given (Go's Marshal of a map, minus the sort). */
export function compactMap(members: readonly RawMember[]): string {
  return `{${members.map((m) => `${encodeString(m.key)}:${compact(m.raw)}`).join(',')}}`;
}

/** A string as Go's json.Marshal writes it (Go 1.22+, HTML escaping on). */
export function encodeString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&') out += SHORT_ESCAPES[ch] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    // A lone surrogate came from an invalid \uD8xx escape, which Go decodes as U+FFFD.
    else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

const SHORT_ESCAPES: Record<string, string> = { '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Go's json.Compact with HTML escaping: whitespace outside strings dropped, `<>&` and U+2028/9 escaped, all else verbatim. */
function compact(raw: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (inString) {
      if (ch === '\\') {
        out += ch + raw[++i];
        continue;
      }
      if (ch === '"') inString = false;
      out += HTML_ESCAPES[ch] ?? ch;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (!isSpace(ch)) {
      out += ch;
    }
  }
  return out;
}

const HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go's json.Indent(dst, compact, "", "\t"): one member or element a line, `{}` and `[]` kept empty. */
function indent(compactText: string): string {
  let out = '';
  let depth = 0;
  let needIndent = false;
  let inString = false;
  const newline = () => `\n${'\t'.repeat(depth)}`;
  for (let i = 0; i < compactText.length; i++) {
    const ch = compactText[i]!;
    if (inString) {
      if (ch === '\\') {
        out += ch + compactText[++i];
        continue;
      }
      if (ch === '"') inString = false;
      out += ch;
      continue;
    }
    if (needIndent && ch !== '}' && ch !== ']') {
      needIndent = false;
      depth++;
      out += newline();
    }
    if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === '{' || ch === '[') {
      needIndent = true;
      out += ch;
    } else if (ch === ',') {
      out += `,${newline()}`;
    } else if (ch === ':') {
      out += ': ';
    } else if (ch === '}' || ch === ']') {
      if (needIndent) {
        needIndent = false; // empty: `{}`
      } else {
        depth--;
        out += newline();
      }
      out += ch;
    } else {
      out += ch;
    }
  }
  return out;
}

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r';
}

function skipSpace(text: string, i: number): number {
  while (isSpace(text[i])) i++;
  return i;
}

/** Index just past the JSON value starting at `i`. */
function endOfValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') {
    for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    return i + 1;
  }
  if (first === '{' || first === '[') {
    let depth = 0;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === '"') i = endOfValue(text, i) - 1;
      else if (ch === '{' || ch === '[') depth++;
      else if ((ch === '}' || ch === ']') && --depth === 0) return i + 1;
    }
    return i;
  }
  while (i < text.length && !isSpace(text[i]) && !',}]'.includes(text[i]!)) i++;
  return i;
}
