// chartprov's command line: commander wiring only. Each action loads its
// command module on demand, so `chartprov verify` never pays for keygen,
// packaging or (later) the registry code.
import { Command, Option } from 'commander';
import { exitQuietlyOnClosedPipe, printError } from './output.js';
import { registerServeCommands } from './serve-commands.js';
import type { OutputFormat } from './output.js';

declare const __CHARTPROV_VERSION__: string;
const VERSION = typeof __CHARTPROV_VERSION__ === 'string' ? __CHARTPROV_VERSION__ : '0.0.0-dev';

const program = new Command('chartprov')
  .description('Package, sign and verify Helm charts and keep their provenance through OCI registries.')
  .version(VERSION, '-V, --version')
  .option('--debug', 'print stack traces and causes on errors')
  // Program options only before the sub-command, so `package --version V`
  // sets the chart version instead of printing ours.
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({
    // Commander's own parse errors follow our error format and code.
    outputError: (str, write) => {
      const message = str.replace(/^error: /, '').trimEnd();
      const hint = 'run with --help for usage';
      if (wantsJson(process.argv)) process.stdout.write(`${JSON.stringify({ error: { code: 'USAGE', message, hint } }, null, 2)}\n`);
      write(`error[USAGE]: ${message}\nhint: ${hint}\n`);
    },
  });

/** `-o json` / `--output json` anywhere on the line, even when parsing failed. */
function wantsJson(argv: string[]): boolean {
  return argv.some((a, i) => a === '--output=json' || a === '-ojson' || ((a === '-o' || a === '--output') && argv[i + 1] === 'json'));
}

const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');
const collect = (value: string, previous: string[] = []) => [...previous, value];

type Opts = Record<string, unknown> & { output?: OutputFormat };

// Commander hands positional values and the options object; each command
// module declares its own precise parameter types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CommandRunner = (...args: any[]) => Promise<number | void>;

function action(load: () => Promise<CommandRunner>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args.at(-1) as Command;
    const opts = cmd.optsWithGlobals() as Opts;
    const positional = args.slice(0, -2);
    try {
      const run = await load();
      const code = await run(...positional, opts);
      process.exitCode = code ?? 0;
    } catch (err) {
      const debug = Boolean(opts.debug) || process.env.CHARTPROV_DEBUG === '1';
      process.exitCode = printError(err, {
        debug,
        format: opts.output === 'json' ? 'json' : 'text',
      });
    }
  };
}

function signingOptions(cmd: Command): Command {
  return cmd
    .option('--key <name>', 'signing key: user id (exact, else substring), key id or fingerprint')
    .option('--keyring <file>', 'secret keyring: secring.gpg, .asc, pubring.kbx or a gpg home (repeatable)', collect)
    .option('--passphrase-file <file>', 'read the key passphrase from FILE (- for stdin); or set CHARTPROV_PASSPHRASE')
    .addOption(
      new Option('--sign-with <signer>', 'who makes the signature: chartprov itself, or the gpg binary (agent, smartcards)')
        .choices(['openpgp', 'gpg'])
        .default('openpgp'),
    );
}

signingOptions(
  program
    .command('package')
    .description('package a chart folder into a reproducible <name>-<version>.tgz, optionally signed')
    .argument('<dir>', 'chart folder (holds Chart.yaml)')
    .option('-d, --destination <dir>', 'where to write the archive', '.')
    .option('--version <version>', 'set the chart version (SemVer)')
    .option('--app-version <version>', 'set the appVersion')
    .option('--sign', 'sign the archive into <archive>.prov'),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/package.js')).packageCommand));

signingOptions(
  registryOptions(
    program
      .command('sign')
      .description('sign existing chart archives into <chart>.tgz.prov, or charts in a registry (the .prov is attached to them)')
      .argument('<charts...>', 'chart archives (.tgz), or oci://HOST/PATH/NAME:VERSION references')
      .option('--version <version>', 'for an oci:// reference without a tag: exact version or SemVer range'),
  ),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/sign.js')).signCommand));

registryOptions(
  program
    .command('verify')
    .description(
      'verify charts against their .prov: signature, signer, archive digest, name and version; for oci:// charts every signature the registry holds',
    )
    .argument('<charts...>', 'chart archives (.tgz) with <chart>.tgz.prov beside them, or oci://HOST/PATH/NAME[:TAG|@sha256:…] references')
    .option('--keyring <file>', 'public keyring: pubring.gpg, .asc, pubring.kbx or a gpg home (repeatable)', collect)
    .option('--prov <file>', 'the .prov to use (single chart only)')
    .option('--version <version>', 'for an oci:// reference without a tag: exact version or SemVer range')
    .option('--prov-file <file>', 'oci://: a .prov kept outside the registry, checked with the ones it holds')
    .option('--prov-url <url>', 'oci://: the same, fetched from http(s):// or file: (never sent credentials)')
    .option('--require-signers <n>', 'oci://: at least N distinct signers must have valid signatures', '1')
    .option('--key-id <id>', 'oci://: only signatures by this key id or fingerprint count (repeatable)', collect)
    .option('--policy <file>', 'a trust policy (YAML) decides: who may sign which repository, how many, unsigned, age'),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/verify.js')).verifyCommand));

function registryOptions(cmd: Command): Command {
  return cmd
    .option('--plain-http', 'use HTTP instead of HTTPS to talk to the registry')
    .option('--insecure-skip-tls-verify', "do not check the registry's TLS certificate (test registries only)")
    .option('--ca-file <file>', "PEM file with the CA that signed the registry's certificate")
    .option('--cert-file <file>', 'client certificate (PEM) for registries that require one')
    .option('--key-file <file>', 'key of the client certificate (PEM)')
    .option('--registry-config <file>', 'registry credentials file (default $HELM_REGISTRY_CONFIG or ~/.config/helm/registry/config.json)')
    .option(
      '--timeout <duration>',
      'how long the registry may stay silent (no answer, no data) before the command fails: 30s, 5m, 1m30s (default 5m; or CHARTPROV_TIMEOUT)',
    );
}

signingOptions(
  registryOptions(
    program
      .command('push')
      .description('push chart archives to an OCI registry with their provenance, as helm push does')
      .argument('<charts-and-destination...>', 'chart archives (.tgz), then the destination oci://HOST[:PORT]/PATH')
      .option('--prov <file>', 'the .prov to push (single chart; default <chart>.prov when it exists)')
      .option('--require-prov', 'refuse a chart that has no .prov instead of pushing it without one')
      .option('--sign', 'sign each chart on the way (--key, --keyring are then the signing key)')
      .option(
        '--mount-from <repository>',
        'a repository of the same registry holding the blobs: mount instead of upload (repeatable)',
        collect,
      )
      .option('-j, --jobs <n>', 'charts pushed at once', '8'),
  ),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/push.js')).pushCommand));

registryOptions(
  program
    .command('pull')
    .description(
      'pull charts from an OCI registry, a chart repository (--repo) or a chart URL; with --verify nothing is written unless its signature holds',
    )
    .argument('<refs...>', 'oci://HOST[:PORT]/PATH/NAME[:TAG|@sha256:DIGEST], chart names with --repo, or chart URLs; one or more')
    .option('--version <version>', 'exact version or SemVer range (default: the highest version)')
    .option('-d, --destination <dir>', 'where to write the chart', '.')
    .option('--verify', 'verify the chart against its provenance before writing it')
    .option('--keyring <file>', 'public keyring for --verify (repeatable)', collect)
    .option('--prov-file <file>', 'a .prov to verify with when the chart carries none (or its own does not verify); single chart')
    .option('--prov-url <url>', 'the same, fetched from http(s):// or file: (never sent credentials); single chart')
    .option('--repo <url>', 'chart repository URL (index.yaml), as helm pull --repo: the refs are chart names')
    .option('--username <user>', 'user name for the chart repository (--repo or chart URLs)')
    .option('--password-stdin', 'read the chart repository password from stdin')
    .option('--pass-credentials', "send the repository's credentials to every host its index points at")
    .option('--require-signers <n>', 'with --verify (oci://): at least N distinct signers must have valid signatures')
    .option('--key-id <id>', 'with --verify (oci://): only signatures by this key id or fingerprint count (repeatable)', collect)
    .option('--policy <file>', 'with --verify (oci://): a trust policy (YAML) decides who must have signed')
    .option('--untar', 'unpack the chart instead of keeping the archive')
    .option('--untardir <dir>', 'where to unpack (relative to --destination)')
    .option('-j, --jobs <n>', 'charts pulled at once', '8'),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/pull.js')).pullCommand));

registryOptions(
  program
    .command('attach')
    .description("attach a .prov to a chart already in a registry, as an artifact referring to it (the chart's digest does not change)")
    .argument('<ref>', 'oci://HOST[:PORT]/PATH/NAME[:TAG|@sha256:DIGEST]')
    .argument('<prov>', 'the CHART.tgz.prov made for that chart')
    .option('--version <version>', 'exact version or SemVer range, with a reference that names no tag')
    .option('--keyring <file>', 'public keyring: check the signature before attaching (repeatable)', collect),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/attach.js')).attachCommand));

registryOptions(
  program
    .command('discover')
    .description('show a chart with what is attached to it: its provenance layer and referrers (provenance, signatures, SBOMs)')
    .argument('<ref>', 'oci://HOST[:PORT]/PATH/NAME[:TAG|@sha256:DIGEST]')
    .option('--version <version>', 'exact version or SemVer range, with a reference that names no tag (default: the highest version)')
    .option('--keyring <file>', 'public keyring: verify each provenance against the chart (repeatable)', collect)
    .option('--artifact-type <type>', "list only the chart's referrers of this artifactType"),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/discover.js')).discoverCommand));

registryOptions(
  program
    .command('copy')
    .description('copy chart versions with their signatures and other referrers to another repository or registry, digests unchanged')
    .argument('<source>', 'oci://HOST[:PORT]/PATH/NAME[:TAG|@sha256:DIGEST]')
    .argument('<destination>', 'oci://HOST[:PORT]/PATH (the chart name is added, as with push) or oci://HOST[:PORT]/PATH/NAME')
    .option('--version <version>', 'exact version or SemVer range (default: the highest version)')
    .option('--all-versions', 'copy every tag of the repository')
    .option('-j, --jobs <n>', 'versions transferred at once', '4')
    .option('--force', 'replace a destination tag that names another manifest')
    .option('--from-plain-http', 'use HTTP for the source registry only')
    .option('--from-ca-file <file>', 'CA of the source registry (PEM)')
    .option('--from-cert-file <file>', 'client certificate for the source registry (PEM)')
    .option('--from-key-file <file>', 'key of --from-cert-file (PEM)')
    .option('--from-insecure-skip-tls-verify', "do not check the source registry's TLS certificate")
    .option('--to-plain-http', 'use HTTP for the destination registry only')
    .option('--to-ca-file <file>', 'CA of the destination registry (PEM)')
    .option('--to-cert-file <file>', 'client certificate for the destination registry (PEM)')
    .option('--to-key-file <file>', 'key of --to-cert-file (PEM)')
    .option('--to-insecure-skip-tls-verify', "do not check the destination registry's TLS certificate"),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/copy.js')).copyCommand));

registryOptions(
  program
    .command('mirror')
    .description('mirror every chart version of a chart repository, a folder or an OCI repository into an OCI registry, signatures intact')
    .argument('<source>', 'https://… chart repository (index.yaml), a folder of CHART.tgz + .prov (path or file:), or oci://HOST/PATH/NAME')
    .argument('<destination>', 'oci://HOST[:PORT]/PATH: each chart lands in PATH/<name>:<version>, as with push')
    .option(
      '--keyring <file>',
      'public keyring every .prov must verify with (repeatable); without it or --policy, signers are not checked',
      collect,
    )
    .option('--policy <file>', 'trust policy (YAML): which signers each destination repository needs, whether unsigned charts may go in')
    .option('--attach', 'push each chart without a provenance layer and attach its .prov as a referrer')
    .option('--dry-run', 'read and check everything, write nothing, report what would be done')
    .option('-j, --jobs <n>', 'versions mirrored at once', '4')
    .option('--username <user>', 'user name for the chart repository source')
    .option('--password-stdin', 'read the chart repository password from stdin')
    .option('--pass-credentials', "send the repository's credentials to every host its index points at")
    .option('--from-plain-http', 'use HTTP for the source registry only (oci:// source)')
    .option('--from-ca-file <file>', 'CA of the source (PEM)')
    .option('--from-insecure-skip-tls-verify', "do not check the source's TLS certificate")
    .option('--to-plain-http', 'use HTTP for the destination registry only')
    .option('--to-ca-file <file>', 'CA of the destination registry (PEM)')
    .option('--to-insecure-skip-tls-verify', "do not check the destination registry's TLS certificate"),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/mirror.js')).mirrorCommand));

registryOptions(
  program
    .command('show')
    .description('show a chart in a registry: Chart.yaml, digest and whether it carries its provenance')
    .argument('<ref>', 'oci://HOST[:PORT]/PATH/NAME[:TAG|@sha256:DIGEST]')
    .option('--version <version>', 'exact version or SemVer range (default: the highest version)'),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/browse.js')).showCommand));

registryOptions(
  program
    .command('versions')
    .description('list the versions of a chart in a registry, highest first')
    .argument('<ref>', 'oci://HOST[:PORT]/PATH/NAME'),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/browse.js')).versionsCommand));

const registry = program.command('registry').description('log in to and out of OCI registries (shared with helm registry login)');

registryOptions(
  registry
    .command('login')
    .description('check credentials against a registry and save them where Helm keeps them')
    .argument('<host>', 'registry host[:port]')
    .option('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password (insecure: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin'),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/registry.js')).loginCommand));

registry
  .command('logout')
  .description('remove the saved credentials of a registry')
  .argument('<host>', 'registry host[:port]')
  .option('--registry-config <file>', 'registry credentials file')
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/registry.js')).logoutCommand));

const keys = program.command('keys').description('generate, list and export OpenPGP keys (no gpg needed)');

keys
  .command('generate')
  .description('generate a signing key pair into a folder (secring.gpg, pubring.gpg, private.asc, public.asc)')
  .requiredOption('--name <name>', 'real name for the user id')
  .option('--email <email>', 'email for the user id')
  .option('--comment <comment>', 'comment for the user id')
  .addOption(new Option('--type <type>', 'key type').choices(['rsa4096', 'rsa2048', 'ed25519']).default('rsa4096'))
  .option('--passphrase-file <file>', 'protect the secret key with the passphrase in FILE (- for stdin)')
  .option('--no-passphrase', 'do not protect the secret key (default unless a passphrase is given)')
  .requiredOption('-d, --dir <dir>', 'output folder')
  .option('--force', 'replace keyrings already in the folder')
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/keys.js')).keysGenerateCommand));

keys
  .command('list')
  .description('list keys with user ids, fingerprints, capabilities and expiry')
  .option('--keyring <file>', 'keyring: .gpg, .asc, pubring.kbx or a gpg home (repeatable)', collect)
  .option('--secret', 'list secret keys only')
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/keys.js')).keysListCommand));

keys
  .command('export')
  .description('export public (or --secret) keys, binary or --armor')
  .argument('[name]', 'which key: user id, substring, key id or fingerprint (default: all)')
  .option('--keyring <file>', 'keyring to read (repeatable)', collect)
  .option('--secret', 'export secret keys')
  .option('-a, --armor', 'ASCII-armored output')
  .option('--file <file>', 'write to FILE instead of stdout')
  .action(action(async () => (await import('./commands/keys.js')).keysExportCommand));

program
  .command('demo')
  .description('run the tutorial end to end in a temp folder: key, chart, embedded registry, push, sign, discover, pull --verify')
  .option('--keep', 'keep the workspace (keys, charts, registry data) and print its path')
  .option('--port <n>', 'port of the demo registry on 127.0.0.1 (default: a free port)')
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/demo.js')).demoCommand));

registryOptions(
  program
    .command('audit')
    .description('audit every chart version under a registry path: signed or not, where, by whom, valid or not, and the policy verdict')
    .argument('<target>', 'oci://HOST[:PORT]/PROJECT (or a path prefix), oci://…/PROJECT/NAME for one repository, or …/NAME:TAG')
    .option('--keyring <file>', 'public keyring to verify with (repeatable); default ~/.gnupg/pubring.gpg', collect)
    .option('--policy <file>', 'trust policy (YAML): which keys may sign which repositories; default: one valid signature')
    .option('--html <file>', 'also write the report as one self-contained HTML page')
    .option('-j, --jobs <n>', 'versions audited at once', '16'),
)
  .addOption(outputOption())
  .action(action(async () => (await import('./commands/audit.js')).auditCommand));

registerServeCommands(program, { action, outputOption, collect });

program.commands.forEach(function inherit(cmd: Command): void {
  cmd.exitOverride().configureOutput(program.configureOutput());
  if (cmd.commands.length === 0) cmd.option('--debug', 'print stack traces and causes on errors');
  cmd.commands.forEach(inherit);
});

/** Runs the CLI on a full argv (`[node, script, ...args]`). */
function run(argv: string[]): void {
  exitQuietlyOnClosedPipe();
  program.parseAsync(argv).catch((err: unknown) => {
    const e = err as { code?: string; exitCode?: number };
    const benign = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
    // Commander has already printed the message through outputError.
    process.exitCode = benign ? 0 : e.code === 'commander.executeSubCommandAsync' ? (e.exitCode ?? 1) : 2;
  });
}

run(process.argv);
