/**
 * `oci://` references as Helm takes them (helm `pkg/registry/reference.go`
 * over oras-go's ParseReference, with distribution's stricter repository
 * grammar). Errors say what is wrong in one line, so a user who typed
 * `oci://Host:50OO/Charts/` learns which part to fix.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ReferenceInvalidError } from '../errors.js';
import { isDigest } from './digest.js';

export interface OciReference {
  /** host[:port] as written; an IPv6 address keeps its brackets. */
  registry: string;
  /** Empty only when parsed with `allowNoPath` (a push target such as `oci://host`). */
  repository: string;
  /** Registry form: a `+` typed in a tag is already `_`, as Helm does. */
  tag?: string;
  digest?: string;
}

export interface ParseReferenceOptions {
  /** Refuse a reference without `oci://` (the CLI's push/pull arguments, like Helm's). */
  requireScheme?: boolean;
  /**
   * Accept `oci://host` with no path: `helm push x.tgz oci://host` pushes to
   * repository `x` (its path.Join needs no base path).
   */
  allowNoPath?: boolean;
}

const SCHEME = 'oci://';
const ANY_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
// distribution/reference: lowercase alphanumerics, single separators between them.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
// distribution's NameTotalLengthMax, counted over registry + "/" + repository.
const NAME_MAX = 255;

export function parseOciReference(input: string, opts: ParseReferenceOptions = {}): OciReference {
  const fail = (what: string) => new ReferenceInvalidError(`invalid reference ${quote(withoutUserinfo(input))}: ${what}`);
  if (input === '') throw fail('it is empty');
  if (/\s/.test(input)) throw fail('it contains whitespace');
  let rest = input;
  if (rest.startsWith(SCHEME)) rest = rest.slice(SCHEME.length);
  else {
    const scheme = ANY_SCHEME.exec(rest)?.[1];
    if (scheme !== undefined) throw fail(`the scheme is ${scheme}://, not oci://`);
    if (opts.requireScheme) throw fail('missing the oci:// scheme (write oci://HOST/PATH/NAME)');
  }
  if (rest === '' || rest.startsWith('/')) throw fail('no registry host after oci://');
  if (USERINFO_AT.test(rest)) throw fail('it holds credentials (user@host); log in with chartprov registry login instead');

  const slash = rest.indexOf('/');
  const hostPart = slash === -1 ? rest : rest.slice(0, slash);
  const registry = checkHost(hostPart, fail);
  let path = slash === -1 ? '' : rest.slice(slash + 1);

  let digest: string | undefined;
  const at = path.indexOf('@');
  if (at !== -1) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    checkDigest(digest, fail);
  }
  let tag: string | undefined;
  const colon = path.indexOf(':');
  if (colon !== -1) {
    // Tags cannot hold '+'; Helm turns a SemVer build suffix into '_' (helm#10166).
    tag = path.slice(colon + 1).replaceAll('+', '_');
    path = path.slice(0, colon);
    checkTag(tag, fail);
  }
  // helm push joins the chart name with path.Join, which drops a trailing '/'.
  if (path.length > 1 && path.endsWith('/') && tag === undefined && digest === undefined) path = path.slice(0, -1);

  if (path === '') {
    if (!opts.allowNoPath || tag !== undefined || digest !== undefined) {
      throw fail(`no repository path after the host (write oci://${registry}/PATH/NAME)`);
    }
  } else {
    checkRepository(path, fail);
  }
  if (registry.length + 1 + path.length > NAME_MAX) throw fail(`the name is longer than ${NAME_MAX} characters`);

  const ref: OciReference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

export function formatOciReference(ref: OciReference): string {
  let out = `${SCHEME}${ref.registry}`;
  if (ref.repository) out += `/${ref.repository}`;
  if (ref.tag) out += `:${ref.tag}`;
  if (ref.digest) out += `@${ref.digest}`;
  return out;
}

/**
 * The HOST of `registry login HOST`: host, host:port or [v6]:port. A pasted
 * `oci://host` or `https://host/` is accepted; a repository path is not, since
 * credentials are kept per host and Helm would store them under the bare host.
 */
export function parseRegistryHost(input: string): string {
  const fail = (what: string) =>
    new ReferenceInvalidError(`invalid registry host ${quote(withoutUserinfo(input, true))}: ${what}`, { hint: HOST_HINT });
  if (input === '') throw fail('it is empty');
  if (/\s/.test(input)) throw fail('it contains whitespace');
  let rest = input;
  const scheme = ANY_SCHEME.exec(rest)?.[1];
  if (scheme !== undefined) {
    if (!/^(?:oci|https?)$/i.test(scheme)) throw fail(`the scheme is ${scheme}://; give just the host`);
    rest = rest.slice(scheme.length + 3);
  }
  rest = rest.replace(/\/+$/, '');
  if (rest === '') throw fail('no host');
  if (rest.includes('@')) throw fail('it holds credentials (user@host); give the user with -u and the password on stdin');
  const slash = rest.indexOf('/');
  if (slash !== -1) throw fail(`give the host only, without a path (${quote(withoutUserinfo(rest.slice(0, slash)))})`);
  return checkHost(rest, fail);
}

const HOST_HINT = 'give the registry host, e.g. localhost:5000, registry.example.com or [::1]:5000';

/** The repository a chart lands in: `helm push x.tgz oci://host/helm-charts` → `helm-charts/x`. */
export function chartRepository(baseRef: OciReference, chartName: string): string {
  if (baseRef.tag !== undefined || baseRef.digest !== undefined) {
    throw new ReferenceInvalidError(
      `${formatOciReference(baseRef)} has a ${baseRef.tag !== undefined ? 'tag' : 'digest'}; a push target is a path only`,
      { hint: 'the chart name and version are added by the push: write oci://HOST/PATH' },
    );
  }
  if (!PATH_COMPONENT.test(chartName)) {
    throw new ReferenceInvalidError(
      PATH_COMPONENT.test(chartName.toLowerCase())
        ? `chart name ${quote(chartName)} has upper-case letters, which registry repository names cannot hold`
        : `chart name ${quote(chartName)} cannot be a registry repository name`,
      { hint: 'OCI registries need chart names of lowercase letters, digits and single . _ - between them' },
    );
  }
  return baseRef.repository ? `${baseRef.repository}/${chartName}` : chartName;
}

type Fail = (what: string) => ReferenceInvalidError;

function checkHost(host: string, fail: Fail): string {
  if (host === '') throw fail('no registry host');
  if (host.includes('@')) throw fail('it holds credentials (user@host); log in with chartprov registry login instead');
  let name: string;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close === -1) throw fail(`the IPv6 address in ${quote(host)} has no closing ]`);
    name = host.slice(1, close);
    if (!isIPv6(name) || name.includes('%')) throw fail(`${quote(name)} is not an IPv6 address`);
    const after = host.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw fail(`unexpected ${quote(after)} after the IPv6 address`);
      port = after.slice(1);
    }
  } else {
    const parts = host.split(':');
    if (parts.length > 2) throw fail(`${quote(host)} has several ':'; write an IPv6 address in brackets, e.g. [::1]:5000`);
    name = parts[0]!;
    port = parts[1];
    if (name === '') throw fail('no host name before the port');
    if (!isIPv4(name) && !name.split('.').every((label) => DOMAIN_LABEL.test(label))) {
      throw fail(`${quote(name)} is not a valid host name`);
    }
  }
  if (port !== undefined) checkPort(port, fail);
  return host;
}

function checkPort(port: string, fail: Fail): void {
  if (port === '') throw fail("empty port after ':'");
  if (!/^[0-9]+$/.test(port)) throw fail(`port ${quote(port)} is not a number`);
  const n = Number(port);
  if (n < 1 || n > 65535) throw fail(`port ${port} is out of range (1-65535)`);
}

function checkRepository(path: string, fail: Fail): void {
  const components = path.split('/');
  components.forEach((c, i) => {
    if (c === '') throw fail(i === components.length - 1 ? "the path ends with '/'" : "the path has an empty component ('//')");
  });
  if (path !== path.toLowerCase() && components.every((c) => PATH_COMPONENT.test(c.toLowerCase()))) {
    throw fail(`repository ${quote(path)} has upper-case letters; registries need lowercase (${quote(path.toLowerCase())})`);
  }
  const bad = components.find((c) => !PATH_COMPONENT.test(c));
  if (bad !== undefined) {
    throw fail(
      `path component ${quote(bad)} is not valid: use lowercase letters and digits, with single '.', '_', '__' or '-' between them`,
    );
  }
}

function checkTag(tag: string, fail: Fail): void {
  if (tag === '') throw fail("empty tag after ':'");
  if (!TAG.test(tag)) {
    throw fail(`tag ${quote(tag)} is not valid: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'`);
  }
}

function checkDigest(digest: string, fail: Fail): void {
  if (digest === '') throw fail("empty digest after '@'");
  if (isDigest(digest)) return;
  const algorithm = digest.includes(':') ? digest.slice(0, digest.indexOf(':')) : '';
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw fail(`digest ${quote(digest)} is not sha256:HEX or sha512:HEX`);
  }
  throw fail(`digest ${quote(digest)} must be ${algorithm}: and ${algorithm === 'sha256' ? 64 : 128} lowercase hex digits`);
}

// An '@' with a '/' after it is userinfo: a digest's '@' follows the last '/', and a password may hold '/'.
const USERINFO_AT = /@.*\//;

/**
 * The input as an error may quote it: `oci://user:password@host/…` is refused
 * for holding credentials, and the message must not repeat them. `hostOnly`:
 * no digest can follow, so every '@' ends userinfo.
 */
function withoutUserinfo(input: string, hostOnly = false): string {
  const scheme = ANY_SCHEME.exec(input)?.[0] ?? '';
  const rest = input.slice(scheme.length);
  const end = USERINFO_AT.test(rest) ? rest.lastIndexOf('/') : rest.indexOf('/');
  const at = hostOnly ? rest.lastIndexOf('@') : rest.lastIndexOf('@', end === -1 ? rest.length : end);
  return at === -1 ? input : `${scheme}***${rest.slice(at)}`;
}

/** Quoted and cut short: the message stays one readable line whatever was pasted. */
function quote(s: string): string {
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s);
}
