/**
 * The tar side of a chart archive. node-tar's Header and Pax encode the
 * blocks; what goes in them is fixed here so the bytes depend on the files
 * alone: regular files only, mode 0644, uid/gid 0, empty user/group names,
 * one mtime for all entries, and a PAX record (the path, nothing else) only
 * when the path does not fit USTAR's name and prefix fields or is not ASCII.
 * Go's archive/tar, which Helm reads with, switches to PAX in the same cases
 * and reads node-tar's number fields ("000644 \0") as it reads its own.
 */
import { Header } from 'tar/header';
import { Pax } from 'tar/pax';

const BLOCK = 512;
/** Largest mtime an 11-digit octal field holds (year 2242). */
export const MAX_TAR_MTIME = 0o77777777777;

export interface TarEntry {
  path: string;
  data: Uint8Array;
}

/** Header (and PAX prefix if needed) + body + padding for one file. */
export function* tarEntryBlocks(entry: TarEntry, mtime: number): Generator<Uint8Array> {
  const header = Buffer.alloc(BLOCK);
  const needPax = new Header({
    path: entry.path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: entry.data.length,
    mtime: new Date(mtime * 1000),
    type: 'File',
    uname: '',
    gname: '',
  }).encode(header);
  // encode() reports what the header could not hold. The numbers always fit
  // (callers keep mtime <= MAX_TAR_MTIME, files are far below 8 GiB), so
  // this is the path; the header then keeps a truncated fallback for readers
  // that ignore PAX.
  if (needPax) yield new Pax({ path: entry.path }).encode();
  yield header;
  yield entry.data;
  yield padding(entry.data.length);
}

/** Two zero blocks end a tar stream (Go writes exactly these, no record padding). */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}

function padding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}
