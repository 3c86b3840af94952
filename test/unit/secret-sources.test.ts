/**
 * Secret names, their environment variables, the resolution order, the keychain's error reporting (with the
 * native addon replaced by a fake) and the config's refusal of secret-looking keys.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createOsKeychain } from "../../src/adapters/secrets/keychain.ts";
import {
  createSecretSource,
  type Keychain,
  resolveSecret,
} from "../../src/adapters/secrets/secret-sources.ts";
import { parseConfigText } from "../../src/core/config/parse.ts";
import { SyncError } from "../../src/core/errors.ts";
import { environmentVariableFor, SECRET_NAME_PATTERN } from "../../src/core/secret-names.ts";

/** What the fake addon's AsyncEntry constructor throws; undefined = it opens fine and stores nothing. */
const addon = vi.hoisted(() => ({ openError: undefined as string | undefined }));

vi.mock("@napi-rs/keyring", () => ({
  AsyncEntry: class {
    constructor() {
      if (addon.openError) throw new Error(addon.openError);
    }
    async getPassword() {
      return null;
    }
  },
}));

function memoryKeychain(values: Record<string, string> = {}): Keychain {
  const stored = new Map(Object.entries(values));
  return {
    get: async (name) => stored.get(name),
    set: async (name, value) => {
      stored.set(name, value);
    },
    delete: async (name) => stored.delete(name),
    describe: () => "the test keychain",
  };
}

const folder = mkdtempSync(join(tmpdir(), "ilobby-secret-sources-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("secret names", () => {
  it.each(["client-secret", "bind-password", "client-secret-north", "a.b_c", "x".repeat(64)])(
    "accepts %s",
    (name) => {
      expect(SECRET_NAME_PATTERN.test(name)).toBe(true);
    },
  );

  it.each([
    "",
    "Client-Secret",
    "-leading-dash",
    "with space",
    "a/b",
    "../escape",
    "x".repeat(65),
    "line\nbreak",
  ])("refuses %j", (name) => {
    expect(SECRET_NAME_PATTERN.test(name)).toBe(false);
  });

  it.each([
    ["client-secret", "ILOBBY_SYNC_CLIENT_SECRET"],
    ["bind-password", "ILOBBY_SYNC_BIND_PASSWORD"],
    ["client-secret-north", "ILOBBY_SYNC_CLIENT_SECRET_NORTH"],
    ["key.v2", "ILOBBY_SYNC_KEY_V2"],
  ])("%s is read from %s", (name, variable) => {
    expect(environmentVariableFor(name)).toBe(variable);
  });
});

describe("resolution order", () => {
  const credentials = join(folder, "credentials");
  mkdirSync(credentials);
  writeFileSync(join(credentials, "client-secret"), "from-credential\n");
  const secretFile = join(folder, "client-secret.txt");
  writeFileSync(secretFile, "from-file\r\n");
  const keychain = memoryKeychain({ "client-secret": "from-keychain" });

  it.each([
    [
      "the variable first",
      {
        ILOBBY_SYNC_CLIENT_SECRET: "from-env",
        ILOBBY_SYNC_CLIENT_SECRET_FILE: secretFile,
        CREDENTIALS_DIRECTORY: credentials,
      },
      "from-env",
      "environment",
    ],
    [
      "then <VAR>_FILE, without its line end",
      { ILOBBY_SYNC_CLIENT_SECRET_FILE: secretFile, CREDENTIALS_DIRECTORY: credentials },
      "from-file",
      "file",
    ],
    [
      "then the systemd credential",
      { ILOBBY_SYNC_CLIENT_SECRET: "", CREDENTIALS_DIRECTORY: credentials },
      "from-credential",
      "systemd-credential",
    ],
    ["then the keychain", {}, "from-keychain", "keychain"],
  ])("%s", async (_title, env, value, origin) => {
    expect(await resolveSecret("client-secret", { env, keychain })).toMatchObject({ value, origin });
  });

  it("goes on to the keychain when the credentials directory has no such secret", async () => {
    const found = await resolveSecret("client-secret", {
      env: { CREDENTIALS_DIRECTORY: join(folder, "empty") },
      keychain,
    });
    expect(found).toMatchObject({ origin: "keychain", location: "the test keychain" });
  });

  it("reports a missing secret with every place it looked and the command that stores it", async () => {
    const error = await createSecretSource({ env: {}, keychain: memoryKeychain() })
      .get("bind-password")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({
      category: "secret",
      likelyCause: expect.stringContaining("ILOBBY_SYNC_BIND_PASSWORD_FILE"),
      fix: expect.stringContaining("ilobby-sync secret set bind-password"),
    });
  });

  it("passes an unreachable keychain's error on instead of calling the secret missing", async () => {
    const unreachable: Keychain = {
      ...memoryKeychain(),
      get: () => Promise.reject(new SyncError("secret", "cannot read the keychain")),
    };
    await expect(resolveSecret("client-secret", { env: {}, keychain: unreachable })).rejects.toThrow(
      "cannot read the keychain",
    );
  });
});

describe("OS keychain errors", () => {
  beforeEach(() => {
    addon.openError = undefined;
  });

  it("an opened keychain without the entry is a plain miss", async () => {
    expect(await createOsKeychain("ilobby-sync", "linux").get("client-secret")).toBeUndefined();
  });

  it("explains a missing D-Bus session and offers the ways around the keychain", async () => {
    addon.openError =
      "Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead";
    const error = await createOsKeychain("ilobby-sync", "linux")
      .get("client-secret")
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      category: "secret",
      exitCode: 8,
      message: 'cannot read "client-secret" in the Secret Service (service "ilobby-sync")',
      likelyCause: expect.stringMatching(/^no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set/),
    });
    const { fix } = error as SyncError;
    for (const way of ["Secret Service", "$CREDENTIALS_DIRECTORY/client-secret", "ILOBBY_SYNC_CLIENT_SECRET"])
      expect(fix).toContain(way);
  });

  it.each([
    ["Platform failure: DBus error: Failed to connect to socket /run/x: No such file", "is not running"],
    [
      "Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files",
      "no Secret Service (org.freedesktop.secrets)",
    ],
    ["Platform failure: unlock prompt was dismissed", "is locked"],
  ])("names the cause of %j", async (raw, cause) => {
    addon.openError = raw;
    await expect(createOsKeychain("svc", "linux").set("bind-password", "value")).rejects.toMatchObject({
      likelyCause: expect.stringContaining(cause),
    });
  });

  it.each([
    ["win32", "Windows Credential Manager", "Run whether user is logged on or not"],
    ["darwin", "the macOS Keychain", "security unlock-keychain"],
  ] as const)("on %s names %s and its fix", async (platform, store, fix) => {
    addon.openError = "Access denied";
    const keychain = createOsKeychain("svc", platform);
    expect(keychain.describe()).toBe(`${store} (service "svc")`);
    await expect(keychain.delete("client-secret")).rejects.toMatchObject({
      likelyCause: "Access denied",
      fix: expect.stringContaining(fix),
    });
  });
});

describe("config", () => {
  const config = (extra: string) => `
ilobby:
  clientId: my-client-id
directory:
  url: ldaps://dc1.corp.example.com
  bindDn: svc-ilobby@corp.example.com
  searchBases: [OU=Users,DC=corp,DC=example,DC=com]
${extra}`;

  it("keeps secrets in the keychain service ilobby-sync unless told otherwise", () => {
    const defaults = parseConfigText(config(""));
    const custom = parseConfigText(config("keychain:\n  service: ilobby-sync-north\n"));
    expect(defaults.ok && defaults.config.keychain).toEqual({ service: "ilobby-sync" });
    expect(custom.ok && custom.config.keychain).toEqual({ service: "ilobby-sync-north" });
  });

  it("suggests the right key for a misspelt keychain setting", () => {
    const result = parseConfigText(config("keychain:\n  servce: x\n"));
    expect(result.ok ? [] : result.problems).toEqual([
      expect.objectContaining({ path: "keychain.servce", message: expect.stringContaining('"service"') }),
    ]);
  });

  it.each([
    ["directory", "  bindPassword: hunter2", "directory.bindPassword", "secret set bind-password"],
    ["directory", "  pwd: hunter2", "directory.pwd", "secret set bind-password"],
    ["ilobby", "  clientSecret: hunter2", "ilobby.clientSecret", "secret set client-secret"],
  ])("refuses a secret under %s and names the command that stores it", (section, line, path, command) => {
    const text = config("").replace(`${section}:\n`, `${section}:\n${line}\n`);
    const result = parseConfigText(text);
    expect(result.ok ? [] : result.problems).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining(command) }),
    ]);
    expect(JSON.stringify(result)).not.toContain("hunter2");
  });
});
