export interface RegistryCredential {
  username?: string;
  password?: string;
  /** A refresh token from an OAuth2 login (`identitytoken`), exchanged for bearer tokens. */
  identityToken?: string;
  /** A bearer token sent as is (`registrytoken`). */
  registryToken?: string;
}

export interface FoundCredential {
  credential: RegistryCredential;
  /** Where it came from, for messages: an environment variable pair, a file path or a helper name; never a secret. */
  source: string;
}

export function isEmptyCredential(c: RegistryCredential): boolean {
  return !c.username && !c.password && !c.identityToken && !c.registryToken;
}
