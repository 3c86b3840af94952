/**
 * The `init` use case: gathers what a config needs (from flags, or asked on a terminal) and tests each answer as it
 * goes with `doctor`'s checks: the DC URLs (DNS, TCP, TLS), the bind account and password, each search base and
 * group, the iLobby client id and secret. Each test runs against a draft of the very config that will be written.
 * On a terminal a failed test shows its fix and asks again; unattended, it stops init with that test's error.
 */

import { bindNameCheck } from "../core/bind-name.ts";
import { type CheckResult, failed } from "../core/checks.ts";
import { parseConfigText } from "../core/config/parse.ts";
import type { Config } from "../core/config/schema.ts";
import { type ConfigAnswers, renderConfigTemplate } from "../core/config/template.ts";
import { assessCoverage, attributeCoverage } from "../core/doctor.ts";
import { SyncError } from "../core/errors.ts";
import {
  INIT_WEBHOOK_SECRET_NAME,
  likelyWebhookFormat,
  WEBHOOK_FORMATS,
  type WebhookFormat,
} from "../core/notify/config.ts";
import { isCountryCode } from "../core/phones.ts";
import type { SourceRecord } from "../core/source-record.ts";
import { type ResolvedTarget, resolveTargets } from "../core/targets.ts";
import { type EndpointProbe, endpointChecks, type TokenSource, tokenCheck } from "./doctor.ts";

/** What the flags gave; anything missing is asked for on a terminal. */
export interface InitGiven {
  /** The directory source: ldap (the default unattended; asked on a terminal) or entra. */
  source?: "ldap" | "entra" | undefined;
  /** Entra: the tenant, the app registration's Application (client) ID, and its certificate file. */
  tenantId?: string | undefined;
  appId?: string | undefined;
  certificateFile?: string | undefined;
  authorityUrl?: string | undefined;
  graphUrl?: string | undefined;
  urls: string[];
  bindDn?: string | undefined;
  caFile?: string | undefined;
  bases: string[];
  groups: string[];
  clientId?: string | undefined;
  sites: string[];
  baseUrl?: string | undefined;
  ilobbyCaFile?: string | undefined;
  proxy?: string | undefined;
  /** Country of phone numbers written without a country code; absent: numbers are sent as they are. */
  phoneCountry?: string | undefined;
  /** A webhook's format (json, teams, slack); its URL is the secret notify-webhook. */
  notifyWebhookFormat?: string | undefined;
}

export interface InitSecrets {
  bindPassword?: string | undefined;
  /** The Entra app's client secret (not with a certificate). */
  entraClientSecret?: string | undefined;
  clientSecret?: string | undefined;
  /** The notification webhook's URL (it carries a token). */
  notifyWebhook?: string | undefined;
}

/** The conversation: a terminal, or nothing (unattended) where every ask is a bug and says so. */
export interface InitDialog {
  readonly interactive: boolean;
  /** An empty answer takes `defaultAnswer`. */
  ask(question: string, defaultAnswer?: string): Promise<string>;
  askSecret(question: string): Promise<string>;
  report(check: CheckResult): void;
  say(message: string): void;
}

/** The LDAP directory as init tests its answers: with the bind password typed, against each new draft. */
export interface InitDirectoryProbe {
  checkBind(): Promise<CheckResult>;
  /** The users the draft's filter finds under one of its search bases. */
  checkSearchBase(draft: Config, baseIndex: number): Promise<{ check: CheckResult; records: SourceRecord[] }>;
  /** That a group of the draft exists and has members in its search bases. */
  checkGroup(draft: Config, group: string): Promise<CheckResult>;
}

export interface InitPorts {
  now(): number;
  /** A path typed by the user (relative to the working directory) as the config file must name it. */
  configPath(path: string): string;
  directoryEndpoint(draft: Config): EndpointProbe;
  openDirectory(draft: Config, bindPassword: string): Promise<InitDirectoryProbe>;
  tokenSource(draft: Config, target: ResolvedTarget, clientSecret: string): Promise<TokenSource>;
  /** doctor's Entra checks of a draft (token, permissions, groups, coverage); `secret` absent with a certificate. */
  checkEntra(draft: Config, secret: string | undefined): Promise<CheckResult[]>;
}

export interface InitOptions {
  /** Test the answers against the directory and iLobby. */
  test: boolean;
  /** The secrets are needed: to test, or to store them. */
  needSecrets: boolean;
}

export interface InitResult {
  answers: ConfigAnswers;
  secrets: InitSecrets;
  checks: CheckResult[];
}

/** Unanswered required keys in a draft; never written to a file. */
const PENDING = {
  bindDn: "pending@pending",
  base: "DC=pending",
  clientId: "pending",
  tenantId: "pending.onmicrosoft.com",
  appId: "00000000-0000-4000-8000-000000000000",
};

/** The config as it will be written, validated as a run validates it; placeholders stand in for later answers. */
export function draftConfig(answers: ConfigAnswers, schemaReference = ""): Config {
  const result = parseConfigText(
    renderConfigTemplate(
      {
        ...answers,
        bindDn: answers.bindDn || PENDING.bindDn,
        bases: answers.bases.length > 0 ? answers.bases : [PENDING.base],
        clientId: answers.clientId || PENDING.clientId,
        entra: answers.entra && {
          ...answers.entra,
          tenantId: answers.entra.tenantId || PENDING.tenantId,
          clientId: answers.entra.clientId || PENDING.appId,
        },
      },
      schemaReference,
    ),
  );
  if (result.ok) return result.config;
  throw new SyncError(
    "config",
    result.problems.map((problem) => `${problem.path}: ${problem.message}`).join("; "),
    { fix: "correct the answer" },
  );
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function missingFlags(given: InitGiven): string[] {
  const missing: string[] = [];
  if (given.source === "entra") {
    if (!given.tenantId) missing.push("--tenant-id");
    if (!given.appId) missing.push("--app-id");
  } else {
    if (given.urls.length === 0) missing.push("--url");
    if (!given.bindDn) missing.push("--bind-dn");
    if (given.bases.length === 0) missing.push("--base");
  }
  if (!given.clientId) missing.push("--client-id");
  return missing;
}

/** The secrets init reads for a source, in the order lines of standard input give them. */
export function initSecretsFor(
  source: InitGiven["source"],
  certificateFile: string | undefined,
): Array<"bindPassword" | "entraClientSecret" | "clientSecret"> {
  if (source !== "entra") return ["bindPassword", "clientSecret"];
  return certificateFile ? ["clientSecret"] : ["entraClientSecret", "clientSecret"];
}

/** An unattended init ends with the failed test's own message, cause and fix. */
function failureOf(check: CheckResult): SyncError {
  const cause = check.details.find((detail) => detail.startsWith("cause: "))?.slice("cause: ".length);
  return new SyncError(check.category ?? "config", check.summary, {
    cause,
    fix: check.fix,
    data: { check: check.id },
  });
}

export async function runInit(
  given: InitGiven,
  known: InitSecrets,
  dialog: InitDialog,
  ports: InitPorts,
  options: InitOptions,
): Promise<InitResult> {
  // Checked first: a typo must not cost the administrator every test and answer before it.
  const phoneCountry = given.phoneCountry?.trim().toUpperCase();
  if (phoneCountry && !isCountryCode(phoneCountry)) {
    throw new SyncError("config", `--phone-country "${phoneCountry}" is not a country code`, {
      fix: "give a two-letter ISO 3166-1 code such as CA, US, GB or FR",
    });
  }
  if (!dialog.interactive) {
    const missing = missingFlags(given);
    if (missing.length > 0) {
      throw new SyncError(
        "config",
        `init needs ${missing.join(", ")} when standard input is not a terminal`,
        {
          fix: "pass them (see `ilobby-sync init --help`), or run `ilobby-sync init` in a terminal to be asked",
        },
      );
    }
    if (given.source === "entra") {
      const missingSecret = initSecretsFor("entra", given.certificateFile).some((key) => !known[key]);
      if (options.needSecrets && missingSecret) {
        throw new SyncError(
          "secret",
          "init needs the Entra app's client secret and the iLobby client secret",
          {
            fix: "set ILOBBY_SYNC_ENTRA_CLIENT_SECRET (not with --certificate-file) and ILOBBY_SYNC_CLIENT_SECRET, or pipe them in (one line each, in that order), or pass --no-test --no-store-secrets",
          },
        );
      }
    } else if (options.needSecrets && (!known.bindPassword || !known.clientSecret)) {
      throw new SyncError(
        "secret",
        "init needs the bind password and the client secret, to test and store them",
        {
          fix: "set ILOBBY_SYNC_BIND_PASSWORD and ILOBBY_SYNC_CLIENT_SECRET, or pipe them in (the bind password on the first line, the client secret on the second), or pass --no-test --no-store-secrets",
        },
      );
    }
  }
  const checks: CheckResult[] = [];
  const secrets: InitSecrets = { ...known };
  const answers: ConfigAnswers = {
    urls: [],
    bindDn: "",
    caFile: given.caFile && ports.configPath(given.caFile),
    startTls: false,
    bases: [],
    groups: [],
    clientId: "",
    baseUrl: given.baseUrl,
    ilobbyCaFile: given.ilobbyCaFile && ports.configPath(given.ilobbyCaFile),
    proxy: given.proxy,
    sites: [],
  };

  const report = (check: CheckResult) => {
    checks.push(check);
    dialog.report(check);
  };
  /** True when the answer must be asked again; unattended, a failed test ends init with its error. */
  const mustAskAgain = (results: readonly CheckResult[]): boolean => {
    const failure = results.find((check) => check.status === "fail");
    if (!failure) return false;
    if (!dialog.interactive) throw failureOf(failure);
    return true;
  };
  /** A draft of the config with the answers so far, or undefined (reported) when an answer is not valid. */
  const draft = (): Config | undefined => {
    try {
      return draftConfig(answers);
    } catch (error) {
      const check = failed("answer", "answer", error);
      report(check);
      mustAskAgain([check]);
      return undefined;
    }
  };
  /** A secret from the environment or standard input is used first; one that was refused is asked for. */
  const secretFor = async (key: keyof InitSecrets, question: string): Promise<string | undefined> => {
    if (!options.needSecrets) return undefined;
    secrets[key] ??= await dialog.askSecret(question);
    return secrets[key];
  };

  /** What the search bases hold (LDAP), for the coverage check at the end. */
  const records: SourceRecord[] = [];

  /** Entra ID: the tenant, the app and its credential, the groups; tested with doctor's Entra checks. */
  const askEntraDirectory = async (): Promise<void> => {
    const entra = {
      tenantId: given.tenantId ?? "",
      clientId: given.appId ?? "",
      certificateFile: given.certificateFile && ports.configPath(given.certificateFile),
      groups: [...given.groups],
      authorityUrl: given.authorityUrl,
      graphUrl: given.graphUrl,
    };
    answers.entra = entra;
    for (let asked = false; ; asked = true) {
      if (!entra.tenantId || asked) {
        entra.tenantId = await dialog.ask(
          "Entra tenant: its primary domain (contoso.onmicrosoft.com) or Directory (tenant) ID",
          entra.tenantId || undefined,
        );
      }
      if (!entra.clientId || asked) {
        entra.clientId = await dialog.ask(
          "Application (client) ID of the app registration (docs/entra-id.md)",
          entra.clientId || undefined,
        );
      }
      if (dialog.interactive && (given.certificateFile === undefined || asked)) {
        const file = await dialog.ask(
          "Certificate file: PEM with the app's certificate and unencrypted key (empty: use a client secret)",
          entra.certificateFile,
        );
        entra.certificateFile = file ? ports.configPath(file) : undefined;
      }
      if (dialog.interactive && (given.groups.length === 0 || asked)) {
        const groups = await dialog.ask(
          "Group object ids to sync, comma-separated (empty: every user of the tenant)",
          entra.groups.join(", ") || undefined,
        );
        entra.groups = splitList(groups);
      }
      const config = draft();
      if (!config) continue;
      const secret = entra.certificateFile
        ? undefined
        : await secretFor("entraClientSecret", `Client secret of app ${entra.clientId} (typing is hidden): `);
      if (!options.test || (!entra.certificateFile && secret === undefined)) break;
      const results = await ports.checkEntra(config, secret);
      for (const check of results) report(check);
      if (!mustAskAgain(results)) break;
      secrets.entraClientSecret = undefined;
    }
  };

  /** Active Directory: the DCs, the bind account, the search bases and groups, each tested as it is given. */
  const askLdapDirectory = async (): Promise<void> => {
    // Domain controllers: DNS, TCP and TLS of each URL.
    let urls = given.urls;
    for (;;) {
      if (urls.length === 0) {
        const question = "Domain controller URL(s), comma-separated (ldaps://dc1.corp.example.com)";
        urls = splitList(await dialog.ask(question, answers.urls.join(", ") || undefined));
      }
      answers.urls = urls;
      answers.startTls = urls.some((url) => url.startsWith("ldap://"));
      const config = draft();
      if (config) {
        if (!options.test) break;
        const results: CheckResult[] = [];
        for (const url of config.directory.type === "ldap" ? config.directory.url : []) {
          for (const check of await endpointChecks(url, ports.directoryEndpoint(config), ports.now())) {
            report(check);
            results.push(check);
          }
        }
        if (!mustAskAgain(results)) break;
        // The fix of an untrusted certificate is a CA file: ask for it and test the same URLs again.
        if (results.some((check) => check.fix?.includes("directory.caFile"))) {
          const question =
            "CA certificate (PEM file) that issued the domain controllers' certificates (empty: none)";
          const caFile = await dialog.ask(question);
          answers.caFile = caFile ? ports.configPath(caFile) : undefined;
          if (caFile) continue;
        }
      }
      urls = [];
    }
    if (answers.startTls)
      dialog.say("ldap:// URLs will be upgraded with StartTLS (directory.startTls: true).");

    // The bind account: the form of its name, then a real bind with its password.
    let directory: InitDirectoryProbe | undefined;
    let bindDn = given.bindDn;
    for (;;) {
      const question = "Bind account: a UPN (svc-ilobby@corp.example.com), DOMAIN\\user or a DN";
      answers.bindDn = bindDn ?? (await dialog.ask(question, answers.bindDn || undefined));
      bindDn = undefined;
      const nameCheck = bindNameCheck(answers.bindDn);
      if (nameCheck.status !== "pass") report(nameCheck);
      const config = draft();
      if (!config) continue;
      const password = await secretFor("bindPassword", `Password of ${answers.bindDn} (typing is hidden): `);
      if (!options.test || password === undefined) break;
      let bind: CheckResult;
      try {
        directory = await ports.openDirectory(config, password);
        bind = await directory.checkBind();
      } catch (error) {
        bind = failed("bind", `bind as ${answers.bindDn}`, error);
      }
      report(bind);
      if (!mustAskAgain([bind])) break;
      secrets.bindPassword = undefined;
    }

    // Search bases: each searched with the run's filter, showing how many users it holds.
    const pendingBases = [...given.bases];
    for (;;) {
      let base = pendingBases.shift();
      if (base === undefined) {
        if (given.bases.length > 0 && answers.bases.length > 0) break;
        base = await dialog.ask(
          answers.bases.length === 0
            ? "Search base: the distinguished name of an OU holding the users (OU=Staff,DC=corp,DC=example,DC=com)"
            : "Another search base (empty: done)",
        );
        if (!base) {
          if (answers.bases.length > 0) break;
          continue;
        }
      }
      answers.bases.push(base);
      const config = draft();
      const search =
        config && directory ? await directory.checkSearchBase(config, answers.bases.length - 1) : undefined;
      if (search) report(search.check);
      if (!config || (search && mustAskAgain([search.check]))) answers.bases.pop();
      else if (search) records.push(...search.records);
    }

    // Groups (optional): each must exist and have members below the search bases.
    const pendingGroups = [...given.groups];
    const askForGroups = dialog.interactive && given.groups.length === 0;
    for (;;) {
      let group = pendingGroups.shift();
      if (group === undefined) {
        if (!askForGroups) break;
        group = await dialog.ask(
          answers.groups.length === 0
            ? "Only sync the members of a group? Its distinguished name (empty: everyone in the search bases)"
            : "Another group (empty: done)",
        );
        if (!group) break;
      }
      answers.groups.push(group);
      const config = draft();
      const check = config && directory ? await directory.checkGroup(config, group) : undefined;
      if (check) report(check);
      if (!config || (check && mustAskAgain([check]))) answers.groups.pop();
    }
  };

  const source =
    given.source ??
    (dialog.interactive &&
    /^e/i.test(await dialog.ask("Directory: ad (Active Directory, LDAP) or entra (Microsoft Entra ID)", "ad"))
      ? "entra"
      : "ldap");
  if (source === "entra") await askEntraDirectory();
  else await askLdapDirectory();

  // The iLobby API key: a token proves the client id and secret; nothing is uploaded.
  let clientId = given.clientId;
  for (;;) {
    const question = "iLobby API client id (from the iLobby portal)";
    answers.clientId = clientId ?? (await dialog.ask(question, answers.clientId || undefined));
    clientId = undefined;
    const config = draft();
    if (!config) continue;
    const secret = await secretFor(
      "clientSecret",
      `Client secret of ${answers.clientId} (typing is hidden): `,
    );
    const [target] = resolveTargets(config);
    if (!options.test || secret === undefined || !target) break;
    const check = await tokenCheck(target, () => ports.tokenSource(config, target, secret));
    report(check);
    if (!mustAskAgain([check])) break;
    secrets.clientSecret = undefined;
    // The fix of an unreachable API is often a proxy: ask for one before trying again.
    if (check.fix?.includes("ilobby.proxy")) {
      const question = "Proxy for the iLobby API, e.g. http://proxy.corp.example.com:8080 (empty: none)";
      answers.proxy = (await dialog.ask(question, answers.proxy)) || undefined;
    }
  }

  // Site names: iLobby has no API to list them, so the directory's SITE values are compared with them instead.
  const question = "Site names exactly as in the iLobby portal, comma-separated (empty: do not check SITE)";
  answers.sites =
    given.sites.length > 0 || !dialog.interactive ? given.sites : splitList(await dialog.ask(question));

  // Phone numbers: E.164 needs the country of the numbers that are written without one.
  answers.phoneCountry = given.phoneCountry?.trim().toUpperCase() || undefined;
  while (given.phoneCountry === undefined && dialog.interactive) {
    const answer = (
      await dialog.ask(
        "Country of phone numbers written without a country code, e.g. CA, US, GB (empty: send numbers as they are)",
      )
    )
      .trim()
      .toUpperCase();
    if (answer === "" || isCountryCode(answer)) {
      answers.phoneCountry = answer || undefined;
      break;
    }
    dialog.say(`"${answer}" is not a two-letter ISO 3166-1 country code such as CA, US, GB or FR`);
  }
  await askNotifyWebhook(given, answers, secrets, dialog);
  const config = draft();
  if (config && options.test && records.length > 0) {
    report(assessCoverage("coverage", "attribute coverage", config, attributeCoverage(config, records)));
  }
  return { answers, secrets, checks };
}

function isWebhookFormat(value: string): value is WebhookFormat {
  return (WEBHOOK_FORMATS as readonly string[]).includes(value);
}

/** An optional channel for failures and guard trips: a webhook whose URL is stored as a secret, never written. */
async function askNotifyWebhook(
  given: InitGiven,
  answers: ConfigAnswers,
  secrets: InitSecrets,
  dialog: InitDialog,
): Promise<void> {
  if (given.notifyWebhookFormat !== undefined) {
    const format = given.notifyWebhookFormat.trim().toLowerCase();
    if (!isWebhookFormat(format)) {
      throw new SyncError(
        "config",
        `--notify-webhook "${given.notifyWebhookFormat}" is not a webhook format`,
        {
          fix: `use one of ${WEBHOOK_FORMATS.join(", ")}`,
        },
      );
    }
    answers.notifyWebhookFormat = format;
    return;
  }
  if (!dialog.interactive) return;
  for (;;) {
    const url = (
      await dialog.ask(
        "Webhook to tell when a sync fails or the guard stops it: a Teams Workflows, Slack or other https:// URL (empty: none)",
      )
    ).trim();
    if (url === "") return;
    if (!/^https:\/\/[^/\s]+/.test(url)) {
      dialog.say("a webhook must be an https:// URL");
      continue;
    }
    secrets.notifyWebhook = url;
    for (;;) {
      const format = (await dialog.ask("Its format: teams, slack or json", likelyWebhookFormat(url)))
        .trim()
        .toLowerCase();
      if (isWebhookFormat(format)) {
        answers.notifyWebhookFormat = format;
        break;
      }
      dialog.say(`"${format}" is not one of ${WEBHOOK_FORMATS.join(", ")}`);
    }
    dialog.say(
      `the URL will be stored as the secret ${INIT_WEBHOOK_SECRET_NAME}; \`ilobby-sync notify test\` sends a test message`,
    );
    return;
  }
}
