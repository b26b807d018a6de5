/**
 * Reads a .prov: an OpenPGP cleartext-signed message (RFC 4880 §7) whose
 * signed text is Helm's two YAML documents. We parse the armor ourselves, and
 * strictly, because what Helm and openpgp.js tolerate is where attacks hide:
 * both skip text before the armor and after it, so a file could show one
 * message to a human and have another one verified. We accept exactly one
 * signed message, surrounded by whitespace only, in either of the forms Helm 3
 * (CRC24 line, no blank line before the signature) and Helm 4 (no CRC24, no
 * final newline) write.
 */
import { isScalar, parseDocument, visit } from 'yaml';
import type { ChartMetadata } from '../chart/metadata-types.js';
import { MAX_METADATA_YAML_TOKENS, yamlShapeProblem } from '../chart/yaml-shape.js';
import { ProvenanceInvalidError } from '../errors.js';
import { DOCUMENT_SEPARATOR } from './message.js';

export interface ParsedProvenance {
  /** The text the signature covers: dash-escaping undone, trailing whitespace removed, "\n" line ends. */
  signedText: string;
  /** The first YAML document (chart metadata), as signed. */
  metadataYaml: string;
  metadata: Partial<ChartMetadata> & Record<string, unknown>;
  /** Archive basename → `sha256:<hex>`. */
  files: Record<string, string>;
  /** The signature block, re-armored without headers. */
  signatureArmored: string;
  /** The signature packets, decoded. */
  signatureBytes: Uint8Array;
  /** From the `Hash:` armor header, e.g. 'SHA512'. */
  hashAlgorithm: string;
}

export interface ParseProvenanceOptions {
  /** Larger inputs are refused before any parsing; default 1 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_PROV_BYTES = 1024 * 1024;

const BEGIN_MESSAGE = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';
const END_SIGNATURE = '-----END PGP SIGNATURE-----';
/** Hash names RFC 4880/9580 define for the armor header. */
const HASH_NAMES = new Set(['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'SHA3-256', 'SHA3-512']);
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HINT = 'the .prov is damaged or was not made by helm or chartprov; sign the chart again';

function invalid(message: string, hint = HINT): ProvenanceInvalidError {
  return new ProvenanceInvalidError(message, { hint });
}

/** Trailing spaces, tabs and CRs are not part of a cleartext signature (RFC 4880 §7.1). */
const stripTrailing = (line: string): string => line.replace(/[ \t\r]+$/, '');

export function parseProvenance(text: string, opts: ParseProvenanceOptions = {}): ParsedProvenance {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_PROV_BYTES;
  if (typeof text !== 'string') throw invalid('provenance must be text');
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw invalid(`provenance is larger than ${maxBytes} bytes`, 'a .prov is a few KiB; check that the right file was given');
  }
  const lines = text.split('\n');
  let i = 0;
  const eof = (): boolean => i >= lines.length;
  const line = (): string => stripTrailing(lines[i]!);

  // Nothing but whitespace may come before the armor.
  while (!eof() && line().trim() === '') i++;
  if (eof()) throw invalid('provenance is empty');
  if (line() !== BEGIN_MESSAGE) {
    throw text.includes(BEGIN_MESSAGE)
      ? invalid(`text before "${BEGIN_MESSAGE}" (line ${i + 1})`, 'a .prov must start with the signed message; refusing extra text')
      : invalid('not a clearsigned message (no "-----BEGIN PGP SIGNED MESSAGE-----")');
  }
  i++;

  const hashAlgorithm = readHashHeader(
    lines,
    () => i,
    (n) => (i = n),
  );

  // The signed text, up to the signature armor line.
  const signed: string[] = [];
  for (;;) {
    if (eof()) throw invalid('truncated: no signature after the signed text');
    const raw = lines[i]!.replace(/\r$/, '');
    if (stripTrailing(raw) === BEGIN_SIGNATURE) break;
    if (raw.startsWith('- ')) {
      signed.push(stripTrailing(raw.slice(2)));
    } else if (raw.startsWith('-')) {
      // Every line starting with '-' must be dash-escaped; anything else is
      // armor where there should be text (e.g. a second signed message).
      throw invalid(`line ${i + 1} starts with "-" but is not dash-escaped`);
    } else {
      signed.push(stripTrailing(raw));
    }
    i++;
  }
  i++;
  // The line break before the signature armor belongs to the armor.
  const signedText = signed.join('\n');

  const signature = readSignatureBlock(
    lines,
    () => i,
    (n) => (i = n),
  );

  for (; i < lines.length; i++) {
    if (lines[i]!.trim() !== '') {
      throw invalid(`text after "${END_SIGNATURE}" (line ${i + 1})`, 'a .prov must end with its signature; refusing extra text');
    }
  }

  const { metadataYaml, metadata, files } = parseMessageBlock(signedText);
  return { signedText, metadataYaml, metadata, files, hashAlgorithm, ...signature };
}

/** The armor headers of the signed message: exactly one `Hash:` header naming one algorithm. */
function readHashHeader(lines: string[], at: () => number, seek: (n: number) => void): string {
  let hash: string | undefined;
  let i = at();
  for (; ; i++) {
    if (i >= lines.length) throw invalid('truncated: armor headers never end');
    const header = stripTrailing(lines[i]!);
    if (header === '') break;
    const m = /^Hash: *(.+)$/.exec(header);
    if (!m) throw invalid(`unexpected armor header "${header.slice(0, 40)}" (only "Hash:" is allowed)`);
    if (hash !== undefined) throw invalid('more than one "Hash:" armor header');
    const name = m[1]!.trim().toUpperCase();
    if (!HASH_NAMES.has(name)) throw invalid(`unsupported "Hash: ${m[1]!.trim().slice(0, 40)}" armor header`);
    hash = name;
  }
  seek(i + 1);
  if (hash === undefined) throw invalid('no "Hash:" armor header', 'helm and gpg always write one; the .prov was altered');
  return hash;
}

function readSignatureBlock(
  lines: string[],
  at: () => number,
  seek: (n: number) => void,
): { signatureArmored: string; signatureBytes: Uint8Array } {
  let i = at();
  const next = (): string => {
    if (i >= lines.length) throw invalid('truncated: the signature block has no end line');
    return stripTrailing(lines[i++]!);
  };
  // Optional headers (Version:, Comment:), then a blank line.
  for (let l = next(); l !== ''; l = next()) {
    if (!/^[A-Za-z][A-Za-z0-9-]*: /.test(l)) throw invalid('malformed signature armor (headers)');
  }
  const body: string[] = [];
  let crc: string | undefined;
  for (;;) {
    const l = next();
    if (l === END_SIGNATURE) break;
    if (crc !== undefined) throw invalid('malformed signature armor (data after the checksum)');
    if (/^=[A-Za-z0-9+/]{4}$/.test(l)) crc = l.slice(1);
    else if (/^[A-Za-z0-9+/]+={0,2}$/.test(l)) body.push(l);
    else throw invalid('malformed signature armor (not base64)');
  }
  seek(i);
  const b64 = body.join('');
  if (b64.length === 0 || b64.length % 4 !== 0 || /=[^=]/.test(b64)) throw invalid('malformed signature armor (base64 length)');
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  if (crc !== undefined && crc24(bytes) !== crc) throw invalid('signature armor checksum (CRC24) does not match');
  const signatureArmored = [BEGIN_SIGNATURE, '', ...body, ...(crc ? [`=${crc}`] : []), END_SIGNATURE, ''].join('\n');
  return { signatureArmored, signatureBytes: bytes };
}

/** The armor checksum of RFC 4880 §6.1, base64 of 3 bytes. */
function crc24(data: Uint8Array): string {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let k = 0; k < 8; k++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  crc &= 0xffffff;
  return Buffer.from([crc >> 16, (crc >> 8) & 0xff, crc & 0xff]).toString('base64');
}

/**
 * Helm never writes anchors or aliases into a .prov. A few are tolerated (a
 * signer may have written the message by hand); more are refused before any
 * is resolved, because the yaml package looks each alias up by scanning the
 * document, so a 1 MiB prov of aliases would take minutes before its
 * signature is even read.
 */
const MAX_ALIASES = 100;

function parseYaml(source: string, what: string): unknown {
  const problem = yamlShapeProblem(source, { tokens: MAX_METADATA_YAML_TOKENS });
  if (problem !== undefined) throw invalid(`${what} is not valid YAML: ${problem}`);
  // The yaml package's own uniqueKeys check compares each key with every
  // other (a prov of 50,000 keys: minutes); duplicateKey does it in one pass.
  const doc = parseDocument(source, { prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw invalid(`${what} is not valid YAML: ${e.message.split('\n')[0]}`);
  }
  let aliases = 0;
  let duplicate: string | undefined;
  visit(doc, {
    Alias() {
      if (++aliases > MAX_ALIASES) return visit.BREAK;
    },
    Map(_key, map) {
      duplicate = duplicateKey(map.items.map((pair) => pair.key));
      if (duplicate !== undefined) return visit.BREAK;
    },
  });
  if (aliases > MAX_ALIASES) throw invalid(`${what} uses more than ${MAX_ALIASES} YAML aliases; Helm writes none`);
  if (duplicate !== undefined) throw invalid(`${what} is not valid YAML: the key ${JSON.stringify(duplicate.slice(0, 80))} appears twice`);
  try {
    return doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    // An alias to no anchor, or one expanding too far ("resource exhaustion").
    throw invalid(`${what} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The first scalar key of a mapping seen twice (values compared as the text they hold). */
function duplicateKey(keys: unknown[]): string | undefined {
  const seen = new Set<string>();
  for (const key of keys) {
    if (!isScalar(key)) continue;
    const text = String(key.value);
    if (seen.has(text)) return text;
    seen.add(text);
  }
  return undefined;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);

/**
 * Splits the signed text as Helm's ParseMessageBlock does (on "\n...\n"),
 * but insists on exactly one separator and a well-formed sums document.
 */
export function parseMessageBlock(signedText: string): Pick<ParsedProvenance, 'metadataYaml' | 'metadata' | 'files'> {
  const at = signedText.indexOf(DOCUMENT_SEPARATOR);
  if (at < 0) throw invalid('no "..." line between the chart metadata and the files map');
  if (signedText.indexOf(DOCUMENT_SEPARATOR, at + 1) >= 0) throw invalid('more than one "..." document separator');
  const metadataYaml = signedText.slice(0, at);
  const sumsYaml = signedText.slice(at + DOCUMENT_SEPARATOR.length);

  const metadata = parseYaml(metadataYaml, 'chart metadata');
  if (!isPlainObject(metadata)) throw invalid('chart metadata is not a YAML mapping');

  const sums = parseYaml(sumsYaml, 'files map');
  if (!isPlainObject(sums)) throw invalid('no files map after the "..." line');
  for (const key of Object.keys(sums)) {
    // Helm's SumCollection has files and images; nothing else belongs here.
    if (key !== 'files' && key !== 'images') throw invalid(`unexpected "${key.slice(0, 40)}" next to the files map`);
  }
  const rawFiles = sums['files'];
  if (!isPlainObject(rawFiles) || Object.keys(rawFiles).length === 0) throw invalid('the files map is missing or empty');
  const files: Record<string, string> = {};
  for (const [name, digest] of Object.entries(rawFiles)) {
    if (typeof digest !== 'string' || !DIGEST.test(digest)) {
      throw invalid(`bad digest for "${name.slice(0, 80)}": expected sha256:<64 lowercase hex>`);
    }
    Object.defineProperty(files, name, { value: digest, enumerable: true, writable: true, configurable: true });
  }
  return { metadataYaml, metadata: metadata as ParsedProvenance['metadata'], files };
}
