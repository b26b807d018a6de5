/**
 * A tar writer that writes what it is told, byte by byte, for the hostile
 * corpus. Well-behaved writers (node-tar, GNU tar, Go's archive/tar) refuse
 * to create most hostile entries — they strip `../` and a leading `/`, never
 * write a symlink whose target leaves the archive unless asked, cannot write
 * a duplicate path in one call, a size field that lies about the body, a
 * name that is not UTF-8 or a PAX record holding NUL. A reader is only
 * tested against those if the test can make them.
 */
import { createGzip, gzipSync } from 'node:zlib';

export const BLOCK = 512;

/** One tar entry as the hostile writer sees it: every field may lie. */
export interface TarEntry {
  /** Raw bytes allowed, so names need not be UTF-8. */
  name: string | Buffer;
  /** Typeflag: '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' folder, '6' FIFO, 'S' GNU sparse, 'x' PAX, 'L' GNU long name. */
  type?: string;
  body?: Buffer | string;
  /** The size field, when it must differ from the body (a header that lies). */
  size?: number;
  linkname?: string;
  mode?: number;
  /** Bytes written into the header at an offset (e.g. a GNU sparse map); the checksum is computed after. */
  patch?: Array<[offset: number, bytes: Buffer]>;
}

/**
 * A size field: octal while it fits 11 digits (8 GiB), else GNU base-256
 * (0x80 then big-endian), which every reader we care about decodes.
 */
function sizeField(size: number): Buffer {
  const field = Buffer.alloc(12);
  if (size < 8 ** 11) {
    field.write(`${size.toString(8).padStart(11, '0')}\0`, 'ascii');
    return field;
  }
  field[0] = 0x80;
  let n = BigInt(size);
  for (let i = 11; i > 0; i--) {
    field[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return field;
}

export function tarHeader(e: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  const name = typeof e.name === 'string' ? Buffer.from(e.name) : e.name;
  if (name.length > 100) throw new Error(`tar name longer than 100 bytes: use gnuLongName (${name.length})`);
  name.copy(h, 0);
  h.write(`${(e.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  const bodyLength = e.body === undefined ? 0 : Buffer.byteLength(e.body);
  sizeField(e.size ?? bodyLength).copy(h, 124);
  h.write('14000000000\0', 136, 'ascii'); // mtime 1980-ish, fixed
  h.write(e.type ?? '0', 156, 'ascii');
  if (e.linkname) h.write(e.linkname, 157, 100);
  h.write('ustar\u000000', 257, 'ascii');
  for (const [offset, bytes] of e.patch ?? []) bytes.copy(h, offset);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** Header, body and padding of each entry, then (unless `end: false`) the two zero blocks. */
export function tarBytes(entries: TarEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e));
    if (e.body !== undefined) {
      const body = Buffer.from(e.body);
      parts.push(body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
    }
  }
  if (opts.end !== false) parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

export const tgz = (entries: TarEntry[], opts: { end?: boolean } = {}): Buffer => gzipSync(tarBytes(entries, opts));

/** A PAX extended header (applies to the next entry): "<len> key=value\n" records. */
export function paxHeader(records: Record<string, string>): TarEntry {
  let body = '';
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
    body += `${len}${rest}`;
  }
  return { name: 'PaxHeaders/x', type: 'x', body };
}

/** A GNU long-name entry: the next entry's real name, past the 100-byte field. */
export const gnuLongName = (name: string): TarEntry => ({ name: '././@LongLink', type: 'L', body: `${name}\0` });

export const CHART_YAML = 'apiVersion: v2\nname: evil\nversion: 1.0.0\n';
export const chartYamlEntry = (text = CHART_YAML): TarEntry => ({ name: 'evil/Chart.yaml', body: text });
export const file = (name: string | Buffer, body = 'x\n'): TarEntry => ({ name, body });

/**
 * A gzip'd tar of `count` files of `mib` MiB of zeros each, after a valid
 * Chart.yaml, streamed through zlib so neither the test nor the bomb itself
 * ever holds the inflated bytes (300 MiB of zeros compress to ~300 KiB).
 */
export async function zeroFilesBomb(count: number, mib: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gz.on('end', resolve));
  const write = async (b: Buffer) => {
    if (!gz.write(b)) await new Promise((r) => gz.once('drain', r));
  };
  await write(tarBytes([chartYamlEntry()], { end: false }));
  const zeros = Buffer.alloc(1 << 20);
  for (let n = 0; n < count; n++) {
    await write(tarHeader({ name: `evil/files/zeros-${n}.bin`, size: mib << 20 }));
    for (let i = 0; i < mib; i++) await write(zeros);
  }
  await write(Buffer.alloc(2 * BLOCK));
  gz.end();
  await done;
  return Buffer.concat(out);
}

/** The GNU old-style sparse header ('S'): a map entry at 386 (offset, length) and the real size at 483. */
export function gnuSparse(name: string, realSize: number, stored: number): TarEntry {
  const octal = (n: number) => Buffer.from(`${n.toString(8).padStart(11, '0')}\0`, 'ascii');
  return {
    name,
    type: 'S',
    body: Buffer.alloc(stored, 0x41),
    patch: [
      [386, sizeField(realSize - stored)],
      [398, octal(stored)],
      [483, sizeField(realSize)],
    ],
  };
}
