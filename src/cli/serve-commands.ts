// `chartprov serve` and its sub-commands (the embedded registry and its
// accounts): commander wiring only, as in main.ts, which hands over its helpers.
import { Option, type Command } from 'commander';

export interface CommandHelpers {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  action: (load: () => Promise<(...args: any[]) => Promise<number | void>>) => (...args: unknown[]) => Promise<void>;
  outputOption: () => Option;
  collect: (value: string, previous?: string[]) => string[];
}

export function registerServeCommands(program: Command, { action, outputOption, collect }: CommandHelpers): void {
  const SERVE_CONFIG_HELP = `
  Config file (--config, YAML; flags win over it; relative paths are from the file's folder):
    addr: 127.0.0.1:5000           # HOST:PORT, [IPv6]:PORT, or :PORT for every interface
    data: /srv/chartprov-registry
    tls: { cert: tls.crt, key: tls.key }
    external_url: https://registry.example.com
    auth: { service: chartprov-registry, issuer: chartprov-token-issuer, token_ttl: 30m }
    limits: { max_blob_size: 2GiB, max_manifest_size: 4MiB }
    log: { requests: true }
    keyring: pubring.gpg           # the web UI (/ui/) verifies chart signatures against it

  The initial admin password: --admin-password-file, else CHARTPROV_ADMIN_PASSWORD,
  else generated and shown once on stderr at the first start.`;

  const serve = program
    .command('serve')
    .description('run the embedded OCI registry (Harbor-style projects, users, robot accounts and tokens) until SIGINT/SIGTERM')
    .option('--addr <host:port>', 'address to listen on; port 0 picks a free one (default 127.0.0.1:5000)')
    .option('--data <dir>', 'data folder (default $XDG_DATA_HOME/chartprov/registry or ~/.local/share/chartprov/registry)')
    .option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--config <file>', 'YAML settings file (see below)')
    .option(
      '--admin-password-file <file>',
      "the initial admin's password, first line (- for stdin); used only when the registry has no user yet",
    )
    .option('--external-url <url>', 'URL clients reach the registry at, when a proxy is in front (token realm)')
    .option('--max-blob-size <size>', 'largest blob accepted: 512MiB, 2GB or bytes')
    .option('--keyring <file>', 'public keyring the web UI (/ui/) verifies chart signatures against')
    .option('--debug', 'print stack traces and causes on errors')
    // No default here: a parent's option value overrides its sub-commands' in optsWithGlobals.
    .addOption(new Option('-o, --output <format>', 'output format: text (default) or json lines').choices(['text', 'json']))
    .addHelpText('after', SERVE_CONFIG_HELP)
    .action(action(async () => (await import('./commands/serve.js')).serveCommand));

  const dataOption = () =>
    new Option('--data <dir>', 'registry data folder (default $XDG_DATA_HOME/chartprov/registry or ~/.local/share/chartprov/registry)');
  const serveProject = serve.command('project').description('create, list and delete projects and manage their members');
  const serveUser = serve.command('user').description('add, list and delete registry users and set their passwords');
  const serveRobot = serve.command('robot').description('create, list and delete robot accounts (robot$NAME, for CI)');

  serveProject
    .command('create')
    .description('create a project (repositories live in projects: oci://HOST/PROJECT/CHART)')
    .argument('<name>', 'project name: lower-case letters, digits and . _ -')
    .option('--public', 'anyone, even anonymous, may pull')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).projectCreateCommand));

  serveProject
    .command('list')
    .description('list projects with their repositories and members')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).projectListCommand));

  serveProject
    .command('delete')
    .description('delete a project; one that still holds repositories only with --force')
    .argument('<name>', 'project name')
    .option('--force', "also delete the project's repositories (manifests and tags; blobs go at the next gc)")
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).projectDeleteCommand));

  serveProject
    .command('member')
    .description('give a user a role in a project, or remove them with --remove')
    .argument('<project>', 'project name')
    .argument('<user>', 'user name')
    .argument('[role]', 'projectAdmin, maintainer, developer (pull, push), guest or limitedGuest (pull)')
    .option('--remove', 'remove the user from the project')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).projectMemberCommand));

  serveUser
    .command('add')
    .description('add a user (password from --password-stdin, else asked twice on a terminal)')
    .argument('<name>', 'user name')
    .option('--admin', 'system admin: may do anything in every project')
    .option('--password-stdin', 'read the password from stdin')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).userAddCommand));

  serveUser
    .command('passwd')
    .description("set a user's password (from --password-stdin, else asked twice on a terminal)")
    .argument('<name>', 'user name')
    .option('--password-stdin', 'read the password from stdin')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).userPasswdCommand));

  serveUser
    .command('del')
    .alias('delete')
    .description('delete a user and their project memberships')
    .argument('<name>', 'user name')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).userDelCommand));

  serveUser
    .command('list')
    .description('list users')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).userListCommand));

  serveRobot
    .command('create')
    .description('create a robot account and print its secret (shown only this once)')
    .argument('<name>', 'robot name (the account is robot$NAME)')
    .option('--project <project:actions>', 'PROJECT:pull[,push,delete]; PROJECT may be * (repeatable)', collect)
    .option('--expires-days <n>', 'days until the secret stops working (default: never)')
    .option('--description <text>', 'what the robot is for')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).robotCreateCommand));

  serveRobot
    .command('list')
    .description('list robot accounts and their access')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).robotListCommand));

  serveRobot
    .command('delete')
    .description('delete a robot account')
    .argument('<name>', 'robot name (NAME or robot$NAME)')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-accounts.js')).robotDeleteCommand));

  serve
    .command('gc')
    .description('delete blobs no manifest needs (stop the server first: gc locks the data folder)')
    .option('--dry-run', 'report what would be deleted, delete nothing')
    .option('--delete-untagged', 'also delete manifests no tag keeps (index children and referrers of kept ones stay)')
    .option('-v, --verbose', 'print each decision on stderr')
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-gc.js')).serveGcCommand));

  serve
    .command('check')
    .description(
      're-hash every blob and check every manifest, tag and link; exit 1 on damage (stop the server first: check locks the data folder)',
    )
    .addOption(dataOption())
    .addOption(outputOption())
    .action(action(async () => (await import('./commands/serve-check.js')).serveCheckCommand));
}
