import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../emulator/emulator.ts";
import { CLI_PATH, type CliRun, runCli as runCliWith } from "../support/cli.ts";
import type { LdapServer } from "../support/ldap-server.ts";
import { expectedRows, SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleWorld, startSampleWorld } from "../support/sample-world.ts";
import { type SecretService, startSecretService } from "../support/secret-service.ts";
import { runCliOnTerminal } from "../support/terminal.ts";

/** apt-get may have to install gnome-keyring first. */
const SETUP_TIMEOUT_MS = 600_000;

const work = mkdtempSync(join(tmpdir(), "ilobby-keychain-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The built CLI with only the environment given (no ILOBBY_SYNC_* or D-Bus address from the outer shell). */
function runCli(args: string[], options: { env: Record<string, string>; input?: string }): Promise<CliRun> {
  return runCliWith(args, { ...options, cwd: work });
}

const SINGLE_TARGET = "ilobby:\n  clientId: test-client\n";

/** A valid config that never reaches a server in these tests; `extra` is appended YAML. */
function writeConfig(name: string, extra = "", ilobby = SINGLE_TARGET): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(
    path,
    `${ilobby}directory:
  url: ldaps://127.0.0.1:1
  bindDn: svc-ilobby@corp.example.test
  searchBases: [OU=Staff,DC=corp,DC=example,DC=test]
stateDir: ${join(work, `${name}-state`)}
${extra}`,
  );
  return path;
}

interface ListedSecret {
  name: string;
  source: string;
  location?: string;
}

async function listSecrets(env: Record<string, string>, args: string[] = []): Promise<ListedSecret[]> {
  const result = await runCli([...args, "--json", "secret", "list"], { env });
  expect(result, result.stderr).toMatchObject({ code: 0 });
  return (JSON.parse(result.stdout) as { secrets: ListedSecret[] }).secrets;
}

function sourceOf(secrets: ListedSecret[], name: string): string | undefined {
  return secrets.find((secret) => secret.name === name)?.source;
}

describe("secrets in a real Secret Service", () => {
  let secretService: SecretService;

  beforeAll(async () => {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
    secretService = await startSecretService();
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await secretService?.stop();
  });

  it("stores a piped secret without its line end, reads it back, overwrites and deletes it", async () => {
    const { env } = secretService;
    const first = "first-Secret-value-0001";
    const stored = await runCli(["secret", "set", "client-secret"], { env, input: `${first}\n` });
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stdout).toBe('Stored client-secret in the Secret Service (service "ilobby-sync").\n');
    expect(secretService.lookup("ilobby-sync", "client-secret")).toBe(first);

    const listed = await listSecrets(env);
    expect(listed).toEqual([
      {
        name: "client-secret",
        source: "keychain",
        location: 'the Secret Service (service "ilobby-sync")',
        environmentVariable: "ILOBBY_SYNC_CLIENT_SECRET",
      },
      { name: "bind-password", source: "missing", environmentVariable: "ILOBBY_SYNC_BIND_PASSWORD" },
    ]);

    const second = "second-Secret-value-0002";
    expect((await runCli(["secret", "set", "client-secret"], { env, input: second })).code).toBe(0);
    expect(secretService.lookup("ilobby-sync", "client-secret")).toBe(second);

    const deleted = await runCli(["--json", "secret", "delete", "client-secret"], { env });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ ok: true, name: "client-secret", deleted: true });
    expect(secretService.lookup("ilobby-sync", "client-secret")).toBeUndefined();
    expect(sourceOf(await listSecrets(env), "client-secret")).toBe("missing");

    const again = await runCli(["secret", "delete", "client-secret"], { env });
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining("nothing to delete") });

    for (const result of [stored, deleted, again])
      expect(result.stdout + result.stderr).not.toMatch(/first-Secret|second-Secret/);
  });

  it("keeps the secrets of two configurations apart by keychain.service", async () => {
    const { env } = secretService;
    const north = writeConfig("north", "keychain:\n  service: ilobby-sync-north\n");
    const south = writeConfig("south", "keychain:\n  service: ilobby-sync-south\n");
    for (const [config, value] of [
      [north, "north-bind-password"],
      [south, "south-bind-password"],
    ] as const) {
      const result = await runCli(["--config", config, "secret", "set", "bind-password"], {
        env,
        input: value,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`(service "ilobby-sync-${config === north ? "north" : "south"}")`);
    }
    expect(secretService.lookup("ilobby-sync-north", "bind-password")).toBe("north-bind-password");
    expect(secretService.lookup("ilobby-sync-south", "bind-password")).toBe("south-bind-password");
    expect(secretService.lookup("ilobby-sync", "bind-password")).toBeUndefined();

    const northList = await listSecrets(env, ["--config", north]);
    expect(northList.find((secret) => secret.name === "bind-password")).toMatchObject({
      source: "keychain",
      location: 'the Secret Service (service "ilobby-sync-north")',
    });
    expect((await runCli(["--config", south, "secret", "delete", "bind-password"], { env })).code).toBe(0);
    expect(secretService.lookup("ilobby-sync-north", "bind-password")).toBe("north-bind-password");
    expect(secretService.lookup("ilobby-sync-south", "bind-password")).toBeUndefined();
  });

  it("lists the per-target secrets a config with targets reads, and names given on the command line", async () => {
    const path = writeConfig(
      "targets",
      `targets:
  - { name: North, clientId: north-client, sites: [Oslo] }
  - { name: south, clientId: south-client, secretName: south-key, sites: [Rome] }
`,
      "",
    );
    const listed = await listSecrets(secretService.env, ["--config", path]);
    expect(listed.map((secret) => secret.name)).toEqual([
      "client-secret-north",
      "south-key",
      "bind-password",
    ]);
    const extra = await runCli(["--config", path, "--json", "secret", "list", "spare-key"], {
      env: secretService.env,
    });
    expect(JSON.parse(extra.stdout).secrets.at(-1)).toMatchObject({ name: "spare-key", source: "missing" });
  });

  it("says where each secret comes from when something before the keychain supplies it", async () => {
    const credentials = join(work, "credentials");
    mkdirSync(credentials, { recursive: true });
    writeFileSync(join(credentials, "bind-password"), "credential-value\n");
    const env = {
      ...secretService.env,
      ILOBBY_SYNC_CLIENT_SECRET: "environment-value",
      CREDENTIALS_DIRECTORY: credentials,
    };
    expect(await listSecrets(env)).toEqual([
      expect.objectContaining({
        name: "client-secret",
        source: "environment",
        location: "ILOBBY_SYNC_CLIENT_SECRET",
      }),
      expect.objectContaining({
        name: "bind-password",
        source: "systemd-credential",
        location: join(credentials, "bind-password"),
      }),
    ]);
    // The keychain entry is stored, with a warning that the variable wins.
    const stored = await runCli(["secret", "set", "client-secret"], { env, input: "keychain-value" });
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stderr).toContain("ILOBBY_SYNC_CLIENT_SECRET, which is read before the keychain");
    expect(stored.stdout + stored.stderr).not.toMatch(/environment-value|keychain-value|credential-value/);
    expect((await runCli(["secret", "delete", "client-secret"], { env })).code).toBe(0);
  });

  it("asks twice on a terminal without echoing what is typed", async () => {
    const { env } = secretService;
    const prompts = (first: string, second: string): [string, string][] => [
      ["(typing is hidden): ", first],
      ["Type it again: ", second],
    ];
    // \x7f is the Backspace key: it removes the "7".
    const typed = await runCliOnTerminal(
      ["secret", "set", "bind-password"],
      prompts("terminal-Secret-7\x7f8\r", "terminal-Secret-8\r"),
      { cwd: work, env },
    );
    expect(typed.code, typed.terminal).toBe(0);
    expect(typed.terminal).toContain("Stored bind-password in the Secret Service");
    expect(typed.terminal).not.toContain("terminal-Secret");
    expect(secretService.lookup("ilobby-sync", "bind-password")).toBe("terminal-Secret-8");

    const mistyped = await runCliOnTerminal(
      ["secret", "set", "bind-password"],
      prompts("terminal-Secret-9\r", "terminal-Secret-0\r"),
      { cwd: work, env },
    );
    expect(mistyped.code).toBe(8);
    expect(mistyped.terminal).toContain("the two entries differ: nothing was stored");
    expect(mistyped.terminal).not.toContain("terminal-Secret");
    expect(secretService.lookup("ilobby-sync", "bind-password")).toBe("terminal-Secret-8");
    expect((await runCli(["secret", "delete", "bind-password"], { env })).code).toBe(0);
  });

  it("refuses an empty or too short value, an invalid name and a value given as an argument, echoing none", async () => {
    const { env } = secretService;
    const empty = await runCli(["secret", "set", "client-secret"], { env, input: "\n" });
    expect(empty).toMatchObject({ code: 8, stderr: expect.stringContaining("no value was given") });
    const tooShort = await runCli(["secret", "set", "client-secret"], { env, input: "abc" });
    expect(tooShort).toMatchObject({ code: 8, stderr: expect.stringContaining("is too short") });
    expect(secretService.lookup("ilobby-sync", "client-secret")).toBeUndefined();

    const invalid = await runCli(["secret", "set", "Pa55word!"], { env, input: "x" });
    expect(invalid).toMatchObject({ code: 2, stderr: expect.stringContaining("not a valid name") });
    expect(invalid.stderr).not.toContain("Pa55word!");

    const asArgument = await runCli(["secret", "set", "client-secret", "Pa55word-as-argument"], { env });
    expect(asArgument.code).toBe(2);
    expect(asArgument.stderr).not.toContain("Pa55word-as-argument");
    expect(secretService.lookup("ilobby-sync", "client-secret")).toBeUndefined();
  });

  describe("a sync against the sample directory and the iLobby emulator", () => {
    const CLIENT_ID = "keychain-client";
    const CLIENT_SECRET = "Keychain-Client-Secret-7d1f!";
    let world: SampleWorld;
    let ldap: LdapServer;
    let emulator: Emulator;
    let syncDir: string;
    let configPath: string;

    beforeAll(async () => {
      syncDir = join(work, "sync");
      world = await startSampleWorld({
        clients: { [CLIENT_ID]: CLIENT_SECRET },
        pkiDir: join(syncDir, "ca"),
      });
      ({ ldap, emulator } = world);
      configPath = world.writeConfig(syncDir, {
        ...world.config(CLIENT_ID),
        stateDir: "state",
        log: { file: "logs/sync.log" },
        keychain: { service: "ilobby-sync-sample" },
      });
    });
    afterAll(async () => {
      await world?.stop();
    });

    async function storeSecret(name: string, value: string): Promise<void> {
      const result = await runCli(["--config", configPath, "secret", "set", name], {
        env: secretService.env,
        input: value,
      });
      expect(result.code, result.stderr).toBe(0);
    }

    const sync = (args: string[], env: Record<string, string> = {}) =>
      runCli(["--config", configPath, ...args], { env: { ...secretService.env, ...env } });

    it("reads the bind password and the client secret from the keychain", async () => {
      await storeSecret("bind-password", SERVICE_ACCOUNT.password);
      await storeSecret("client-secret", CLIENT_SECRET);
      expect(secretService.lookup("ilobby-sync-sample", "bind-password")).toBe(SERVICE_ACCOUNT.password);

      const result = await sync(["run"]);
      expect(result.code, result.stderr).toBe(0);
      expect(ldap.binds.at(-1)).toEqual({ name: SERVICE_ACCOUNT.upn, resultCode: 0 });
      const token = emulator.requests.find((request) => request.endpoint === "token");
      expect(token?.form?.client_secret).toBe(CLIENT_SECRET);
      expect(emulator.addressBook(CLIENT_ID)).toHaveLength(expectedRows().length);
    });

    it("leaks no secret into stdout, stderr, the log, the state or CSV outputs of failing and succeeding runs", async () => {
      const wrongBindPassword = "Wrong-Bind-Canary-4471";
      const wrongClientSecret = "Wrong-Client-Canary-9305";
      const runs: { args: string[]; result: CliRun }[] = [];
      let csvCount = 0;
      async function expectRuns(code: number, env: Record<string, string> = {}) {
        for (const flags of [[], ["--verbose"], ["--json"], ["--verbose", "--json"]]) {
          const args = [...flags, "run", "--output", join(syncDir, "csv", `run-${++csvCount}.csv`)];
          const result = await sync(args, env);
          expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(code);
          runs.push({ args, result });
        }
      }

      await storeSecret("bind-password", wrongBindPassword);
      await expectRuns(4); // the directory refuses the bind
      await storeSecret("bind-password", SERVICE_ACCOUNT.password);
      await storeSecret("client-secret", wrongClientSecret);
      await expectRuns(5); // iLobby refuses the token request
      await storeSecret("client-secret", CLIENT_SECRET);
      await expectRuns(0);
      // The same secrets from the environment, so every source is redacted, not only the keychain.
      await expectRuns(0, {
        ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
        ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
      });
      const listed = await sync(["--verbose", "--json", "secret", "list"]);
      expect(listed.code, listed.stderr).toBe(0);
      runs.push({ args: ["secret", "list"], result: listed });

      const files = filesUnder(syncDir);
      // Every kind of file was written, so their absence of secrets means something.
      expect(files.some((file) => file.endsWith("sync.log"))).toBe(true);
      expect(files.some((file) => file.includes(`${join(syncDir, "state")}/`))).toBe(true);
      expect(files.filter((file) => file.endsWith(".csv")).length).toBeGreaterThanOrEqual(8);
      expect(runs.some(({ result }) => result.stderr.includes("    at "))).toBe(true); // --verbose traces

      const places = [
        ...runs.flatMap(({ args, result }) => [
          { where: `stdout of ${args.join(" ")}`, text: result.stdout },
          { where: `stderr of ${args.join(" ")}`, text: result.stderr },
        ]),
        ...files.map((file) => ({ where: file, text: readFileSync(file, "latin1") })),
      ];
      for (const secret of [SERVICE_ACCOUNT.password, CLIENT_SECRET, wrongBindPassword, wrongClientSecret]) {
        for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")]) {
          const leaks = places.filter((place) => place.text.includes(form)).map((place) => place.where);
          expect(leaks, `${form} leaked`).toEqual([]);
        }
      }
    });
  });
});

describe("an unreachable Secret Service", () => {
  const privateDirs = { HOME: join(work, "home"), XDG_RUNTIME_DIR: join(work, "run") };
  const config = () => writeConfig("unreachable");

  it.each([
    [
      "a dead bus socket",
      { DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(work, "no-such-bus")}` },
      "the D-Bus session bus named by DBUS_SESSION_BUS_ADDRESS is not running",
    ],
    ["no session bus at all", {}, "DBUS_SESSION_BUS_ADDRESS is not set"],
  ])("is an error with its cause and the fixes, exit code 8: %s", async (_title, busEnv, cause) => {
    const env = { ...privateDirs, ...busEnv };
    for (const args of [
      ["secret", "list"],
      ["secret", "set", "client-secret"],
      ["--config", config(), "run"],
    ]) {
      const result = await runCli(args, { env, input: "some-value" });
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(8);
      expect(result.stderr).toMatch(
        /^error: cannot (read|store) "(client-secret|bind-password)" in the Secret Service/,
      );
      expect(result.stderr).toContain(cause);
      for (const fix of ["start and unlock a Secret Service", "$CREDENTIALS_DIRECTORY/", "ILOBBY_SYNC_"])
        expect(result.stderr).toContain(fix);
      expect(result.stderr).not.toMatch(/is not set"|some-value/);
    }
  });

  it("is an error when the bus runs but no Secret Service is on it", async () => {
    const bare = await startSecretService({ keyring: false });
    try {
      const result = await runCli(["--json", "secret", "list"], { env: bare.env });
      expect(result.code).toBe(8);
      expect(JSON.parse(result.stdout).error).toMatchObject({
        category: "secret",
        cause: expect.stringContaining("no Secret Service (org.freedesktop.secrets) is running"),
      });
    } finally {
      await bare.stop();
    }
  });

  it("is not needed when every secret comes from elsewhere", async () => {
    const secretFile = join(work, "bind-password.txt");
    writeFileSync(secretFile, "file-value\n");
    const env = {
      ...privateDirs,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(work, "no-such-bus")}`,
      ILOBBY_SYNC_CLIENT_SECRET: "environment-value",
      ILOBBY_SYNC_BIND_PASSWORD_FILE: secretFile,
    };
    expect((await listSecrets(env)).map((secret) => secret.source)).toEqual(["environment", "file"]);
  });
});
