/**
 * How go-yaml v2 (the parser under sigs.k8s.io/yaml, which Helm uses for
 * Chart.yaml) reads a plain scalar, and how Go's strconv prints numbers.
 * Helm's view of a Chart.yaml depends on these YAML 1.1 rules: `y`, `on` and
 * `yes` are booleans, `010` is octal 8, `1.10` is the float 1.1, and a float
 * read into a string field is printed with 32-bit precision ("1.1"). The
 * encoder needs the same rules to decide when a string must be quoted.
 */

/** A YAML integer as go-yaml v2 returns it (int64 or uint64). */
export class GoInt {
  constructor(readonly value: bigint) {}
}

/** A YAML float as go-yaml v2 returns it (float64). */
export class GoFloat {
  constructor(readonly value: number) {}
}

export type Resolved =
  | { tag: 'str'; value: string }
  | { tag: 'null'; value: null }
  | { tag: 'bool'; value: boolean }
  | { tag: 'int'; value: GoInt }
  | { tag: 'float'; value: GoFloat }
  | { tag: 'timestamp'; value: string };

const WORDS = new Map<string, Resolved>();
const put = (r: Resolved, words: string[]) => words.forEach((w) => WORDS.set(w, r));
put({ tag: 'bool', value: true }, ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
put({ tag: 'bool', value: false }, ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
put({ tag: 'null', value: null }, ['', '~', 'null', 'Null', 'NULL']);
put({ tag: 'float', value: new GoFloat(NaN) }, ['.nan', '.NaN', '.NAN']);
put({ tag: 'float', value: new GoFloat(Infinity) }, ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']);
put({ tag: 'float', value: new GoFloat(-Infinity) }, ['-.inf', '-.Inf', '-.INF']);
// go-yaml's table also maps "<<" to !!merge, but '<' is not a character its
// resolver looks words up for, so a plain "<<" resolves to a string (merge
// keys are recognised by the decoder itself).

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Resolves an untagged plain scalar exactly as go-yaml v2's resolve("", s). */
export function resolvePlain(s: string): Resolved {
  const word = WORDS.get(s);
  if (word) return word;
  const c = s.charAt(0);
  if (c === '.') {
    // Go's ParseFloat on ".5" / ".5e3"; anything else, or out of range
    // (".5e400": ParseFloat fails), stays a string.
    const f = /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s) ? Number(s) : NaN;
    return Number.isFinite(f) ? { tag: 'float', value: new GoFloat(f) } : { tag: 'str', value: s };
  }
  if (!/^[-+0-9]/.test(s)) return { tag: 'str', value: s };
  if (isGoTimestamp(s)) return { tag: 'timestamp', value: s };
  const plain = s.replaceAll('_', '');
  const int = parseGoInt(plain);
  if (int !== undefined) return { tag: 'int', value: new GoInt(int) };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return { tag: 'float', value: new GoFloat(f) };
  }
  return { tag: 'str', value: s };
}

/** go-yaml quotes strings that look like YAML 1.1 sexagesimal numbers. */
export function isBase60Float(s: string): boolean {
  return /^[-+0-9]/.test(s) && s.includes(':') && BASE60_FLOAT.test(s);
}

/**
 * strconv.ParseInt(s, 0, 64) then ParseUint(s, 0, 64): optional sign, 0x/0o/0b
 * prefixes, a bare leading 0 meaning octal. Undefined when Go would fail.
 */
export function parseGoInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const sign = m[1];
  let body = m[2]!;
  if (/^0[0-7]+$/.test(body)) body = `0o${body.slice(1)}`;
  let v = BigInt(body.toLowerCase());
  if (sign === '-') v = -v;
  if (v >= INT64_MIN && v <= INT64_MAX) return v;
  // ParseUint accepts no sign at all.
  if (sign === '' && v <= UINT64_MAX) return v;
  return undefined;
}

/** go-yaml v2's parseTimestamp: the four layouts it tries with time.Parse. */
export function isGoTimestamp(s: string): boolean {
  const m =
    /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:([Tt ])([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$/.exec(
      s,
    );
  if (!m) return false;
  const [, y, mo, d, sep, h, mi, sec, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return false;
  if (sep === undefined) return true;
  // "T"/"t" layouts need a zone; the space layout must not have one.
  if ((sep === ' ') !== (zone === undefined)) return false;
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return false;
  if (zone && zone !== 'Z' && (Number(zone.slice(1, 3)) > 24 || Number(zone.slice(4)) > 60)) return false;
  return true;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** go-yaml's spelling of the float specials ("+Inf" → ".inf"). */
export function yamlFloatName(s: string): string {
  return s === '+Inf' ? '.inf' : s === '-Inf' ? '-.inf' : s === 'NaN' ? '.nan' : s;
}

/** strconv.FormatFloat(f, 'g', -1, bits). */
export function formatGoFloat(f: number, bits: 32 | 64): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const { digits, exp } = shortestDigits(f, bits);
  const neg = f < 0 ? '-' : '';
  // %e when the exponent is < -4 or >= 6 (Go uses precision 6 for "shortest").
  if (exp < -4 || exp >= 6) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${neg}${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  const point = exp + 1;
  if (point <= 0) return `${neg}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${neg}${digits}${'0'.repeat(point - digits.length)}`;
  return `${neg}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Shortest decimal digits that read back as the same float64 / float32. */
function shortestDigits(f: number, bits: 32 | 64): { digits: string; exp: number } {
  const abs = Math.abs(f);
  let text = abs.toExponential();
  if (bits === 32) {
    const target = Math.fround(abs);
    for (let p = 0; p < 9; p++) {
      const candidate = target.toExponential(p);
      if (Math.fround(Number(candidate)) === target) {
        text = candidate;
        break;
      }
    }
  }
  const [mant, e] = text.split('e') as [string, string];
  return { digits: mant.replace('.', '').replace(/0+$/, '') || '0', exp: Number(e) };
}
