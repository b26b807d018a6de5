/**
 * The text a .prov signs, built as Helm's messageBlock does: the metadata
 * YAML, then "\n...\n" (YAML's document-end marker, because "---" would be a
 * dash-escaped line in a clearsigned block), then `yaml.Marshal` of the sums:
 *
 *   apiVersion: v2
 *   …
 *   version: 0.1.0
 *   <blank line: the metadata ends with "\n">
 *   ...
 *   files:
 *     demo-0.1.0.tgz: sha256:<hex>
 */
import { GoYamlMarshalError, marshalGoYaml } from '../chart/go-yaml-encode.js';
import { marshalMetadata } from '../chart/metadata-encode.js';
import type { ChartMetadata } from '../chart/metadata-types.js';
import { ProvenanceInvalidError } from '../errors.js';

/** Separates the metadata document from the sums document (Helm splits on it). */
export const DOCUMENT_SEPARATOR = '\n...\n';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Accepts `<hex>` or `sha256:<hex>` (any case) and returns lowercase hex, or undefined. */
export function normalizeSha256(digest: string): string | undefined {
  const hex = (digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : digest).toLowerCase();
  return SHA256_HEX.test(hex) ? hex : undefined;
}

/** The sums document Helm appends: `files:` mapping the archive basename to its digest. */
export function marshalFileSums(fileName: string, sha256Hex: string): string {
  try {
    return marshalGoYaml({ files: { [fileName]: `sha256:${sha256Hex}` } });
  } catch (e) {
    if (!(e instanceof GoYamlMarshalError)) throw e;
    throw new ProvenanceInvalidError(`the archive name ${JSON.stringify(fileName)} ${e.message}`, {
      hint: 'rename the archive',
      cause: e,
    });
  }
}

/**
 * Exactly the text Helm signs for an archive named `fileName` (a basename)
 * whose bytes hash to `sha256Hex`.
 */
export function buildProvenanceMessage(metadata: ChartMetadata, fileName: string, sha256Hex: string): string {
  if (fileName === '' || fileName.includes('/') || fileName.includes('\\')) {
    throw new ProvenanceInvalidError(`a .prov names the archive by its basename, got "${fileName}"`, {
      hint: 'pass basename(path) of the chart archive',
    });
  }
  const hex = normalizeSha256(sha256Hex);
  if (hex === undefined) {
    throw new ProvenanceInvalidError(`not a sha256 digest: "${sha256Hex}"`, {
      hint: "pass the 64 hex digits of the archive's sha256",
    });
  }
  return marshalMetadata(metadata) + DOCUMENT_SEPARATOR + marshalFileSums(fileName, hex);
}
