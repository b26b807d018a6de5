/**
 * Checks on every name that becomes part of a path. The HTTP layer validates
 * first; these run again so that no caller mistake can turn a repository
 * name, tag or upload id into a path outside the storage root.
 */
import { isDigest } from '../../oci/digest.js';
import { DigestInvalidError, ManifestInvalidError, NameInvalidError, TagInvalidError } from './errors.js';

// distribution-spec's grammar for <name>: lower-case components joined by '/';
// a component never starts with '.' or '_', so neither temp files nor the
// storage's own `_uploads`/`_manifests`/`_layers` folders can be named.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const UPLOAD_ID = /^[A-Za-z0-9-]{8,64}$/;
// Printable ASCII without spaces except after ';' (parameters), at most 255.
const MEDIA_TYPE = /^[\x21-\x7e](?:[\x20-\x7e]{0,254})$/;

export function checkRepoName(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new NameInvalidError(String(name), 'empty');
  if (name.length > 255) throw new NameInvalidError(name, 'longer than 255 characters');
  if (name.includes('\\') || name.includes('\0')) throw new NameInvalidError(name, 'backslash or NUL');
  if (name.startsWith('/')) throw new NameInvalidError(name, 'absolute');
  for (const part of name.split('/')) {
    if (part === '') throw new NameInvalidError(name, 'empty path component');
    if (part === '.' || part === '..') throw new NameInvalidError(name, 'relative path component');
    if (!COMPONENT.test(part))
      throw new NameInvalidError(name, `component ${JSON.stringify(part)} is not [a-z0-9] separated by . _ __ or -`);
  }
  return name;
}

export function isTag(reference: string): boolean {
  return typeof reference === 'string' && TAG.test(reference);
}

export function checkTag(tag: string): string {
  if (!isTag(tag)) throw new TagInvalidError(String(tag));
  return tag;
}

/** Only sha256 and sha512 are stored; anything else is refused before it names a path. */
export function checkDigest(digest: string): string {
  if (typeof digest !== 'string' || !isDigest(digest))
    throw new DigestInvalidError(`invalid digest ${JSON.stringify(String(digest).slice(0, 150))}`);
  return digest;
}

export function isUploadId(id: string): boolean {
  return typeof id === 'string' && UPLOAD_ID.test(id);
}

export function checkMediaType(mediaType: string): string {
  if (typeof mediaType !== 'string' || !MEDIA_TYPE.test(mediaType) || !mediaType.includes('/'))
    throw new ManifestInvalidError(`invalid media type ${JSON.stringify(String(mediaType).slice(0, 100))}`);
  return mediaType;
}
