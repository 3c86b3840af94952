/**
 * The commented config file `init` writes: the administrator's answers, every other key at its default with a
 * comment saying what it does, and a first line that points editors at the JSON Schema. Pure: the same answers
 * always give the same text, and that text must pass the tool's own validation (tested).
 */
import { stringify } from "yaml";
import { COLUMNS, type Column } from "../columns.ts";
import { INIT_WEBHOOK_SECRET_NAME, type WebhookFormat } from "../notify/config.ts";
import { defaultMappingFor } from "./defaults.ts";

/** An Entra ID source instead of LDAP (`init --source entra`). */
export interface EntraAnswers {
  tenantId: string;
  /** The app registration's Application (client) ID. */
  clientId: string;
  /** As it goes into the file; absent: the entra-client-secret secret. */
  certificateFile?: string | undefined;
  groups: string[];
  /** Only for a sovereign cloud (or a test emulator). */
  authorityUrl?: string | undefined;
  graphUrl?: string | undefined;
}

export interface ConfigAnswers {
  /** Set for an Entra ID source: the LDAP answers are then not written. */
  entra?: EntraAnswers | undefined;
  urls: string[];
  bindDn: string;
  /** As it goes into the file: relative to the config file, or absolute. */
  caFile?: string | undefined;
  startTls: boolean;
  bases: string[];
  groups: string[];
  clientId: string;
  /** Only when not the public iLobby API. */
  baseUrl?: string | undefined;
  ilobbyCaFile?: string | undefined;
  proxy?: string | undefined;
  sites: string[];
  /** Country of phone numbers written without a country code: writes `phones` (E.164). */
  phoneCountry?: string | undefined;
  /** A webhook for failures and guard trips, its URL kept as the secret `notify-webhook`. */
  notifyWebhookFormat?: WebhookFormat | undefined;
}

/** Where comments start, as in config.example.yaml. */
const COMMENT_COLUMN = 46;

/** One YAML scalar, quoted only when YAML needs it (a DN with "#", a value like "yes"). */
function scalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

function line(text: string, comment?: string): string {
  if (!comment) return text;
  return `${text.padEnd(COMMENT_COLUMN - 1)} # ${comment}`;
}

/** A scalar or a one-line list, as config.example.yaml writes them: `[mail, userPrincipalName]`. */
function flow(value: string | readonly string[]): string {
  return stringify(value, { collectionStyle: "flow", flowCollectionPadding: false, lineWidth: 0 }).trimEnd();
}

const MAPPING_COMMENTS: Partial<Record<Column, string>> = {
  EMAIL: "a list: the first non-empty value wins",
  SITE: 'or { attribute: ..., map: { "TOR-*": Toronto }, default: ... }',
};

function list(indent: string, values: readonly string[]): string[] {
  return values.map((value) => `${indent}- ${scalar(value)}`);
}

function ldapDirectoryLines(answers: ConfigAnswers): string[] {
  return [
    "directory:",
    line("  url:", "tried in order (fail-over); 636 = LDAPS, 3269 = Global Catalog"),
    ...list("    ", answers.urls),
    line(
      `  bindDn: ${scalar(answers.bindDn)}`,
      "DN, UPN or DOMAIN\\user; its password is the bind-password secret",
    ),
    answers.caFile
      ? line(`  caFile: ${scalar(answers.caFile)}`, "the CA that issued the domain controllers' certificates")
      : line("  # caFile: ./corp-root-ca.pem", "your enterprise root CA; otherwise the system trust store"),
    line(
      `  startTls: ${answers.startTls}`,
      "true: upgrade ldap:// URLs with StartTLS; plain LDAP is refused",
    ),
    line("  searchBases:", "OUs searched (subtree); { base: DN, site: Name } gives everyone below a SITE"),
    ...list("    ", answers.bases),
    ...(answers.groups.length > 0
      ? [line("  groups:", "only members of any of these groups are synced"), ...list("    ", answers.groups)]
      : [line("  groups: []", "optional: only members of any of these groups (DNs)")]),
    line("  nestedGroups: true", "members of nested groups count too"),
    line("  includeDisabled: false", "disabled accounts are left out (and so disabled in iLobby)"),
    line('  # filter: "(title=*)"', "an extra LDAP filter, ANDed with the others"),
    line("  pageSize: 500", "AD serves at most 1000 per page"),
    line("  timeoutSeconds: 120", "for the whole search"),
  ];
}

/** The directory block of an Entra ID source (docs/entra-id.md). */
function entraDirectoryLines(entra: EntraAnswers, caFile: string | undefined): string[] {
  return [
    "directory:",
    line("  type: entra", "Microsoft Entra ID through Microsoft Graph"),
    line(`  tenantId: ${scalar(entra.tenantId)}`, "the tenant's primary domain or Directory (tenant) ID"),
    line(`  clientId: ${scalar(entra.clientId)}`, "the app registration's Application (client) ID"),
    entra.certificateFile
      ? line(
          `  certificateFile: ${scalar(entra.certificateFile)}`,
          "certificate + unencrypted key (PEM, mode 0600)",
        )
      : line("  # certificateFile: ./entra.pem", "else the entra-client-secret secret is the credential"),
    ...(entra.groups.length > 0
      ? [line("  groups:", "group object ids: their transitive user members"), ...list("    ", entra.groups)]
      : [line("  groups: []", "group object ids; none = every user of the tenant")]),
    line("  includeDisabled: false", "accountEnabled false: left out (and so disabled in iLobby)"),
    line("  includeGuests: false", "userType Guest: left out"),
    entra.authorityUrl
      ? line(`  authorityUrl: ${scalar(entra.authorityUrl)}`, "the identity platform of your cloud")
      : line("  # authorityUrl: https://login.microsoftonline.com", "sovereign clouds have their own"),
    entra.graphUrl
      ? line(`  graphUrl: ${scalar(entra.graphUrl)}`, "Microsoft Graph of your cloud")
      : line("  # graphUrl: https://graph.microsoft.com"),
    caFile
      ? line(`  caFile: ${scalar(caFile)}`, "extra trusted CA, e.g. a TLS-inspecting proxy")
      : line("  # caFile: ./proxy-ca.pem", "extra trusted CA, e.g. a TLS-inspecting proxy"),
    line("  pageSize: 999", "Graph serves at most 999 per page"),
    line("  timeoutSeconds: 120", "per request"),
  ];
}

export function renderConfigTemplate(answers: ConfigAnswers, schemaReference: string): string {
  const defaultMapping = defaultMappingFor(answers.entra ? "entra" : "ldap");
  const lines = [
    `# yaml-language-server: $schema=${schemaReference}`,
    "#",
    "# ilobby-sync configuration, written by `ilobby-sync init`. Secrets never go in this file: they are kept in",
    "# the OS keychain (`ilobby-sync secret list` shows where each one comes from). Relative paths are relative to",
    "# this file; unknown keys are errors, so a typo never silently does nothing. Next: `ilobby-sync doctor`",
    "# checks the whole setup, `ilobby-sync run --dry-run` shows what a sync would change.",
    "",
    "ilobby:",
    line(
      `  clientId: ${scalar(answers.clientId)}`,
      "the API key's client id; its secret is the client-secret secret",
    ),
    answers.baseUrl
      ? line(`  baseUrl: ${scalar(answers.baseUrl)}`, "the iLobby partner API")
      : line("  # baseUrl: https://partnerapi.goilobby.com", "default"),
    answers.ilobbyCaFile
      ? line(`  caFile: ${scalar(answers.ilobbyCaFile)}`, "extra trusted CA, e.g. a TLS-inspecting proxy")
      : line("  # caFile: ./proxy-ca.pem", "extra trusted CA, e.g. a TLS-inspecting proxy"),
    answers.proxy
      ? line(`  proxy: ${scalar(answers.proxy)}`, "HTTP(S) proxy for the iLobby API")
      : line(
          "  # proxy: http://proxy.corp.example.com:8080",
          "otherwise HTTPS_PROXY / NO_PROXY are honoured",
        ),
    line("  timeoutSeconds: 60", "per HTTP request; network errors, 429 and 5xx are retried"),
    "",
    ...(answers.entra ? entraDirectoryLines(answers.entra, answers.caFile) : ldapDirectoryLines(answers)),
    "",
    line(
      "mapping:",
      `iLobby column <- ${answers.entra ? "Graph user property" : "AD attribute"}(s); these are the defaults`,
    ),
    ...COLUMNS.map((column) =>
      line(`  ${column}: ${flow(defaultMapping[column])}`, MAPPING_COMMENTS[column]),
    ),
    "",
    ...(answers.sites.length > 0
      ? [
          line("sites:", "the portal's site names, exactly; any other SITE is left out"),
          ...list("  ", answers.sites),
        ]
      : [line("# sites: [Toronto, Montreal]", "the portal's site names; any other SITE is left out")]),
    "",
    ...(answers.phoneCountry
      ? [
          line("phones:", "MOBILE and DESKPHONE in a format iLobby can dial (SMS, calls)"),
          line("  format: e164", "e164 (+14165550199) | international (+1 416 555 0199) | asIs"),
          line(
            `  defaultCountry: ${scalar(answers.phoneCountry)}`,
            "for numbers written without a country code",
          ),
          line("  # countryBySite: { London: GB }", "SITE -> country, before defaultCountry"),
          line("  extensions: drop", 'drop | keep (sent as ";ext=204")'),
          line("  invalid: drop", "drop (iLobby keeps what it has) | keep; reported either way"),
        ]
      : [
          line("# phones:", "MOBILE and DESKPHONE in a format iLobby can dial (SMS, calls)"),
          line("#   format: e164", "e164 | international | asIs (the default without this block)"),
          line("#   defaultCountry: CA", "for numbers written without a country code"),
        ]),
    "",
    line("# stateDir: ./state", "last upload per target (default: the OS's per-user data folder)"),
    "safety:",
    line('  maxDisable: "10%"', "stop when more hosts would be disabled: a count or a % of the last upload"),
    line("  ignoreUpTo: 5", "never stop for this many or fewer"),
    line("  planMaxAge: 24h", "`apply` refuses older plans; the next run deletes saved ones older"),
    "# log:",
    line("#   file: ./ilobby-sync.log", "one JSON line per event, for unattended runs"),
    "",
    ...(answers.notifyWebhookFormat
      ? [
          line("notify:", "tell a person when a sync needs them (docs/notifications.md)"),
          line("  on: [failure, guard]", "any of: failure, guard, warning, success"),
          "  webhooks:",
          line(
            `    - urlSecret: ${INIT_WEBHOOK_SECRET_NAME}`,
            `the URL is a secret: \`ilobby-sync secret set ${INIT_WEBHOOK_SECRET_NAME}\``,
          ),
          line(`      format: ${answers.notifyWebhookFormat}`, "json | teams (Workflows) | slack"),
        ]
      : [line("# notify:", "tell a person when a sync needs them (docs/notifications.md)")]),
    line(
      "#   email: { host: smtp.example.com, port: 587, from: ..., to: [...] }",
      "password: smtp-password secret",
    ),
    line("#   pingSecret: healthchecks", "a healthchecks.io heartbeat URL, kept as a secret"),
    "",
  ];
  return lines.join("\n");
}
