import { homedir } from 'node:os';
import { join } from 'node:path';

// Both tools take $HOME first and fall back to the account's home folder.
function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/**
 * Helm's registry config, by Helm's rule (cli.EnvSettings + helmpath on
 * Linux): $HELM_REGISTRY_CONFIG, else $HELM_CONFIG_HOME/registry/config.json,
 * else $XDG_CONFIG_HOME/helm/registry/config.json, else under ~/.config.
 */
export function defaultHelmConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.HELM_REGISTRY_CONFIG) return env.HELM_REGISTRY_CONFIG;
  if (env.HELM_CONFIG_HOME) return join(env.HELM_CONFIG_HOME, 'registry', 'config.json');
  return join(env.XDG_CONFIG_HOME || join(home(env), '.config'), 'helm', 'registry', 'config.json');
}

/** Docker's config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG || join(home(env), '.docker'), 'config.json');
}
