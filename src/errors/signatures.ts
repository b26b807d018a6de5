/** Provenance files, their signatures, and the policies that judge them. */
import { ChartprovError } from './base.js';

/** No .prov where one was needed. */
export class ProvenanceMissingError extends ChartprovError {
  readonly code = 'PROV_MISSING';
  protected get defaultHint(): string {
    return 'sign the chart (chartprov sign CHART.tgz), or name its .prov with --prov';
  }
}

/** The .prov is not a well-formed clearsigned provenance file (truncated, garbled). */
export class ProvenanceInvalidError extends ChartprovError {
  readonly code = 'PROV_INVALID';
  protected get defaultHint(): string {
    return 'fetch the original .prov again, or sign the chart again';
  }
}

/** The .prov is well formed but is about another chart (name, version or file). */
export class ProvenanceMismatchError extends ChartprovError {
  readonly code = 'PROV_MISMATCH';
  protected get defaultHint(): string {
    return 'use the .prov published with this archive';
  }
}

/** The archive's digest differs from the one the .prov signs. */
export class ChartTamperedError extends ChartprovError {
  readonly code = 'CHART_TAMPERED';
  protected get defaultHint(): string {
    return 'do not use this chart; fetch it and its .prov again from a trusted source';
  }
}

/** The signature does not match the signed text (the .prov was edited). */
export class SignatureInvalidError extends ChartprovError {
  readonly code = 'SIGNATURE_INVALID';
  protected get defaultHint(): string {
    return 'do not trust this chart; fetch it and its .prov again from the publisher';
  }
}

/** The signature was made by a key that is not in the keyring. */
export class SignerUnknownError extends ChartprovError {
  readonly code = 'SIGNER_UNKNOWN';
  protected get defaultHint(): string {
    return "add the signer's public key with --keyring, or check who signed this chart";
  }
}

/** The external gpg binary failed (`--sign-with gpg`). */
export class GpgError extends ChartprovError {
  readonly code = 'GPG_FAILED';
  protected get defaultHint(): string {
    return 'check gpg --list-secret-keys, and run on a terminal so pinentry can ask for the passphrase';
  }
}

/** Signatures were found and hold, but not the ones a policy asks for (--require-signers, --key-id). */
export class SignaturePolicyError extends ChartprovError {
  readonly code = 'SIGNATURE_POLICY';
  protected get defaultHint(): string {
    return 'have the missing signers sign the chart (chartprov sign oci://…), or relax --require-signers / --key-id';
  }
}

/** A trust policy file (--policy) that cannot be used: not YAML, an unknown key, a wrong value. */
export class TrustPolicyInvalidError extends ChartprovError {
  readonly code = 'POLICY_INVALID';
  protected get defaultHint(): string {
    return 'fix the policy file; its format is docs/trust-policy.schema.json (README, "Trust policy")';
  }
}
