/**
 * The verdict of a trust requirement on one chart's signatures: which count
 * (valid, by an allowed signer, young enough; one per signer), and whether
 * that is enough. Pure: the signatures were checked before (flows).
 */
import type { SignerInfo } from '../provenance/index.js';
import type { JudgedSignature, TrustRequirement, TrustVerdict } from './types.js';

/** A signature as checked against the chart and the keys (structurally flows/chart-signatures' SignatureCheck). */
export type CheckedSignature =
  | { source: string; location: string; ok: true; signer: SignerInfo }
  | { source: string; location: string; ok: false; error: { code: string; message: string } };

/** Failures that show the chart or its signature was altered: never allowed, not even with allowUnsigned. */
const TAMPERING = new Set(['CHART_TAMPERED', 'SIGNATURE_INVALID']);

export function judgeSignatures(req: TrustRequirement, checks: readonly CheckedSignature[], now: Date = new Date()): TrustVerdict {
  const allowed = req.signers?.map(normalizeId);
  const seen = new Map<string, SignerInfo>();
  const signatures: JudgedSignature[] = checks.map((c): JudgedSignature => {
    const base = { source: c.source, location: c.location };
    if (!c.ok) return { ...base, counted: false, code: c.error.code, reason: `${c.error.code}: ${c.error.message}` };
    const s = c.signer;
    const who = `${s.userId} (${s.fingerprint})`;
    if (allowed && !allowed.some((id) => s.fingerprint.toUpperCase().endsWith(id) || s.keyId.toUpperCase().endsWith(id)))
      return { ...base, signer: s, counted: false, reason: `signed by ${who}, who may not sign under ${req.rule}` };
    if (req.maxSignatureAgeMs !== undefined) {
      const at = Date.parse(s.signedAt);
      if (!Number.isFinite(at) || now.getTime() - at > req.maxSignatureAgeMs)
        return { ...base, signer: s, counted: false, reason: `signed by ${who} on ${s.signedAt}, older than ${age(req.maxSignatureAgeMs)} allowed` };
    }
    if (seen.has(s.fingerprint)) return { ...base, signer: s, counted: false, reason: `another signature by ${who} counted already` };
    seen.set(s.fingerprint, s);
    return { ...base, signer: s, counted: true, reason: 'counted' };
  });
  const signers = [...seen.values()];
  const need = req.requireSigners;
  const base = { rule: req.rule, signers, signatures };
  const tampered = signatures.find((s) => s.code !== undefined && TAMPERING.has(s.code));
  if (tampered) return { ...base, allowed: false, reason: `${tampered.reason} (${tampered.source} ${tampered.location})` };
  if (signers.length >= need) {
    return { ...base, allowed: true, reason: `${signers.length} of ${need} required signer${need === 1 ? '' : 's'}: ${signers.map((s) => s.userId).join(', ')}` };
  }
  if (checks.length === 0) {
    return req.allowUnsigned
      ? { ...base, allowed: true, reason: `unsigned, allowed by ${req.rule}` }
      : { ...base, allowed: false, reason: `unsigned, and ${req.rule} requires ${need} signer${need === 1 ? '' : 's'}` };
  }
  const why = signatures.find((s) => !s.counted)?.reason;
  // Fewer signers than required is never worse than none at all.
  if (req.allowUnsigned) {
    return {
      ...base,
      allowed: true,
      reason: `${signers.length} of ${need} required signers${why ? ` (${why})` : ''}, allowed as unsigned by ${req.rule}`,
    };
  }
  return {
    ...base,
    allowed: false,
    reason: `${signers.length} of ${need} required signer${need === 1 ? '' : 's'} under ${req.rule}${why ? `; ${why}` : ''}`,
  };
}

function normalizeId(id: string): string {
  return id.replace(/^0x/i, '').toUpperCase();
}

function age(ms: number): string {
  const d = ms / 86_400e3;
  if (Number.isInteger(d)) return `${d}d`;
  const h = ms / 3600e3;
  return Number.isInteger(h) ? `${h}h` : `${Math.round(ms / 1000)}s`;
}
