/**
 * Hostile .prov files: two signatures or two messages, text outside the
 * signed block, dash-escaping tricks, lying headers, YAML bombs in the signed
 * metadata, and sizes past the limit. Built from Helm's own golden provs, or
 * signed afresh through the context the test hands in.
 */
import { manyAnchors, laughs } from './yaml-bombs.js';

/** What the prov generators start from: Helm's own golden provs and keys to sign new ones. */
export interface ProvContext {
  /** Helm 3's golden .prov for hello-world-0.1.0.tgz (CRC24, final newline). */
  helm3: string;
  /** Helm 4's golden .prov for the same chart (no CRC24, no final newline). */
  helm4: string;
  /** The text Helm signs for that chart. */
  message: string;
  /** Clearsigns `text` with each key (several keys: several signature packets in one block). */
  sign: (text: string, who: Array<'john' | 'jane'>) => Promise<string>;
}

export interface HostileProv {
  id: string;
  what: string;
  build: (ctx: ProvContext) => string | Buffer | Promise<string | Buffer>;
  /** What `verify` and `attach --keyring` say: a code, or 'ok' where Helm accepts it too and it is safe. */
  code: string;
  /** What `helm verify` (Helm 4) does with it, measured: chartprov is stricter where Helm reads past the signed block. */
  helm: 'accepts' | 'refuses';
}

/** Replaces the signed text of a clearsigned prov, keeping its (now wrong) signature. */
export function withSignedText(prov: string, text: string): string {
  return prov.replace(
    /(Hash: SHA512\n\n)[\s\S]*?\n(-----BEGIN PGP SIGNATURE-----)/,
    (_m, head: string, sig: string) => `${head}${text}\n${sig}`,
  );
}

/** "\n...\nfiles: …" of a provenance message. */
const filesPart = (message: string): string => message.slice(message.indexOf('\n...\n'));

/** Lines a signed message may hold, dash-escaped by the signer: armor look-alikes among them. */
const ARMOR_LOOKALIKES = ['-----BEGIN PGP SIGNATURE-----', '-----END PGP SIGNATURE-----', '-----BEGIN PGP SIGNED MESSAGE-----', '--'];

export const HOSTILE_PROVS: HostileProv[] = [
  {
    id: 'two-signatures',
    what: 'one signature block holding two signature packets (John and Jane)',
    build: (c) => c.sign(c.message, ['john', 'jane']),
    code: 'ok',
    helm: 'accepts',
  },
  {
    id: 'two-messages',
    what: "two signed messages in one file (Helm 3's prov, then Helm 4's)",
    build: (c) => `${c.helm3}\n${c.helm4}`,
    code: 'PROV_INVALID',
    helm: 'accepts',
  },
  {
    id: 'text-after',
    what: 'unsigned "files:" map naming another digest after the signature',
    build: (c) => `${c.helm3}\nfiles:\n  hello-world-0.1.0.tgz: sha256:${'0'.repeat(64)}\n`,
    code: 'PROV_INVALID',
    helm: 'accepts',
  },
  {
    id: 'text-before',
    what: 'unsigned chart metadata before the signed message',
    build: (c) => `apiVersion: v2\nname: evil\nversion: 6.6.6\n\n${c.helm3}`,
    code: 'PROV_INVALID',
    helm: 'accepts',
  },
  {
    id: 'escaped-armor-lines',
    what: 'signed metadata holding armor lines at column 0 (escaped to "- -----BEGIN PGP SIGNATURE-----")',
    // Flow-mapping keys may start a line, so the signed text holds the armor lines themselves.
    build: (c) =>
      c.sign(
        `{apiVersion: v2, name: hello-world, version: 0.1.0,\n${ARMOR_LOOKALIKES.map((k, i) => `${k}: x${i}`).join(',\n')}}\n${filesPart(c.message)}`,
        ['john'],
      ),
    code: 'ok',
    helm: 'accepts',
  },
  {
    id: 'unescaped-armor',
    what: 'an unescaped "-----BEGIN PGP SIGNATURE-----" block at the start of the signed text',
    build: (c) =>
      c.helm3.replace('Hash: SHA512\n\n', 'Hash: SHA512\n\n-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n'),
    code: 'PROV_INVALID',
    helm: 'refuses',
  },
  {
    id: 'all-lines-escaped',
    what: 'every signed line dash-escaped ("- apiVersion: v2"), which cleartext readers undo',
    build: (c) => {
      const [head, rest] = c.helm3.split('Hash: SHA512\n\n') as [string, string];
      const at = rest.indexOf('-----BEGIN PGP SIGNATURE-----');
      const escaped = rest.slice(0, at).replace(/^(?=.)/gm, '- ');
      return `${head}Hash: SHA512\n\n${escaped}${rest.slice(at)}`;
    },
    code: 'ok',
    helm: 'accepts',
  },
  {
    id: 'dash-not-escaped',
    what: 'a signed line starting with "-" but not "- " ("-name: evil")',
    build: (c) => withSignedText(c.helm3, c.message.replace('name: hello-world', '-name: evil\nname: hello-world').replace(/\n$/, '')),
    code: 'PROV_INVALID',
    helm: 'refuses',
  },
  {
    id: 'trailing-whitespace',
    what: 'trailing spaces and tabs added to every signed line (not part of a cleartext signature)',
    build: (c) => {
      const [head, rest] = c.helm3.split('Hash: SHA512\n\n') as [string, string];
      const at = rest.indexOf('-----BEGIN PGP SIGNATURE-----');
      return `${head}Hash: SHA512\n\n${rest.slice(0, at).replace(/\n/g, ' \t \n')}${rest.slice(at)}`;
    },
    code: 'ok',
    helm: 'accepts',
  },
  {
    id: 'hash-header-lie',
    what: 'armor header "Hash: SHA256" over a SHA-512 signature',
    build: (c) => c.helm3.replace('Hash: SHA512', 'Hash: SHA256'),
    code: 'PROV_INVALID',
    // Helm takes the hash from the signature packet and ignores the header.
    helm: 'accepts',
  },
  {
    id: 'yaml-many-aliases',
    what: '5,000 YAML anchors, each aliased once, in the signed metadata (quadratic for a per-alias document scan)',
    build: (c) =>
      withSignedText(c.helm3, c.message.replace('name: hello-world', `name: hello-world\n${manyAnchors(5_000)}`).replace(/\n$/, '')),
    code: 'PROV_INVALID',
    helm: 'refuses',
  },
  {
    id: 'yaml-alias-exhaustion',
    what: 'one anchor aliased 60 times in the signed metadata',
    build: (c) =>
      withSignedText(
        c.helm3,
        c.message.replace('name: hello-world', `name: hello-world\nd: &d v\nk: [${Array(60).fill('*d').join(', ')}]`).replace(/\n$/, ''),
      ),
    code: 'PROV_INVALID',
    helm: 'refuses',
  },
  {
    id: 'yaml-billion-laughs',
    what: 'a "billion laughs" in the signed metadata',
    build: (c) => withSignedText(c.helm3, c.message.replace('name: hello-world\n', `name: hello-world\n${laughs()}`).replace(/\n$/, '')),
    code: 'PROV_INVALID',
    helm: 'refuses',
  },
  {
    id: 'yaml-unknown-alias',
    what: 'an alias to no anchor in the signed metadata',
    build: (c) => withSignedText(c.helm3, c.message.replace('name: hello-world', 'name: *nowhere').replace(/\n$/, '')),
    code: 'PROV_INVALID',
    helm: 'refuses',
  },
  {
    id: 'yaml-many-keys',
    what: '80,000 keys in the signed metadata (0.8 MiB)',
    build: (c) =>
      withSignedText(
        c.helm3,
        c.message
          .replace('name: hello-world', `name: hello-world\n${Array.from({ length: 80_000 }, (_, i) => `k${i}: v`).join('\n')}`)
          .replace(/\n$/, ''),
      ),
    code: 'PROV_INVALID',
    helm: 'refuses',
  },
  {
    id: 'just-under-limit',
    what: 'a 1 MiB prov (just under the limit) of YAML nested 100,000 deep',
    build: (c) =>
      withSignedText(
        c.helm3,
        c.message.replace('name: hello-world', `name: hello-world\nx: ${'['.repeat(100_000)}${']'.repeat(100_000)}`).replace(/\n$/, ''),
      ).padEnd(1024 * 1024 - 64, ' '),
    code: 'PROV_INVALID',
    helm: 'refuses',
  },
];

/** A prov larger than any: the file is sparse, so making it costs nothing and reading it all would. */
export const HUGE_PROV_BYTES = 4 * 1024 ** 3;
