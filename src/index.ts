/**
 * chartprov — the library behind the CLI. Everything the CLI does is one of
 * these functions; see README "Library API".
 */
export * from './errors.js';
export * from './chart/index.js';
export * from './keys/index.js';
export * from './provenance/index.js';
export { createSigner, defaultSecretKeyringPaths } from './flows/signer.js';
export type { PassphraseSource, Signer, SignerIdentity, SignerOptions } from './flows/signer.js';
export { signChart } from './flows/sign-chart.js';
export type { SignChartOptions, SignChartResult } from './flows/sign-chart.js';
export { packageChartFlow as packageAndSignChart } from './flows/package-chart.js';
export type { PackageOptions, PackageResult } from './flows/package-chart.js';
export { loadVerificationKeys, verifyChart, verifyCharts } from './flows/verify-charts.js';
export type { ChartVerification, VerifyChartsOptions, VerifyChartsResult } from './flows/verify-charts.js';
export { exportKeysFrom, generateKeysToDir, listKeys } from './flows/keys.js';
export type { GenerateKeysOptions, GeneratedKeys } from './flows/keys.js';
export { findGpgSecretKey, gpgClearsign } from './flows/gpg-signer.js';
export type { GpgSignerOptions } from './flows/gpg-signer.js';
export { writeFileAtomic } from './fs/atomic-write.js';
