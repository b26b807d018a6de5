import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic-write.js';
import { exportKeysFrom, generateKeysToDir, listKeys } from '../../flows/keys.js';
import type { KeyInfo } from '../../keys/index.js';
import { passphraseFromOptions } from '../passphrase.js';
import { printJson, println } from '../output.js';
import type { OutputFormat } from '../output.js';

interface GenerateFlags {
  name: string;
  email?: string;
  comment?: string;
  type: 'rsa4096' | 'rsa2048' | 'ed25519';
  passphraseFile?: string;
  /** false with --no-passphrase */
  passphrase?: boolean;
  dir: string;
  force?: boolean;
  output: OutputFormat;
}

export async function keysGenerateCommand(flags: GenerateFlags): Promise<number> {
  // Only an explicit --passphrase-file (or the env) protects the key; no prompt here.
  if (flags.passphrase === false && flags.passphraseFile) {
    throw new UsageError('--passphrase-file and --no-passphrase contradict each other', { hint: 'give one of them' });
  }
  const wanted = flags.passphrase !== false && (flags.passphraseFile || process.env.CHARTPROV_PASSPHRASE !== undefined);
  const source = wanted ? await passphraseFromOptions(flags) : undefined;
  // Asked for a passphrase and got an empty one: never silently make an unprotected key.
  if (wanted && (typeof source !== 'string' || source === '')) {
    throw new UsageError('the passphrase is empty', {
      hint: 'put the passphrase on the first line of the file, or pass --no-passphrase for an unprotected key',
    });
  }
  const passphrase = typeof source === 'string' ? source : undefined;
  const r = await generateKeysToDir({
    name: flags.name,
    email: flags.email,
    comment: flags.comment,
    type: flags.type,
    dir: flags.dir,
    force: flags.force,
    passphrase,
  });
  if (flags.output === 'json') printJson({ ...r, protected: passphrase !== undefined });
  else {
    println(`Generated ${r.type} key ${r.fingerprint}`);
    println(`  user id:  ${r.userId}`);
    println(
      `  secret:   ${r.files.secring} (also ${r.files.privateArmored})${passphrase ? ', passphrase-protected' : ', NOT passphrase-protected'}`,
    );
    println(`  public:   ${r.files.pubring} (also ${r.files.publicArmored})`);
  }
  return 0;
}

export async function keysListCommand(flags: { keyring?: string[]; secret?: boolean; output: OutputFormat }): Promise<number> {
  const keys = await listKeys({ keyrings: flags.keyring, secret: flags.secret });
  if (flags.output === 'json') printJson({ keys });
  else keys.forEach((k, i) => printKey(k, i > 0));
  return 0;
}

function printKey(k: KeyInfo, gap: boolean): void {
  if (gap) println();
  const caps = (c: { certify?: boolean; sign: boolean; encrypt: boolean }) =>
    [c.certify ? 'C' : '', c.sign ? 'S' : '', c.encrypt ? 'E' : ''].join('') || '-';
  const status = k.revoked ? ' [revoked]' : k.expired ? ` [expired ${k.expires}]` : k.expires ? ` [expires ${k.expires}]` : '';
  println(`${k.secret === 'none' ? 'pub' : 'sec'}  ${k.algorithm} ${caps(k.capabilities)}  created ${k.created.slice(0, 10)}${status}`);
  println(`     ${k.fingerprint}`);
  for (const uid of k.userIds) println(`uid  ${uid}`);
  for (const s of k.subkeys)
    println(`sub  ${s.algorithm} ${caps(s.capabilities)}  ${s.fingerprint}${s.expires ? ` [expires ${s.expires}]` : ''}`);
  if (k.secret === 'agent') println('     (secret key held by gpg-agent: sign with --sign-with gpg)');
  if (!k.helm3Compatible) println('     (Helm 3 cannot read this key type; Helm 4 can)');
}

export async function keysExportCommand(
  name: string | undefined,
  flags: { keyring?: string[]; secret?: boolean; armor?: boolean; file?: string },
): Promise<number> {
  const data = await exportKeysFrom({ keyrings: flags.keyring, name, secret: flags.secret, armor: flags.armor });
  if (flags.file) await writeFileAtomic(flags.file, data, flags.secret ? 0o600 : 0o644);
  else process.stdout.write(data);
  return 0;
}
