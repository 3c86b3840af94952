/**
 * `ilobby-sync run` end to end, as a scheduler runs it: the built CLI as a process, an LDAPS directory on
 * 127.0.0.1 with real certificates from a test CA, and the local iLobby emulator.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toCsv } from "../../src/core/csv.ts";
import type { Emulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { type LdapServer, startLdapServer } from "../support/ldap-server.ts";
import { createTestCa, issueServerCert, type TestCa } from "../support/pki.ts";
import {
  DISABLED_SERVICE_ACCOUNT,
  expectedRows,
  SAMPLE_ACCOUNTS,
  SAMPLE_ENTRIES,
  SAMPLE_GROUPS,
  SERVICE_ACCOUNT,
} from "../support/sample-directory.ts";
import { type SampleConfig, type SampleWorld, startSampleWorld } from "../support/sample-world.ts";

const CLIENT = "run-client";
const CLIENT_SECRET = "run-client-secret-value";

let world: SampleWorld;
let ca: TestCa;
let otherCa: TestCa;
let ldap: LdapServer;
let emulator: Emulator;
let dir: string;

function writeConfig(change: (config: SampleConfig) => void = () => {}, url = ldap.url): string {
  const config = world.config(CLIENT, url);
  change(config);
  return world.writeConfig(dir, config);
}

const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};
const run = (args: string[], env: Record<string, string> = {}) =>
  runCli(["run", ...args], { cwd: dir, env: { ...secrets, ...env } });
const book = () => world.enabledBook(CLIENT);

beforeAll(async () => {
  world = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET } });
  ({ ca, ldap, emulator } = world);
  otherCa = createTestCa(join(mkdtempSync(join(tmpdir(), "ilobby-run-pki-")), "other"), "Some Other CA");
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-run-"));
});

describe("run", () => {
  it("--dry-run shows the plan, writes the CSV with mode 0600, and sends nothing to iLobby", async () => {
    writeConfig();
    const result = await run(["--dry-run", "--json", "--output", "out.csv"]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.rows).toEqual(expectedRows());
    expect(summary.targets[0].counts).toEqual({
      add: expectedRows().length,
      update: 0,
      rename: 0,
      disable: 0,
      unchanged: 0,
    });
    expect(summary.skippedByReason).toEqual({ "no-email": 1, "unknown-site": 1, "duplicate-email": 1 });
    expect(readFileSync(join(dir, "out.csv"), "utf8")).toBe(toCsv(expectedRows()));
    expect(statSync(join(dir, "out.csv")).mode & 0o777).toBe(0o600);
    expect(emulator.requests).toEqual([]);
  });

  it("finds the config through ILOBBY_SYNC_CONFIG, and --config wins over it", async () => {
    const path = writeConfig();
    const elsewhere = mkdtempSync(join(tmpdir(), "ilobby-run-cwd-"));
    const viaEnv = await runCli(["run", "--dry-run", "--json"], {
      cwd: elsewhere,
      env: { ...secrets, ILOBBY_SYNC_CONFIG: path },
    });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.stdout).rows).toEqual(expectedRows());
    const overridden = await runCli(["run", "--dry-run", "--config", join(elsewhere, "missing.yaml")], {
      cwd: elsewhere,
      env: { ...secrets, ILOBBY_SYNC_CONFIG: path },
    });
    expect(overridden.code).toBe(2);
    expect(overridden.stderr).toMatch(/missing\.yaml/);
  });

  it("--verbose shows the LDAP filter it sends and where each SITE came from", async () => {
    writeConfig((config) => {
      config.directory.groups = [SAMPLE_GROUPS.hosts];
    });
    const result = await run(["--dry-run", "--verbose"]);
    expect(result.code).toBe(0);
    const filter = `(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2))(memberOf:1.2.840.113556.1.4.1941:=${SAMPLE_GROUPS.hosts}))`;
    expect(result.stdout).toContain(`LDAP filter: ${filter}`);
    expect(ldap.searches.at(-1)).toMatchObject({ filter, paged: true, pageSize: 500 });
    expect(result.stdout).toContain("(SITE from)");
    // Every listed record names its rule; the sample maps office codes, so each SITE came from the attribute.
    const rows = expectedRows({ groups: [SAMPLE_GROUPS.hosts] });
    const listed = result.stdout.split("\n").filter((line) => / {2}\S+@\S+ {2}/.test(line));
    expect(listed).toHaveLength(rows.length);
    for (const line of listed) expect(line).toMatch(/ attribute$/);
  });

  it("uploads exactly the expected people, then disables those who leave scope on the next run", async () => {
    writeConfig();
    const first = await run([]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(book()).toEqual(expectedRows());
    const upload = emulator.requests.find((request) => request.endpoint === "upload");
    expect(upload).toMatchObject({ uploadFieldName: "file", uploadFilename: "adextract.csv", status: 200 });

    // Narrow the scope to one nested group: the others must be disabled, which the guard stops at first.
    writeConfig((config) => {
      config.directory.groups = [SAMPLE_GROUPS.hosts];
    });
    const narrowed = expectedRows({ groups: [SAMPLE_GROUPS.hosts] });
    const stopped = await run(["--json"]);
    expect(stopped.code).toBe(6);
    const report = JSON.parse(stopped.stdout);
    expect(report.targets[0]).toMatchObject({
      status: "failed",
      counts: { disable: expectedRows().length - narrowed.length },
    });
    expect(stopped.stderr).toMatch(/would be disabled, more than the limit/);
    expect(book()).toEqual(expectedRows());

    const forced = await run(["--force"]);
    expect(forced.code).toBe(0);
    expect(book()).toEqual(narrowed);
    const disabled = emulator.addressBook(CLIENT).filter((entry) => !entry.enabled);
    expect(disabled).toHaveLength(expectedRows().length - narrowed.length);
  });

  it("shows updates as old -> new against the last upload", async () => {
    writeConfig();
    expect((await run([])).code).toBe(0);
    writeConfig((config) => {
      config.mapping.TITLE = { value: "Employee" };
    });
    const result = await run(["--dry-run", "--json"]);
    const target = JSON.parse(result.stdout).targets[0];
    expect(target.counts.update).toBe(expectedRows().filter((row) => row.TITLE !== "Employee").length);
    expect(target.updated[0].changes).toEqual([
      expect.objectContaining({ column: "TITLE", to: "Employee", from: expect.any(String) }),
    ]);
  });

  it("writes JSON lines to log.file with the run id and counts, and never the secrets", async () => {
    writeConfig((config) => {
      config.log = { file: "sync.log" };
    });
    expect((await run([])).code).toBe(0);
    const events = readFileSync(join(dir, "sync.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.map((event) => event.event)).toEqual([
      "run-started",
      "directory-read",
      "target-planned",
      "target-uploaded",
      "run-finished",
    ]);
    expect(new Set(events.map((event) => event.runId)).size).toBe(1);
    expect(events.at(-1)).toMatchObject({
      exitCode: 0,
      targets: [{ status: "uploaded", added: expectedRows().length }],
    });
    const text = readFileSync(join(dir, "sync.log"), "utf8");
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toContain(SERVICE_ACCOUNT.password);
  });

  it("refuses a second run while the first holds the lock", async () => {
    writeConfig();
    emulator.queueFault("upload", { kind: "slow", delayMs: 3000 });
    const first = run([]);
    // Start the second run once the first holds the lock and is uploading (the emulator has its request).
    const deadline = Date.now() + 20_000;
    while (!emulator.requests.some((request) => request.endpoint === "upload") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(existsSync(join(dir, "state", "run.lock"))).toBe(true);
    const second = await run([]);
    expect(second.code).toBe(7);
    expect(second.stderr).toMatch(/another ilobby-sync run is in progress/);
    expect((await first).code).toBe(0);
    expect((await run(["--dry-run"])).code).toBe(0);
  });

  it("takes over the lock of a crashed run", async () => {
    writeConfig();
    const lock = join(dir, "state", "run.lock");
    mkdirSync(lock, { recursive: true });
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    utimesSync(lock, tenMinutesAgo, tenMinutesAgo);
    const result = await run([]);
    expect(result.code).toBe(0);
    expect(book()).toEqual(expectedRows());
  });

  it("stops on a damaged state file (exit 6) instead of treating the run as a first run; --force goes ahead", async () => {
    writeConfig();
    expect((await run([])).code).toBe(0);
    writeFileSync(join(dir, "state", "default.last-upload.json"), "{ not json");
    const preview = await run(["--dry-run"]);
    expect(preview.code).toBe(0);
    expect(preview.stderr).toMatch(/state file is not valid JSON/);
    expect(preview.stdout).toMatch(
      /SAFETY GUARD: the last upload cannot be read .*a real run would stop here/,
    );
    const stopped = await run([]);
    expect(stopped.code).toBe(6);
    expect(stopped.stderr).toMatch(/check the full list with --dry-run/);
    const forced = await run(["--force"]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/--force: treating this as a first run/);
  });
});

describe("run failures", () => {
  it("a wrong client secret: exit 5 and a fix", async () => {
    writeConfig();
    const result = await run([], { ILOBBY_SYNC_CLIENT_SECRET: "wrong-secret-value" });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/refused the client credentials/);
    expect(emulator.addressBook(CLIENT)).toEqual([]);
  });

  it("a wrong bind password: exit 4 and AD's reason", async () => {
    writeConfig();
    const result = await run([], { ILOBBY_SYNC_BIND_PASSWORD: "wrong-password" });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/bind as "svc-ilobby@corp.example.test" was refused/);
    expect(result.stderr).toMatch(/bind password is wrong/);
    expect(result.stderr).not.toContain("wrong-password");
  });

  it("a disabled service account: exit 4, 'disabled'", async () => {
    writeConfig((config) => {
      config.directory.bindDn = DISABLED_SERVICE_ACCOUNT.downLevel;
    });
    const result = await run([], { ILOBBY_SYNC_BIND_PASSWORD: DISABLED_SERVICE_ACCOUNT.password });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/bind account is disabled/);
  });

  it("a directory that dies mid-search: exit 4, nothing uploaded", async () => {
    writeConfig((config) => {
      config.directory.pageSize = 10;
    });
    ldap.failNextSearch({ afterPages: 2 });
    const result = await run([]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/failed part-way/);
    expect(emulator.requests).toEqual([]);
  });

  it("a search base that does not exist: exit 4, names the base", async () => {
    writeConfig((config) => {
      config.directory.searchBases = ["OU=Ofices,DC=corp,DC=example,DC=test"];
    });
    const result = await run(["--dry-run"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/search base "OU=Ofices,DC=corp,DC=example,DC=test" does not exist/);
  });

  it("a malformed directory.filter is a config error naming the key and its line, before any connection", async () => {
    const config = writeConfig((config) => {
      config.directory.filter = "(&(title=*)(department=Sales)";
    });
    const [bindsBefore, searchesBefore] = [ldap.binds.length, ldap.searches.length];
    const result = await run(["--dry-run"]);
    expect(result.code).toBe(2);
    const line = readFileSync(config, "utf8")
      .split("\n")
      .findIndex((text) => text.includes("filter:"));
    expect(result.stderr).toContain(`${config}:${line + 1}: directory.filter: has unbalanced parentheses`);
    expect([ldap.binds.length, ldap.searches.length]).toEqual([bindsBefore, searchesBefore]);
    expect(emulator.requests).toEqual([]);
  });

  it("an empty result is never uploaded", async () => {
    writeConfig((config) => {
      config.directory.filter = "(title=Astronaut)";
    });
    const result = await run([]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/empty: uploading it would disable every host/);
    expect(emulator.requests).toEqual([]);
  });

  it("fails over from a dead first URL to a live second one", async () => {
    writeConfig((config) => {
      config.directory.url = ["ldaps://127.0.0.1:1", ldap.url];
    });
    const result = await run(["--dry-run", "--verbose"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/ldaps:\/\/127.0.0.1:1: cannot connect.*trying the next URL/);
  });

  it("refuses a certificate from an unknown CA", async () => {
    writeConfig((config) => {
      config.directory.caFile = otherCa.certFile;
    });
    const result = await run(["--dry-run"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/certificate is not trusted/);
    expect(result.stderr).toMatch(/directory.caFile/);
  });

  it("refuses a host name that is not in the certificate", async () => {
    const mismatch = await startLdapServer({
      entries: SAMPLE_ENTRIES,
      users: SAMPLE_ACCOUNTS,
      tls: issueServerCert(ca, "elsewhere", ["DNS:dc9.corp.example.test"]),
    });
    try {
      writeConfig(() => {}, mismatch.url);
      const result = await run(["--dry-run"]);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/does not match the host name/);
    } finally {
      await mismatch.stop();
    }
  });

  it("refuses a server that offers only TLS 1.1", async () => {
    const old = await startLdapServer({
      entries: SAMPLE_ENTRIES,
      users: SAMPLE_ACCOUNTS,
      tls: {
        ...issueServerCert(ca, "old-tls", ["DNS:localhost", "IP:127.0.0.1"], { rsa: true }),
        minVersion: "TLSv1",
        maxVersion: "TLSv1.1",
        ciphers: "DEFAULT:@SECLEVEL=0",
      },
    });
    try {
      writeConfig(() => {}, old.url);
      const result = await run(["--dry-run"]);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/does not offer TLS 1.2 or newer/);
    } finally {
      await old.stop();
    }
  });

  it("works over StartTLS on ldap://", async () => {
    const plain = await startLdapServer({
      entries: SAMPLE_ENTRIES,
      users: SAMPLE_ACCOUNTS,
      tls: issueServerCert(ca, "starttls"),
      startTls: true,
    });
    try {
      writeConfig(() => {}, plain.url);
      const result = await run(["--dry-run", "--json"]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).rows).toEqual(expectedRows());
    } finally {
      await plain.stop();
    }
  });
});
