/**
 * The parts of a tar header whose meaning readers disagree on, read the way
 * Go's archive/tar (Helm's reader) reads them: the ustar name as bytes, PAX
 * records by their length prefix, the size field as strict octal.
 */
import type { ChartArchiveError } from '../errors.js';
import { isUtf8 } from './utf8.js';

/** A path as read, and whether its bytes were UTF-8. */
export type Name = { text: string; lossy: boolean };

/** The ustar name (prefix + "/" + name, each up to its first NUL), as node-tar builds it. */
export function headerName(block: Buffer): Name {
  const field = (start: number, length: number) => {
    const raw = block.subarray(start, start + length);
    const nul = raw.indexOf(0);
    return nul < 0 ? raw : raw.subarray(0, nul);
  };
  const name = field(0, 100);
  const ustar = block.toString('latin1', 257, 265) === 'ustar\u000000';
  const prefix = ustar ? (block[475] !== 0 ? field(345, 155) : field(345, 130)) : Buffer.alloc(0);
  const raw = prefix.length > 0 ? Buffer.concat([prefix, Buffer.from('/'), name]) : name;
  return { text: raw.toString('utf8'), lossy: !isUtf8(raw) };
}

export interface PaxRecords {
  path?: Name;
  size?: number;
  sparse: boolean;
}

/**
 * A PAX header body as Go's parsePAX reads it: "<length> <key>=<value>\n"
 * records, each exactly <length> bytes, so a value may hold a newline (which
 * a line-by-line reader such as node-tar's splits into records of its own,
 * e.g. a "size" Go never sees). Malformed records, a NUL in a path or a size
 * that is not a number are ErrHeader in Go, and refused here.
 */
export function parsePax(data: Buffer, bad: (why: string) => ChartArchiveError): PaxRecords {
  const out: PaxRecords = { sparse: false };
  for (let rest = data; rest.length > 0;) {
    const space = rest.indexOf(0x20);
    const lengthText = space < 0 ? '' : rest.toString('latin1', 0, space);
    const n = /^[0-9]{1,9}$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!(n >= 5 && n <= rest.length && n > space + 1 && rest[n - 1] === 0x0a)) throw bad('not a valid tar archive (malformed PAX record)');
    const record = rest.subarray(space + 1, n - 1);
    rest = rest.subarray(n);
    const eq = record.indexOf(0x3d);
    if (eq <= 0 || record.subarray(0, eq).includes(0)) throw bad('not a valid tar archive (malformed PAX record)');
    const key = record.toString('utf8', 0, eq);
    const value = record.subarray(eq + 1);
    if (key === 'path') {
      if (value.includes(0)) throw bad(`the PAX path ${JSON.stringify(value.toString('utf8'))} holds a NUL character`);
      out.path = { text: value.toString('utf8'), lossy: !isUtf8(value) };
    } else if (key === 'size') {
      const text = value.toString('latin1');
      if (!/^\+?[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text)))
        throw bad(`not a valid tar archive (PAX size ${JSON.stringify(text.slice(0, 40))})`);
      out.size = Number(text);
    } else if (key.startsWith('GNU.sparse.')) {
      out.sparse = true;
    }
  }
  return out;
}

/** Octal digits between optional spaces and NULs, empty (0), or base-256 (node-tar checks those). */
export function sizeFieldValid(block: Buffer): boolean {
  if (block[124]! & 0x80) return true;
  const text = block
    .toString('latin1', 124, 136)
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  return /^[0-7]*$/.test(text);
}
