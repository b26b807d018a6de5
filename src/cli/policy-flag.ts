import { UsageError } from '../errors.js';
import type { LoadedTrustPolicy } from '../flows/trust-policy.js';

export interface PolicyFlags {
  policy?: string;
  keyring?: string[];
  requireSigners?: string;
  keyId?: string[];
}

/**
 * `--policy FILE` loaded with the --keyring files, or undefined. It replaces
 * --require-signers/--key-id (the policy says per repository how many and whose),
 * so combining them is a usage error.
 */
export async function trustFromFlags(flags: PolicyFlags, opts: { signersDefault?: string } = {}): Promise<LoadedTrustPolicy | undefined> {
  if (flags.policy === undefined) return undefined;
  if (flags.keyId?.length || (flags.requireSigners !== undefined && flags.requireSigners !== opts.signersDefault))
    throw new UsageError('--policy decides who must sign: it does not combine with --require-signers or --key-id', {
      hint: 'put requireSigners and signers in the policy file',
    });
  // Loaded only here: commands without --policy never pay for the schema validator.
  const { loadTrustPolicy } = await import('../flows/trust-policy.js');
  return loadTrustPolicy(flags.policy, flags.keyring?.length ? { keyrings: flags.keyring } : {});
}
