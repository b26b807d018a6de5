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
export { pushCharts } from './flows/push-charts.js';
export type { PushChartsOptions, PushChartsResult, PushResult } from './flows/push-charts.js';
export { pullChart, pullCharts } from './flows/pull-chart.js';
export type { PullChartOptions, PullChartResult, PullChartsOptions, PullChartsResult, PullResult } from './flows/pull-chart.js';
export { pullRepoChart, pullRepoCharts } from './flows/classic-repo.js';
export { loadRepoIndex } from './flows/repo-fetch.js';
export type { LoadedIndex } from './flows/repo-fetch.js';
export type {
  RepoPullBatchResult,
  RepoPullChartsOptions,
  RepoPullChartsResult,
  RepoPullOptions,
  RepoPullResult,
} from './flows/classic-repo.js';
export { buildRepoIndex, indexUrlFor, MAX_INDEX_BYTES, parseRepoIndex, pickIndexVersion, resolveReferenceUrl } from './flows/repo-index.js';
export type { IndexEntry, PickVersionOptions, RepoIndex } from './flows/repo-index.js';
export { HttpGetter } from './flows/http-get.js';
export type { BasicCredential, HttpGetterOptions } from './flows/http-get.js';
export { chartUrlProvCandidate, givenProvCandidate, knownProv, provUrlBeside, settleProvenance } from './flows/prov-source.js';
export type {
  GivenProvOptions,
  ProvCandidate,
  ProvSource,
  SettledProvenance,
  SettleProvenanceOptions,
  VerifiedProvenance,
} from './flows/prov-source.js';
export { listChartVersions, showChart } from './flows/browse.js';
export type { ListVersionsResult, ShowChartOptions, ShowChartResult } from './flows/browse.js';
export { discover, referrerKind } from './flows/discover.js';
export type {
  DiscoveredReferrer,
  DiscoveredSigner,
  DiscoverOptions,
  DiscoverResult,
  ProvenanceCheck,
  ProvenanceStatus,
  ReferrerKind,
} from './flows/discover.js';
export { verifyRemoteChart } from './flows/verify-remote.js';
export type { VerifyRemoteOptions, VerifyRemoteResult } from './flows/verify-remote.js';
export { checkSignatures, decideSignatures, registrySignatures } from './flows/chart-signatures.js';
export type { SignatureCandidate, SignatureCheck, SignatureDecision, SignaturePolicy, SignatureSource } from './flows/chart-signatures.js';
export { resolveChart, readChartConfig } from './flows/resolve-chart.js';
export type { ResolvedChart } from './flows/resolve-chart.js';
export { copyCharts } from './flows/copy-charts.js';
export type {
  CopiedReferrer,
  CopyChartsOptions,
  CopyChartsResult,
  CopyProgress,
  CopySideOptions,
  CopyStats,
  CopyVersionResult,
  VersionCopy,
} from './flows/copy-charts.js';
export { registryLogin, registryLogout } from './flows/registry-login.js';
export { attachProvenance } from './flows/attach-provenance.js';
export { signChartInRegistry } from './flows/sign-in-registry.js';
export type { SignInRegistryOptions, SignInRegistryResult } from './flows/sign-in-registry.js';
export type { AttachProvenanceOptions, AttachProvenanceResult, AttachedSigner } from './flows/attach-provenance.js';
export { attachedProvenances } from './flows/referrer-provenance.js';
export type { AttachedProvenance } from './flows/referrer-provenance.js';
export { attachReferrer, fallbackTag, hasReferrersApi, listReferrers } from './oci/referrers.js';
export type { AttachResult, ReferrerDescriptor, ReferrerList, ReferrersMode } from './oci/referrers.js';
export { PROVENANCE_ARTIFACT_TYPE, provenanceArtifact, provenanceLayerOf } from './oci/provenance-artifact.js';
export type { RegistryLoginOptions, RegistryLoginResult, RegistryLogoutResult } from './flows/registry-login.js';
export { withRegistryClient } from './flows/registry-client.js';
export type { RegistryOptions } from './flows/registry-client.js';
export { extractChartArchive } from './chart/extract.js';
export * from './oci/index.js';
export { startRegistry } from './registry/server.js';
export type { RunningRegistry, StartRegistryOptions } from './registry/server.js';
export { storedChartSignatures } from './registry/ui/signatures.js';
export type { StoredChartSignatures, StoredChartSignaturesOptions, StoredSignature, StoredSignatureStatus } from './registry/ui/signatures.js';
export type { RegistryAction, Principal } from './registry/auth/model.js';
export { startRegistryServer } from './flows/serve-server.js';
export type { RegistryServer, StartRegistryServerOptions } from './flows/serve-server.js';
export {
  defaultRegistryDataDir,
  loadServeConfig,
  parseServeConfig,
  readAdminPassword,
  resolveServeSettings,
  serveWarnings,
} from './flows/serve-config.js';
export type { ServeFileSettings, ServeFlags, ServeSettings } from './flows/serve-config.js';
export {
  addRegistryUser,
  createRegistryProject,
  createRegistryRobot,
  deleteRegistryProject,
  deleteRegistryRobot,
  deleteRegistryUser,
  listProjectRepositories,
  listRegistryProjects,
  listRegistryRobots,
  listRegistryUsers,
  parseRobotPermission,
  setRegistryProjectMember,
  setRegistryUserPassword,
} from './flows/serve-accounts.js';
export type {
  CreateRobotOptions,
  DeleteProjectResult,
  ProjectInfo,
  ProjectRole,
  ProjectSummary,
  RegistryDataOptions,
  RobotInfo,
  RobotPermission,
  SetMemberOptions,
  UserInfo,
} from './flows/serve-accounts.js';
export { collectRegistryGarbage } from './flows/serve-gc.js';
export type { CollectRegistryGarbageOptions, GcReport } from './flows/serve-gc.js';
export { checkRegistryStorage } from './registry/storage/check.js';
export type { CheckStorageOptions, StorageCheckReport, StorageLeftover, StorageProblem, StorageProblemKind } from './registry/storage/check.js';
export { runDemo } from './flows/demo.js';
export type { DemoOptions, DemoStep, DemoStepId, DemoTranscript } from './flows/demo.js';
export { mirrorCharts } from './flows/mirror.js';
export type { MirrorChartsOptions, MirrorProgress, MirrorResult, MirrorSigner, MirrorStatus, MirrorVersionResult } from './flows/mirror.js';
export { auditRegistry } from './flows/audit.js';
export type {
  AuditedVersion,
  AuditOptions,
  AuditPolicyVerdict,
  AuditProgress,
  AuditReport,
  AuditSignature,
  AuditSigner,
  AuditStatus,
  AuditSummary,
  RepositoryListing,
} from './flows/audit.js';
export { renderAuditHtml, writeAuditHtml } from './flows/audit-html.js';
export { harborApiAuth, listCatalog, listHarborRepositories } from './oci/catalog.js';
export { loadTrustPolicy, defaultRequirement, judgeChart } from './flows/trust-policy.js';
export type { LoadedTrustPolicy, LoadTrustPolicyOptions } from './flows/trust-policy.js';
export { verifyChartsWithPolicy } from './flows/verify-policy.js';
export type { PolicyVerification, VerifyWithPolicyOptions, VerifyWithPolicyResult } from './flows/verify-policy.js';
export { TRUST_POLICY_SCHEMA, parseTrustPolicy, ruleFor, judgeSignatures } from './policy/index.js';
export type { CheckedSignature, JudgedSignature, MatchedRule, TrustPolicy, TrustRequirement, TrustRule, TrustVerdict } from './policy/index.js';
