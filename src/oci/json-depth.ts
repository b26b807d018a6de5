/**
 * JSON.parse builds every level of `[[[[…` before anything can look at it: a
 * 4 MiB manifest nested a million deep costs hundreds of MiB. Go's decoder
 * (distribution, Helm) refuses nesting past 10 000; a cheap byte scan lets
 * us refuse the same before parsing.
 */
export const MAX_JSON_DEPTH = 10_000;

/** Whether `bytes` (JSON text) nests arrays and objects deeper than `max`. Strings are skipped, escapes included. */
export function jsonDepthExceeds(bytes: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}
