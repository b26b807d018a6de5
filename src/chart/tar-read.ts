/**
 * Streams a gzip'd tar the way a chart archive must look, with Helm's path
 * rules made strict: one top folder, no absolute paths, no `..`, regular files
 * only (Helm silently reads a symlink entry as an empty file; we refuse it),
 * no duplicate paths. Memory is bounded: decompression stops as soon as the
 * tar stream passes `maxBytes` (so a gzip bomb fails fast), a file larger than
 * `maxFileBytes` is refused before its body is read, and only the entries the
 * caller asks for are buffered. The same pass hashes the raw input to its end
 * (Helm's digest covers the whole file), past the end-of-archive marker but
 * without decompressing what follows it.
 */
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Header } from 'tar/header';
import { ChartArchiveError, ChartprovError, FileNotFoundError, FileReadError, NotAChartError } from '../errors.js';
import { DigestStream } from './digest.js';
import { type Name, type PaxRecords, headerName, parsePax, sizeFieldValid } from './tar-headers.js';
import { isUtf8 } from './utf8.js';
import { shown } from './show.js';

/** Helm's limits (pkg/chart/loader/archive): 100 MiB in all, 5 MiB per file. */
export const MAX_CHART_BYTES = 100 * 1024 * 1024;
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

export interface TarReadOptions {
  maxBytes?: number;
  maxFileBytes?: number;
  /** Names the archive in messages. */
  label: string;
  /** Which files (path inside the top folder) to buffer; the rest are skipped. */
  keep: (path: string) => boolean;
  /**
   * Receives each kept file as soon as it is complete, instead of `files`
   * holding them all: memory then holds one file (at most maxFileBytes) and
   * not the whole chart. Its errors end the read as they are.
   */
  onFile?: (path: string, data: Buffer) => Promise<void>;
}

export interface TarContents {
  /** The single top-level folder. */
  top: string;
  /** Every file entry's full path, in archive order. */
  entries: string[];
  /** Kept files by path inside the top folder, in archive order; a UTF-8 BOM is removed as Helm does. */
  files: Map<string, Buffer>;
  /**
   * Entries (as in `entries`) whose stored name is not UTF-8, decoded with
   * U+FFFD in place of the bad bytes. Helm reads such names as bytes; they
   * are fine to verify, but unpacking would write a name other than Helm's.
   */
  lossyNames: string[];
}

const BLOCK = 512;
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
/**
 * Headers that describe the next entry; their bodies are small records.
 * Old GNU 'N' headers are not among them: Go does not know them and hands
 * them on as entries, which Helm reads as files, so we cannot give them a
 * meaning Helm agrees with, and refuse them as entries of an unknown type.
 */
const META_TYPES = new Set(['ExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath', 'NextFileHasLongLinkpath']);
const MAX_META_BYTES = 1024 * 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface TarGzContents extends TarContents {
  /** Hex sha256 of the whole input, including anything after the end marker. */
  sha256: string;
  /** Bytes of input read: the whole file. */
  size: number;
}

/**
 * Reads a .tgz from a path or bytes in one pass: the same bytes feed the
 * digest and the tar reader, so the digest and the contents always agree even
 * if the file changes while it is read.
 */
export async function readTarGz(input: string | Uint8Array, opts: TarReadOptions): Promise<TarGzContents> {
  const reader = new TarReader(opts, opts.maxFileBytes ?? MAX_FILE_BYTES);
  const maxBytes = opts.maxBytes ?? MAX_CHART_BYTES;
  const raw = await openInput(input, opts.label, maxBytes);
  const digest = new DigestStream({ maxBytes, tooLarge: (max) => reader.bad(`is larger than ${max} bytes (the limit)`) });
  const gunzip = createGunzip();
  raw.on('error', (err) => digest.destroy(typeof input === 'string' ? readError(input, err) : err));
  // pipe() does not forward errors; the read loop below must see them.
  digest.on('error', (err) => gunzip.destroy(err));
  raw.pipe(digest).pipe(gunzip);
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (total === 0 && chunk[0] === 0x1f && chunk[1] === 0x8b) throw reader.bad('holds another gzip stream instead of a tar archive');
      total += chunk.length;
      if (total > maxBytes) throw reader.bad(`decompresses to more than ${maxBytes} bytes (the limit)`);
      // Like Go's tar reader, stop at the end-of-archive marker: whatever
      // follows (padding, or a bomb of zeros) is never decompressed.
      const done = reader.push(chunk);
      if (opts.onFile) for (const [path, data] of reader.takeFiles()) await opts.onFile(path, data);
      if (done) break;
    }
    reader.finish();
    if (reader.result.entries.length === 0) {
      throw new NotAChartError(`${opts.label}: the archive holds no files`, {
        hint: 'pass a .tgz made by chartprov package or helm package',
      });
    }
    // Helm's digest covers the whole file, so hash what follows the end
    // marker too (bounded by maxBytes) without decompressing it.
    digest.unpipe(gunzip);
    digest.resume();
    await finished(digest);
  } catch (err) {
    raw.destroy();
    digest.destroy();
    gunzip.destroy();
    if (err instanceof ChartprovError) throw err;
    throw reader.bad(`not a valid gzip stream (${(err as Error).message})`);
  }
  return { ...reader.result, sha256: digest.hex(), size: digest.size };
}

type Body = { remaining: number; pad: number; kind: 'skip' | 'keep' | 'meta'; type: string; rel: string; chunks: Buffer[] };

/**
 * A streaming tar reader: node-tar's Header decodes the blocks, the state
 * machine and the PAX records are ours so the work per byte stays constant
 * (node-tar's Parser re-buffers everything after the end marker, which turns
 * a bomb of zeros into minutes of copying) and every header means what it
 * means to Go's archive/tar, which Helm uses: where two readers disagree on
 * an entry's name or size, one shows a chart the other does not install.
 */
class TarReader {
  readonly result: TarContents = { top: '', entries: [], files: new Map(), lossyNames: [] };
  private readonly paths: PathState = { files: new Set(), folders: new Set() };
  private pending: Buffer = Buffer.alloc(0);
  private body: Body | undefined;
  private zeroBlocks = 0;
  private done = false;
  /** The next entry's GNU long name, and PAX records, as Go applies them. */
  private longPath: Name | undefined;
  private pax: PaxRecords | undefined;

  constructor(
    private readonly opts: TarReadOptions,
    private readonly maxFileBytes: number,
  ) {}

  bad(why: string): ChartArchiveError {
    return new ChartArchiveError(`${this.opts.label}: ${why}`, {
      hint: 'the archive is not a chart Helm would load; re-create it with chartprov package or helm package',
    });
  }

  /** Feeds decompressed bytes; true once the end-of-archive marker was read. */
  push(chunk: Buffer): boolean {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (!this.done) {
      if (this.body) {
        const b = this.body;
        const take = Math.min(b.remaining, buf.length);
        if (take > 0 && b.kind !== 'skip') b.chunks.push(Buffer.from(buf.subarray(0, take)));
        b.remaining -= take;
        buf = buf.subarray(take);
        const pad = Math.min(b.pad, buf.length);
        if (b.remaining === 0) {
          b.pad -= pad;
          buf = buf.subarray(pad);
        }
        if (b.remaining > 0 || b.pad > 0) break;
        this.body = undefined;
        this.endBody(b);
        continue;
      }
      if (buf.length < BLOCK) break;
      this.header(buf.subarray(0, BLOCK));
      buf = buf.subarray(BLOCK);
    }
    this.pending = Buffer.from(buf);
    return this.done;
  }

  /** The files completed since the last call, removed from `result.files`. */
  takeFiles(): Array<[string, Buffer]> {
    const out = [...this.result.files];
    this.result.files.clear();
    return out;
  }

  finish(): void {
    if (this.body || (this.pending.length > 0 && !this.done)) throw this.bad('is truncated (the tar stream ends inside an entry)');
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      if (++this.zeroBlocks === 2) this.done = true;
      return;
    }
    this.zeroBlocks = 0;
    let h: Header;
    try {
      h = new Header(block);
    } catch (err) {
      // A base-256 number field that is malformed or past 2^53.
      throw this.bad(`not a valid tar archive (${(err as Error).message})`);
    }
    if (!h.cksumValid) throw this.bad('not a valid tar archive (bad header checksum)');
    const type = h.type;
    // Go's reader refuses a size field that is not a number; node-tar reads
    // "12x" as 10 and garbage as 0, which would make the body a header.
    if (!sizeFieldValid(block))
      throw this.bad(`not a valid tar archive (size field ${JSON.stringify(block.toString('latin1', 124, 136))})`);
    const size = (FILE_TYPES.has(type) ? this.pax?.size : undefined) ?? h.size ?? 0;
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (META_TYPES.has(type)) {
      if (size > MAX_META_BYTES) throw this.bad(`has a ${type} header of ${size} bytes`);
      this.body = { remaining: size, pad, kind: 'meta', type, rel: '', chunks: [] };
      return;
    }
    // Go lets a GNU long name win over a PAX path.
    const name = this.longPath ?? this.pax?.path ?? headerName(block);
    this.longPath = this.pax = undefined;
    const rel = checkEntry({ path: name.text, type, size }, this.result, this.paths, this.maxFileBytes, (why) => this.bad(why));
    if (rel !== undefined && name.lossy) this.result.lossyNames.push(`${this.result.top}/${rel}`);
    const kind = rel !== undefined && this.opts.keep(rel) ? 'keep' : 'skip';
    this.body = { remaining: type === 'Directory' ? 0 : size, pad: type === 'Directory' ? 0 : pad, kind, type, rel: rel ?? '', chunks: [] };
  }

  private endBody(b: Body): void {
    const data = Buffer.concat(b.chunks);
    if (b.kind === 'keep') {
      this.result.files.set(b.rel, data.subarray(0, 3).equals(UTF8_BOM) ? data.subarray(3) : data);
    } else if (b.kind === 'meta') {
      if (b.type === 'ExtendedHeader') {
        // A second PAX header replaces the first, as in Go (not merged).
        this.pax = parsePax(data, (why) => this.bad(why));
        // GNU sparse files in PAX form: Go expands them (to 10 GiB if the
        // record says so), a plain reader sees the raw map as the file's
        // bytes. Two readers, two contents: refuse.
        if (this.pax.sparse) throw this.bad('holds a sparse file (GNU.sparse PAX records); chart archives hold regular files only');
      } else if (b.type === 'GlobalExtendedHeader') {
        // Go hands a global header to its caller as an entry of its own,
        // which drops what was pending for the next one; Helm then skips it.
        this.longPath = this.pax = undefined;
      } else if (b.type === 'NextFileHasLongPath') {
        const raw = data.subarray(0, data.includes(0) ? data.indexOf(0) : data.length);
        this.longPath = { text: raw.toString('utf8'), lossy: !isUtf8(raw) };
      }
    }
  }
}

interface PathState {
  files: Set<string>;
  /** Every folder the files imply ("a" and "a/b" for "a/b/c"). */
  folders: Set<string>;
}

/** Checks one entry; returns its path inside the top folder, or undefined for a folder entry. */
function checkEntry(
  entry: { path: string; type: string; size: number },
  result: TarContents,
  paths: PathState,
  maxFileBytes: number,
  bad: (why: string) => ChartArchiveError,
): string | undefined {
  const raw = entry.path;
  // Go refuses PAX records holding NUL; a file system cuts the name there.
  if (raw.includes('\0')) throw bad(`${JSON.stringify(raw)} holds a NUL character`);
  // Helm accepts archives made on Windows, whose paths use "\\".
  const path = raw.includes('\\') ? raw.replaceAll('\\', '/') : raw;
  if (path.startsWith('/') || /^[a-zA-Z]:\//.test(path)) throw bad(`${JSON.stringify(raw)} is an absolute path`);
  if (path.split('/').includes('..')) throw bad(`${JSON.stringify(raw)} points outside the chart folder`);
  // Helm skips folder entries.
  if (entry.type === 'Directory') return undefined;
  if (!FILE_TYPES.has(entry.type)) {
    const what = entry.type === 'SymbolicLink' ? 'a symbolic link' : entry.type === 'Link' ? 'a hard link' : `a ${entry.type} entry`;
    throw bad(`${JSON.stringify(raw)} is ${what}; chart archives hold regular files only`);
  }
  // As Helm reads it: the first segment is the chart folder, the rest is cleaned.
  const slash = path.indexOf('/');
  const top = slash < 0 ? path : path.slice(0, slash);
  const inner = slash < 0 ? '' : path.slice(slash + 1);
  if (inner.startsWith('/')) throw bad(`${JSON.stringify(raw)} is an absolute path`);
  const rel = posix.normalize(inner).replace(/\/+$/, '');
  if (top === '' || top === '.' || rel === '' || rel === '.') throw bad(`${JSON.stringify(raw)} is not inside a chart folder`);
  if (result.top === '') result.top = top;
  else if (result.top !== top) throw bad(`has more than one top-level folder (${JSON.stringify(result.top)} and ${JSON.stringify(top)})`);
  if (paths.files.has(rel)) throw bad(`holds ${JSON.stringify(raw)} twice`);
  // "x" as a file and "x/y": no folder can hold both, and unpacking would fail half-way.
  if (paths.folders.has(rel)) throw bad(`${JSON.stringify(raw)} is a file, and a folder of other entries`);
  for (let at = rel.indexOf('/'); at >= 0; at = rel.indexOf('/', at + 1)) {
    const folder = rel.slice(0, at);
    if (paths.files.has(folder)) throw bad(`${JSON.stringify(raw)} is inside ${JSON.stringify(`${top}/${folder}`)}, which is a file`);
    paths.folders.add(folder);
  }
  paths.files.add(rel);
  if (entry.size > maxFileBytes) throw bad(`${JSON.stringify(raw)} is larger than ${maxFileBytes} bytes, more than Helm loads`);
  result.entries.push(`${top}/${rel}`);
  return rel;
}

/** The raw bytes of the input, after checking they start like gzip. */
async function openInput(input: string | Uint8Array, label: string, maxBytes: number): Promise<Readable> {
  if (typeof input !== 'string') {
    checkGzipMagic(input.subarray(0, 3), label);
    return Readable.from([Buffer.from(input.buffer, input.byteOffset, input.byteLength)]);
  }
  const fh = await open(input, 'r').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EISDIR' ? folderError(input) : readError(input, err);
  });
  try {
    const info = await fh.stat();
    if (info.isDirectory()) throw folderError(input);
    if (info.isFile() && info.size > maxBytes) {
      throw new ChartArchiveError(`${label}: is ${info.size} bytes, larger than the ${maxBytes}-byte limit`, {
        hint: 'a chart archive is at most 100 MiB; check that this is the right file',
      });
    }
    const head = Buffer.alloc(3);
    const { bytesRead } = await fh.read(head, 0, 3, 0);
    checkGzipMagic(head.subarray(0, bytesRead), label);
  } catch (err) {
    await fh.close();
    throw err instanceof ChartprovError ? err : readError(input, err);
  }
  // The same open file: a rename over the path meanwhile cannot swap the bytes.
  return fh.createReadStream({ start: 0 });
}

function checkGzipMagic(head: Uint8Array, label: string): void {
  if (head.length < 3 || head[0] !== 0x1f || head[1] !== 0x8b || head[2] !== 0x08) {
    throw new NotAChartError(`${label} is not a chart archive (not gzip-compressed)`, {
      hint: 'pass a .tgz made by chartprov package or helm package',
    });
  }
}

function folderError(path: string): NotAChartError {
  return new NotAChartError(`${shown(path)} is a folder, not a chart archive`, {
    hint: `${shown(path)} is a folder; package it first (chartprov package ${shown(path)})`,
  });
}

/** A file-system error while reading the archive, as a coded error. */
function readError(path: string, err: unknown): ChartprovError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new FileNotFoundError(path, 'chart archive', { cause: err });
  return new FileReadError(path, 'chart archive', { cause: err });
}
