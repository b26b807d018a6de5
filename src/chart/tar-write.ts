/**
 * The tar side of a chart archive, written by hand so every byte is ours to
 * fix: USTAR headers for regular files only, mode 0644, uid/gid 0, empty
 * user/group names, one mtime for all entries, and a PAX record only when a
 * path does not fit USTAR (longer than 255 bytes, or not ASCII — Go's tar,
 * which Helm reads with, switches to PAX in the same cases).
 */

const BLOCK = 512;
/** Largest mtime an 11-digit octal field holds (year 2242). */
export const MAX_TAR_MTIME = 0o77777777777;

export interface TarEntry {
  path: string;
  data: Uint8Array;
}

/** Header (and PAX prefix if needed) + body + padding for one file. */
export function* tarEntryBlocks(entry: TarEntry, mtime: number): Generator<Uint8Array> {
  const ascii = /^[\x20-\x7e]*$/.test(entry.path);
  const split = ascii ? splitUstarPath(entry.path) : undefined;
  if (!split) {
    const record = paxRecord('path', entry.path);
    yield header({ name: paxName(entry.path), prefix: '', size: record.length, mtime, type: 'x' });
    yield record;
    yield padding(record.length);
  }
  const { name, prefix } = split ?? { name: asciiFallback(entry.path).slice(-100), prefix: '' };
  yield header({ name, prefix, size: entry.data.length, mtime, type: '0' });
  yield entry.data;
  yield padding(entry.data.length);
}

/** Two zero blocks end a tar stream (Go writes exactly these, no record padding). */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}

interface HeaderFields {
  name: string;
  prefix: string;
  size: number;
  mtime: number;
  type: '0' | 'x';
}

function header(h: HeaderFields): Uint8Array {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, 0o644);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.fill(0x20, 148, 156); // checksum is computed over spaces
  b.write(h.type, 156, 1, 'ascii');
  b.write('ustar\u000000', 257, 8, 'ascii');
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return b;
}

/** Zero-padded octal digits and a NUL, filling the field. */
function octal(b: Buffer, offset: number, width: number, value: number): void {
  b.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}

function padding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}

/** USTAR splits a long path at a "/" into prefix (≤155) and name (≤100). */
function splitUstarPath(path: string): { name: string; prefix: string } | undefined {
  if (path.length <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { name, prefix };
  }
  return undefined;
}

/** "%d path=value\n" where the length counts itself. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  return Buffer.from(`${len}${body}`, 'utf8');
}

function paxName(path: string): string {
  const base = asciiFallback(path.slice(path.lastIndexOf('/') + 1));
  return `PaxHeaders/${base}`.slice(0, 100);
}

/** What readers that ignore PAX see: the path with non-ASCII bytes replaced. */
function asciiFallback(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '_');
}
