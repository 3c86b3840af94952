/**
 * `init`: writes a commented config. On a terminal it asks for what the flags did not give, testing each answer as
 * it goes; with flags it runs unattended. It stores the secrets in the OS keychain and never replaces an existing
 * config without --force.
 */

import { existsSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import type { InitGiven, InitSecrets } from "../../app/init.ts";
import { BIND_PASSWORD_SECRET_NAME, ENTRA_CLIENT_SECRET_NAME } from "../../core/config/directory-secrets.ts";
import { SyncError } from "../../core/errors.ts";
import { INIT_WEBHOOK_SECRET_NAME } from "../../core/notify/config.ts";
import { secretPartsOf } from "../../core/notify/urls.ts";
import { DEFAULT_CLIENT_SECRET_NAME, environmentVariableFor } from "../../core/secret-names.ts";
import type { CommandContext } from "../context.ts";
import { requireKeychain, warnIfShadowed } from "../secret-store.ts";

interface InitOptions {
  source?: string;
  tenantId?: string;
  appId?: string;
  certificateFile?: string;
  authorityUrl?: string;
  graphUrl?: string;
  url?: string[];
  bindDn?: string;
  base?: string[];
  group?: string[];
  clientId?: string;
  site?: string[];
  caFile?: string;
  ilobbyUrl?: string;
  ilobbyCaFile?: string;
  proxy?: string;
  phoneCountry?: string;
  notifyWebhook?: string;
  output: string;
  test: boolean;
  storeSecrets: boolean;
  force?: boolean;
}

const DEFAULT_OUTPUT = "ilobby-sync.yaml";
/** config.example.yaml's reference, for when the schema shipped with the package cannot be found. */
const EXAMPLE_SCHEMA_REFERENCE = "./schema/ilobby-sync.schema.json";

const repeatable = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function sourceOption(value: string | undefined): InitGiven["source"] {
  if (value === undefined) return undefined;
  const source = value.trim().toLowerCase();
  if (source === "ldap" || source === "entra") return source;
  throw new SyncError("config", `--source "${value}" is not a directory source`, {
    fix: "use --source ldap (Active Directory) or --source entra (Microsoft Entra ID)",
  });
}

/**
 * The schema shipped with the package (schema/ beside bin/ and dist/): a relative path when it lies below the
 * config's folder (a checkout), else a file URL; the example's relative path when it cannot be found (a single
 * executable ships none).
 */
function schemaReference(
  configFile: string,
  relativeTo: (absolute: string, folder: string) => string,
): string {
  const script = process.argv[1];
  if (!script) return EXAMPLE_SCHEMA_REFERENCE;
  try {
    const shipped = resolve(dirname(realpathSync(script)), "..", "schema", "ilobby-sync.schema.json");
    if (!existsSync(shipped)) return EXAMPLE_SCHEMA_REFERENCE;
    const path = relativeTo(shipped, dirname(configFile));
    return path.startsWith("./") ? path : pathToFileURL(shipped).href;
  } catch {
    return EXAMPLE_SCHEMA_REFERENCE;
  }
}

export function registerInit(program: Command, context: CommandContext): void {
  program
    .command("init")
    .description(
      "write a commented config: on a terminal asks for what the flags do not give, testing each answer " +
        "(DC URL, bind, search bases, groups, iLobby token), and stores the secrets in the OS keychain",
    )
    .option("--url <url>", "domain controller URL, ldaps://host[:port] (repeat for fail-over)", repeatable)
    .option("--bind-dn <name>", "bind account: UPN (svc@corp.example.com), DOMAIN\\user or DN")
    .option("--base <dn>", "search base: an OU's distinguished name (repeatable)", repeatable)
    .option(
      "--source <type>",
      "the directory: ldap (Active Directory, the default) or entra (Microsoft Entra ID)",
    )
    .option("--tenant-id <id>", "entra: the tenant's primary domain or Directory (tenant) ID")
    .option("--app-id <id>", "entra: the app registration's Application (client) ID")
    .option(
      "--certificate-file <file>",
      "entra: PEM with the app's certificate and unencrypted key (else its secret)",
    )
    .option("--authority-url <url>", "entra: the identity platform of a sovereign cloud")
    .option("--graph-url <url>", "entra: Microsoft Graph of a sovereign cloud")
    .option(
      "--group <id>",
      "only members of this group: a DN (ldap) or an object id (entra) (repeatable)",
      repeatable,
    )
    .option("--client-id <id>", "iLobby API client id")
    .option("--site <name>", "a site name exactly as in the iLobby portal (repeatable)", repeatable)
    .option(
      "--ca-file <file>",
      "CA certificate (PEM) that issued the domain controllers' certificates (entra: an extra trusted CA)",
    )
    .option("--ilobby-url <url>", "iLobby API base URL (default https://partnerapi.goilobby.com)")
    .option("--ilobby-ca-file <file>", "extra trusted CA (PEM) for iLobby, e.g. a TLS-inspecting proxy")
    .option("--proxy <url>", "HTTP(S) proxy for the iLobby API (written as ilobby.proxy)")
    .option(
      "--phone-country <code>",
      "country (ISO code, e.g. CA) of phone numbers written without one: writes phones (E.164)",
    )
    .option(
      "--notify-webhook <format>",
      `notify failures and guard trips on a webhook (json, teams or slack) whose URL is the secret ${INIT_WEBHOOK_SECRET_NAME} (from ${environmentVariableFor(INIT_WEBHOOK_SECRET_NAME)} when set)`,
    )
    .option("--output <file>", "where to write the config", DEFAULT_OUTPUT)
    .option("--no-test", "do not test the answers against the directory and iLobby")
    .option("--no-store-secrets", "do not store the secrets in the OS keychain")
    .option("--force", "replace an existing config file")
    .addHelpText(
      "after",
      "\nSecrets are never options: they are asked for (hidden) on a terminal, or taken from ILOBBY_SYNC_BIND_PASSWORD\n" +
        "(entra: ILOBBY_SYNC_ENTRA_CLIENT_SECRET, not with --certificate-file) and ILOBBY_SYNC_CLIENT_SECRET, or read\n" +
        "from standard input (one line each, the directory's secret first).\n",
    )
    .action(async (options: InitOptions) => {
      const { output, environment, cwd } = context;
      const configFile = resolve(cwd, options.output);
      // Loaded on use: testing needs ldapts, undici and TLS, which other commands' start-up should not pay for.
      const [
        { configRelativePath, ensureNoConfigFile, writeConfigFile },
        { draftConfig, initSecretsFor, runInit },
        { initPorts },
        dialogs,
      ] = await Promise.all([
        import("../../adapters/files/new-config-file.ts"),
        import("../../app/init.ts"),
        import("../probes.ts"),
        import("../init-dialog.ts"),
      ]);
      if (!options.force) await ensureNoConfigFile(configFile);
      const source = sourceOption(options.source);
      const known = await dialogs.knownSecrets(
        environment.env,
        options.test || options.storeSecrets,
        output,
        initSecretsFor(source, options.certificateFile),
      );
      const dialog = dialogs.terminalDialog(output);
      const knownWebhook = environment.env[environmentVariableFor(INIT_WEBHOOK_SECRET_NAME)] || undefined;
      if (dialog.interactive) {
        output.info(`ilobby-sync init: writes ${configFile}. Each answer is tested as you go; Ctrl-C stops.`);
      }
      const result = await runInit(
        {
          source,
          tenantId: options.tenantId,
          appId: options.appId,
          certificateFile: options.certificateFile,
          authorityUrl: options.authorityUrl,
          graphUrl: options.graphUrl,
          urls: options.url ?? [],
          bindDn: options.bindDn,
          caFile: options.caFile,
          bases: options.base ?? [],
          groups: options.group ?? [],
          clientId: options.clientId,
          sites: options.site ?? [],
          baseUrl: options.ilobbyUrl,
          ilobbyCaFile: options.ilobbyCaFile,
          proxy: options.proxy,
          phoneCountry: options.phoneCountry,
          notifyWebhookFormat: options.notifyWebhook,
        },
        { ...known, notifyWebhook: knownWebhook },

        dialog,
        initPorts({ configFile, cwd, environment, output }),
        { test: options.test, needSecrets: options.test || options.storeSecrets },
      );
      // A webhook URL carries a token: from here on it is shown as scheme and host only.
      for (const part of secretPartsOf(result.secrets.notifyWebhook ?? "")) output.redactor.add(part);
      const reference = schemaReference(configFile, configRelativePath);
      const { renderConfigTemplate } = await import("../../core/config/template.ts");
      draftConfig(result.answers, reference); // the file must pass the tool's own validation
      await writeConfigFile(
        configFile,
        renderConfigTemplate(result.answers, reference),
        Boolean(options.force),
      );

      const stored: string[] = [];
      let keychain: string | undefined;
      let storeError: unknown;
      if (options.storeSecrets) {
        try {
          keychain = await storeSecrets(context, result.secrets, stored);
        } catch (error) {
          storeError = error;
        }
      }
      const usesDefaultPath = configFile === resolve(cwd, DEFAULT_OUTPUT);
      const command = usesDefaultPath ? "ilobby-sync" : `ilobby-sync --config ${configFile}`;
      output.result(
        () =>
          [
            `Wrote ${configFile}.`,
            stored.length > 0 ? `Stored ${stored.join(" and ")} in ${keychain}.` : undefined,
            `Next: \`${command} doctor\` checks the whole setup; \`${command} run --dry-run\` shows what a sync would change.`,
          ]
            .filter(Boolean)
            .join("\n"),
        () => ({
          ok: storeError === undefined,
          config: configFile,
          schema: reference,
          secretsStored: stored,
          checks: result.checks,
        }),
      );
      if (storeError !== undefined) context.setExitCode(output.error(storeError, { inResult: true }));
    });
}

/**
 * Stores the secrets as `secret set` does, in the keychain a run with the new config reads; adds each name to
 * `stored` once it is stored, and returns the keychain's description.
 */
async function storeSecrets(
  context: CommandContext,
  secrets: InitSecrets,
  stored: string[],
): Promise<string> {
  const { output, environment } = context;
  const keychain = requireKeychain(environment, undefined);
  for (const [name, value] of [
    [BIND_PASSWORD_SECRET_NAME, secrets.bindPassword],
    [ENTRA_CLIENT_SECRET_NAME, secrets.entraClientSecret],
    [DEFAULT_CLIENT_SECRET_NAME, secrets.clientSecret],
    [INIT_WEBHOOK_SECRET_NAME, secrets.notifyWebhook],
  ] as const) {
    if (value === undefined) continue;
    await keychain.set(name, value);
    await warnIfShadowed(name, environment, output);
    stored.push(name);
  }
  return keychain.describe();
}
