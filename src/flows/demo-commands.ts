/**
 * The command lines a user would type to do what `chartprov demo` did, in a
 * folder of their own. Secrets appear only as `$PASSWORD`.
 */

export interface DemoCommandsOptions {
  /** `127.0.0.1:PORT` of the demo registry. */
  host: string;
  /** The signing key's user id, as given to --key. */
  keyName: string;
  keyEmail: string;
  chart: string;
  project: string;
  user: string;
}

export function demoCommands(o: DemoCommandsOptions): string[] {
  const oci = `oci://${o.host}/${o.project}`;
  const key = `--key "${o.keyName}" --keyring keys/secring.gpg`;
  const pub = '--keyring keys/pubring.gpg';
  return [
    `chartprov keys generate --name "${o.keyName}" --email ${o.keyEmail} --type rsa2048 -d keys`,
    `helm create ${o.chart}`,
    `chartprov package ${o.chart} -d dist --version 0.1.0 --sign ${key}`,
    `chartprov serve --addr ${o.host} --data registry &`,
    `chartprov serve project create ${o.project} --data registry`,
    `printf %s "$PASSWORD" | chartprov serve user add ${o.user} --password-stdin --data registry`,
    `chartprov serve project member ${o.project} ${o.user} developer --data registry`,
    `printf %s "$PASSWORD" | chartprov registry login ${o.host} -u ${o.user} --password-stdin --plain-http`,
    `chartprov push dist/${o.chart}-0.1.0.tgz ${oci} --plain-http`,
    `chartprov package ${o.chart} -d dist --version 0.2.0`,
    `chartprov push dist/${o.chart}-0.2.0.tgz ${oci} --plain-http`,
    `chartprov sign ${oci}/${o.chart}:0.2.0 ${key} --plain-http`,
    `chartprov discover ${oci}/${o.chart}:0.2.0 ${pub} --plain-http`,
    `chartprov pull ${oci}/${o.chart} --version 0.1.0 --verify ${pub} --plain-http -d pulled`,
    `chartprov pull ${oci}/${o.chart} --version 0.2.0 --verify ${pub} --plain-http -d pulled`,
    `chartprov verify ${oci}/${o.chart}:0.2.0 ${pub} --plain-http`,
    `helm pull ${oci}/${o.chart} --version 0.1.0 --verify ${pub} --plain-http`,
  ];
}
