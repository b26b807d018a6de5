/**
 * The order go-yaml v2 writes map keys in (its keyList.Less for strings): a
 * "natural" sort where runs of digits compare by value and letters sort
 * after other characters, so `a9` comes before `a10`. sigs.k8s.io/yaml
 * inherits it, so Chart.yaml and .prov metadata are written in this order.
 *
 * Less is not transitive (a1b < a2 < a10 < a1b) and Go ranges over maps in
 * random order, so Helm's own order for such keys changes from run to run;
 * for all other keys this is the order Helm writes.
 */
import { ASSIGNED_AFTER_GO_UNICODE } from './go-unicode.js';

/** A comparator for Array.prototype.sort: 0 when neither key is Less than the other. */
export function goKeyCompare(a: string, b: string): number {
  if (a === b) return 0;
  return goKeyLess(a, b) ? -1 : goKeyLess(b, a) ? 1 : 0;
}

const IS_LETTER = /\p{L}/u;
const IS_DIGIT = /\p{Nd}/u;
// unicode.IsLetter and IsDigit with Go's Unicode 15.0 tables (go-unicode.ts).
const goKnows = (ch: string): boolean => !ASSIGNED_AFTER_GO_UNICODE.test(ch);
const isLetter = (c: number): boolean => IS_LETTER.test(String.fromCodePoint(c)) && goKnows(String.fromCodePoint(c));
const isDigit = (c: number | undefined): boolean =>
  c !== undefined && IS_DIGIT.test(String.fromCodePoint(c)) && goKnows(String.fromCodePoint(c));

/** go-yaml v2's keyList.Less for two string keys, on runes like Go. */
export function goKeyLess(a: string, b: string): boolean {
  const ar = Array.from(a, (c) => c.codePointAt(0)!);
  const br = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const ac = ar[i]!;
    const bc = br[i]!;
    if (ac === bc) continue;
    const al = isLetter(ac);
    const bl = isLetter(bc);
    if (al && bl) return ac < bc;
    if (al || bl) return bl;
    let an = 0n;
    let bn = 0n;
    if (ac === 0x30 || bc === 0x30) {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== 0x30) {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    // Go accumulates in an int64 that wraps around; any Unicode digit adds
    // its code point minus '0', as Go's `int64(ar[ai]-'0')` does.
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = BigInt.asIntN(64, an * 10n + BigInt(ar[ai]! - 0x30));
    let bi = i;
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = BigInt.asIntN(64, bn * 10n + BigInt(br[bi]! - 0x30));
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ac < bc;
  }
  return ar.length < br.length;
}
