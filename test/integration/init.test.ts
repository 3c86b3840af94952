import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CheckResult } from "../../src/core/checks.ts";
import { parseConfigText } from "../../src/core/config/parse.ts";
import type { Emulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import type { LdapServer } from "../support/ldap-server.ts";
import type { TestCa } from "../support/pki.ts";
import { OFFICES_BASE, SAMPLE_GROUPS, SAMPLE_SITES, SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleWorld, startSampleWorld } from "../support/sample-world.ts";
import { type SecretService, startSecretService } from "../support/secret-service.ts";
import { runCliOnTerminal } from "../support/terminal.ts";

const CLIENT = "init-client";
const CLIENT_SECRET = "init-client-secret-value";
/** startSecretService may have to apt-get install gnome-keyring first. */
const SECRET_SERVICE_SETUP_MS = 600_000;
const SHIPPED_SCHEMA = fileURLToPath(new URL("../../schema/ilobby-sync.schema.json", import.meta.url));

let world: SampleWorld;
let ca: TestCa;
let ldap: LdapServer;
let emulator: Emulator;
let dir: string;

const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};

/** Everything a config needs, as flags; the iLobby ones point at the emulator. */
function flags(): string[] {
  return [
    ...["--url", ldap.url, "--ca-file", ca.certFile, "--bind-dn", SERVICE_ACCOUNT.upn],
    ...["--base", OFFICES_BASE, "--group", SAMPLE_GROUPS.hosts],
    ...["--client-id", CLIENT, "--ilobby-url", emulator.url, "--ilobby-ca-file", emulator.caFile],
  ];
}

const init = (args: string[], env: Record<string, string> = secrets, input?: string) =>
  runCli(["init", ...args], { cwd: dir, env, ...(input === undefined ? {} : { input }) });

beforeAll(async () => {
  world = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET }, certificateDays: 365 });
  ({ ca, ldap, emulator } = world);
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-init-"));
});

describe("init with flags (unattended)", () => {
  it("tests every answer, writes a commented config that validates, and doctor then passes on it", async () => {
    const result = await init(["--json", ...flags(), "--no-store-secrets"]);
    expect(result.code).toBe(0);
    // Each test's result is shown as it comes, on stderr: stdout carries only the JSON document.
    expect(result.stderr).toMatch(/^pass {2}bind as svc-ilobby@corp\.example\.test: bound on/m);
    const report = JSON.parse(result.stdout) as {
      config: string;
      checks: CheckResult[];
      secretsStored: string[];
    };
    expect(report.config).toBe(join(dir, "ilobby-sync.yaml"));
    expect(report.secretsStored).toEqual([]);
    expect(report.checks.map((check) => [check.id, check.status])).toEqual([
      [`dns:${ldap.url}`, "pass"],
      [`tcp:${ldap.url}`, "pass"],
      [`tls:${ldap.url}`, "pass"],
      ["bind", "pass"],
      [`search:${OFFICES_BASE}`, "pass"],
      [`group:${SAMPLE_GROUPS.hosts}`, "pass"],
      ["token:default", "pass"],
      ["coverage", "warn"],
    ]);

    const text = readFileSync(report.config, "utf8");
    expect(text.split("\n")[0]).toBe(`# yaml-language-server: $schema=file://${SHIPPED_SCHEMA}`);
    expect(text).toMatch(/^ {2}bindDn: svc-ilobby@corp\.example\.test +# DN, UPN or DOMAIN\\user/m);
    const parsed = parseConfigText(text);
    expect(parsed.ok ? [] : parsed.problems).toEqual([]);
    if (!parsed.ok) return;
    expect(parsed.config.directory).toMatchObject({
      url: [ldap.url],
      bindDn: SERVICE_ACCOUNT.upn,
      caFile: ca.certFile,
      searchBases: [{ base: OFFICES_BASE }],
      groups: [SAMPLE_GROUPS.hosts],
    });
    expect(parsed.config.ilobby).toMatchObject({
      clientId: CLIENT,
      baseUrl: emulator.url,
      caFile: emulator.caFile,
    });
    expect(parsed.config.sites).toBeUndefined();
    expect(emulator.requests.map((request) => request.endpoint)).toEqual(["token"]);

    const doctor = await runCli(["doctor", "--json"], { cwd: dir, env: secrets });
    const checks = (JSON.parse(doctor.stdout) as { checks: CheckResult[] }).checks;
    expect(checks.filter((check) => check.status === "fail")).toEqual([]);
    expect(doctor.code).toBe(0);
  });

  it("writes a path below the config's folder relative to it, and any other path as it is", async () => {
    mkdirSync(join(dir, "conf"));
    writeFileSync(join(dir, "conf", "corp-ca.pem"), ca.certPem);
    const result = await init([
      ...flags(),
      ...["--ca-file", "conf/corp-ca.pem", "--output", "conf/sync.yaml"],
      "--no-store-secrets",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Next: \`ilobby-sync --config ${join(dir, "conf", "sync.yaml")} doctor\``,
    );
    const text = readFileSync(join(dir, "conf", "sync.yaml"), "utf8");
    expect(text).toMatch(/^ {2}caFile: \.\/corp-ca\.pem +# the CA that issued/m);
    expect(text).toContain(`  caFile: ${emulator.caFile}`);
  });

  it("never overwrites an existing config without --force", async () => {
    const path = join(dir, "ilobby-sync.yaml");
    writeFileSync(path, "# mine\n");
    const refused = await init([...flags(), "--no-store-secrets"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${path} already exists: init does not overwrite a config`);
    expect(refused.stderr).toContain("--force");
    expect(readFileSync(path, "utf8")).toBe("# mine\n");
    // Refused before any server was asked anything.
    expect(emulator.requests).toEqual([]);

    const forced = await init([...flags(), "--no-store-secrets", "--force"]);
    expect(forced.code).toBe(0);
    expect(parseConfigText(readFileSync(path, "utf8")).ok).toBe(true);
  });

  it("names the missing flags when there is no terminal to ask on", async () => {
    const result = await init(["--url", "ldaps://dc1.corp.example.com"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "init needs --bind-dn, --base, --client-id when standard input is not a terminal",
    );
  });

  it("stops at the first failed test with its fix, and writes nothing", async () => {
    const result = await init([...flags(), "--no-store-secrets"], {
      ...secrets,
      ILOBBY_SYNC_BIND_PASSWORD: "not-the-password",
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('bind as "svc-ilobby@corp.example.test" was refused');
    expect(result.stderr).toContain("ilobby-sync secret set bind-password");
    expect(result.stderr).not.toContain("not-the-password");
    expect(existsSync(join(dir, "ilobby-sync.yaml"))).toBe(false);
  });

  it("an untrusted DC certificate stops init at the TLS test, pointing at --ca-file's key", async () => {
    const withoutCa = flags().filter(
      (_flag, index, all) => all[index - 1] !== "--ca-file" && _flag !== "--ca-file",
    );
    const result = await init([...withoutCa, "--no-store-secrets"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("certificate is not trusted");
    expect(result.stderr).toContain("directory.caFile");
  });

  it("reads the secrets from standard input, one line each, when they are not in the environment", async () => {
    const result = await init(
      [...flags(), "--no-store-secrets"],
      {},
      `${SERVICE_ACCOUNT.password}\n${CLIENT_SECRET}\n`,
    );
    expect(result.code).toBe(0);
    expect(emulator.requests.map((request) => request.form?.client_secret)).toEqual([CLIENT_SECRET]);
  });

  it("--no-test --no-store-secrets needs neither servers nor secrets", async () => {
    const result = await init(
      [
        ...["--url", "ldaps://dc1.corp.example.com", "--bind-dn", "CORP\\svc-ilobby"],
        ...["--base", "OU=Staff,DC=corp,DC=example,DC=com", "--client-id", "abc"],
        ...["--no-test", "--no-store-secrets"],
      ],
      {},
    );
    expect(result.code).toBe(0);
    const parsed = parseConfigText(readFileSync(join(dir, "ilobby-sync.yaml"), "utf8"));
    expect(parsed.ok && parsed.config.directory.type === "ldap" && parsed.config.directory.bindDn).toBe(
      "CORP\\svc-ilobby",
    );
    // Without --phone-country the phones block is a comment: numbers are sent as the directory holds them.
    expect(parsed.ok && parsed.config.phones).toBeUndefined();
  });

  it("--phone-country writes phones in E.164 with that default country", async () => {
    const result = await init(
      [
        ...["--url", "ldaps://dc1.corp.example.com", "--bind-dn", "CORP\\svc-ilobby"],
        ...["--base", "OU=Staff,DC=corp,DC=example,DC=com", "--client-id", "abc", "--phone-country", "gb"],
        ...["--no-test", "--no-store-secrets"],
      ],
      {},
    );
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(join(dir, "ilobby-sync.yaml"), "utf8");
    expect(text).toMatch(/^phones: +# /m);
    const parsed = parseConfigText(text);
    expect(parsed.ok && parsed.config.phones).toEqual({
      format: "e164",
      defaultCountry: "GB",
      extensions: "drop",
      invalid: "drop",
    });
  });

  it("refuses a --phone-country that is not a country code before any test, and writes nothing", async () => {
    const result = await init(
      [
        ...["--url", "ldaps://dc1.corp.example.com", "--bind-dn", "CORP\\svc-ilobby"],
        ...["--base", "OU=Staff,DC=corp,DC=example,DC=com", "--client-id", "abc", "--phone-country", "XX"],
        ...["--no-test", "--no-store-secrets"],
      ],
      {},
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--phone-country "XX" is not a country code');
    expect(existsSync(join(dir, "ilobby-sync.yaml"))).toBe(false);
  });

  it("--notify-webhook writes a webhook whose URL is the notify-webhook secret", async () => {
    const result = await init(
      [
        ...["--url", "ldaps://dc1.corp.example.com", "--bind-dn", "CORP\\svc-ilobby"],
        ...[
          "--base",
          "OU=Staff,DC=corp,DC=example,DC=com",
          "--client-id",
          "abc",
          "--notify-webhook",
          "teams",
        ],
        ...["--no-test", "--no-store-secrets"],
      ],
      {},
    );
    expect(result.code, result.stderr).toBe(0);
    const parsed = parseConfigText(readFileSync(join(dir, "ilobby-sync.yaml"), "utf8"));
    expect(parsed.ok && parsed.config.notify).toMatchObject({
      on: ["failure", "guard"],
      webhooks: [{ urlSecret: "notify-webhook", format: "teams" }],
    });
    const wrong = await init(["--notify-webhook", "email", "--no-test", "--no-store-secrets", "--force"], {});
    expect(wrong.code).toBe(2);
  });

  it("writes the config even when the keychain cannot be reached, and says how to store the secrets", async () => {
    const result = await init(flags(), {
      ...secrets,
      DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/ilobby-sync-test-bus",
    });
    expect(result.code).toBe(8);
    expect(result.stdout).toContain(`Wrote ${join(dir, "ilobby-sync.yaml")}.`);
    expect(result.stderr).toMatch(/cannot store "bind-password"/);
    expect(result.stderr + result.stdout).not.toContain(SERVICE_ACCOUNT.password);
    expect(parseConfigText(readFileSync(join(dir, "ilobby-sync.yaml"), "utf8")).ok).toBe(true);
  });
});

describe("init with a real Secret Service", () => {
  let secretService: SecretService;
  beforeAll(async () => {
    secretService = await startSecretService();
  }, SECRET_SERVICE_SETUP_MS);
  afterAll(async () => {
    await secretService?.stop();
  });

  it("stores both secrets in the keychain, where doctor then finds them", async () => {
    const piped = `${SERVICE_ACCOUNT.password}\n${CLIENT_SECRET}\n`;
    const result = await init(flags(), secretService.env, piped);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'Stored bind-password and client-secret in the Secret Service (service "ilobby-sync").',
    );
    expect(secretService.lookup("ilobby-sync", "bind-password")).toBe(SERVICE_ACCOUNT.password);
    expect(secretService.lookup("ilobby-sync", "client-secret")).toBe(CLIENT_SECRET);

    const doctor = await runCli(["doctor", "--json"], { cwd: dir, env: secretService.env });
    const checks = (JSON.parse(doctor.stdout) as { checks: CheckResult[] }).checks;
    const byId = (id: string) => checks.find((check) => check.id === id);
    expect(byId("keychain")).toMatchObject({ status: "pass", summary: expect.stringContaining("reachable") });
    expect(byId("secret:bind-password")?.summary).toMatch(/^from keychain /);
    expect(byId("secret:client-secret")?.summary).toMatch(/^from keychain /);
    expect(byId("bind")?.status).toBe("pass");
    expect(byId("token:default")?.status).toBe("pass");
    expect(doctor.code).toBe(0);
  });
});

function initOnTerminal(args: string[], steps: [prompt: string, keys: string][]) {
  return runCliOnTerminal(["init", ...args], steps, { cwd: dir });
}

describe("init on a terminal", () => {
  it("asks for each value, tests it as it goes, asks for the CA when TLS is not trusted, and hides the secrets", async () => {
    writeFileSync(join(dir, "corp-ca.pem"), ca.certPem);
    const ilobbyFlags = [
      "--ilobby-url",
      emulator.url,
      "--ilobby-ca-file",
      emulator.caFile,
      "--no-store-secrets",
    ];
    const { code, terminal } = await initOnTerminal(ilobbyFlags, [
      // Active Directory is the default answer; Entra ID is the other choice (test/integration/entra.test.ts).
      ["Directory: ad (Active Directory, LDAP) or entra", "\r"],
      ["Domain controller URL(s)", `${ldap.url}\r`],
      ["CA certificate (PEM file)", "corp-ca.pem\r"],
      ["Bind account", `${SERVICE_ACCOUNT.upn}\r`],
      ["(typing is hidden): ", "wrong-password\r"],
      ["Bind account", "\r"],
      ["(typing is hidden): ", `${SERVICE_ACCOUNT.password}\r`],
      ["Search base", `${OFFICES_BASE}\r`],
      ["Another search base", "\r"],
      ["Only sync the members of a group?", "\r"],
      ["iLobby API client id", `${CLIENT}\r`],
      ["(typing is hidden): ", `${CLIENT_SECRET}\r`],
      ["Site names", `${SAMPLE_SITES.join(", ")}\r`],
      ["Country of phone numbers", "XX\r"],
      ["Country of phone numbers", "ca\r"],
      ["Webhook to tell when a sync fails", "http://hooks.example.test/x\r"],
      ["Webhook to tell when a sync fails", "https://hooks.slack.com/services/T1/B2/init-token\r"],
      ["Its format: teams, slack or json [slack]", "\r"],
    ]);
    expect(code, terminal).toBe(0);
    expect(terminal).toMatch(/FAIL {2}TLS ldaps:\/\/127\.0\.0\.1:\d+: .*certificate is not trusted/);
    expect(terminal).toMatch(/fix: set directory\.caFile/);
    expect(terminal).toMatch(/pass {2}TLS ldaps:\/\/127\.0\.0\.1:\d+: TLSv1\.[23]/);
    expect(terminal).toMatch(/FAIL {2}bind as svc-ilobby@corp\.example\.test: .*was refused/);
    expect(terminal).toMatch(/pass {2}bind as svc-ilobby@corp\.example\.test: bound on/);
    expect(terminal).toMatch(/pass {2}search OU=Offices,DC=corp,DC=example,DC=test: 46 users match/);
    expect(terminal).toMatch(/pass {2}token for client init-client: iLobby issued a token/);
    // The portal's site names are not the directory's office codes: the coverage test says so and how to map them.
    expect(terminal).toMatch(/FAIL {2}attribute coverage: 0 of 46 users would be uploaded/);
    expect(terminal).toContain('"TOR-3F" (9)');
    expect(terminal).toContain("mapping.SITE.map");
    expect(terminal).toContain("Wrote ");
    for (const secret of [SERVICE_ACCOUNT.password, CLIENT_SECRET, "wrong-password"])
      expect(terminal).not.toContain(secret);

    const parsed = parseConfigText(readFileSync(join(dir, "ilobby-sync.yaml"), "utf8"));
    expect(parsed.ok ? [] : parsed.problems).toEqual([]);
    if (!parsed.ok) return;
    expect(parsed.config.directory).toMatchObject({ url: [ldap.url], caFile: "./corp-ca.pem", groups: [] });
    expect(parsed.config.sites).toEqual(SAMPLE_SITES);
    expect(terminal).toContain('"XX" is not a two-letter ISO 3166-1 country code');
    expect(parsed.config.phones).toEqual({
      format: "e164",
      defaultCountry: "CA",
      extensions: "drop",
      invalid: "drop",
    });
    expect(terminal).toContain("a webhook must be an https:// URL");
    expect(parsed.config.notify?.webhooks).toEqual([{ urlSecret: "notify-webhook", format: "slack" }]);
    expect(readFileSync(join(dir, "ilobby-sync.yaml"), "utf8")).not.toContain("init-token");
  });
});
