/**
 * `ilobby-sync doctor` end to end: the built CLI against the in-process LDAPS directory (certificates from a test
 * CA) and the iLobby emulator, on a good setup and with each first-hour mistake: the wrong CA, the wrong password,
 * a bind name AD cannot use, an OU or group that does not exist, a wrong client secret, iLobby unreachable, a proxy,
 * an unwritable state directory, a certificate about to expire, missing secrets and a missing config.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CheckResult } from "../../src/core/checks.ts";
import type { Emulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { type ConnectProxy, startConnectProxy } from "../support/connect-proxy.ts";
import { type LdapServer, startLdapServer } from "../support/ldap-server.ts";
import { createTestCa, issueServerCert, type TestCa } from "../support/pki.ts";
import {
  OFFICES_BASE,
  SAMPLE_ACCOUNTS,
  SAMPLE_DOMAIN,
  SAMPLE_ENTRIES,
  SAMPLE_GROUPS,
  SERVICE_ACCOUNT,
  selectPeople,
} from "../support/sample-directory.ts";
import { type SampleConfig, type SampleWorld, startSampleWorld } from "../support/sample-world.ts";

const CLIENT = "doctor-client";
const CLIENT_SECRET = "doctor-client-secret-value";
const LONG_LIVED = { days: 365 };

let world: SampleWorld;
let ca: TestCa;
let otherCa: TestCa;
let ldap: LdapServer;
let emulator: Emulator;
let dir: string;

function writeConfig(change: (config: SampleConfig) => void = () => {}, url = ldap.url): void {
  const config = world.config(CLIENT, url);
  change(config);
  world.writeConfig(dir, config);
}

const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};

async function doctor(env: Record<string, string | undefined> = {}) {
  const result = await runCli(["doctor", "--json"], { cwd: dir, env: { ...secrets, ...env } });
  const report = JSON.parse(result.stdout) as { ok: boolean; exitCode: number; checks: CheckResult[] };
  const status = (id: string) => report.checks.find((check) => check.id === id)?.status;
  const check = (id: string) => {
    const found = report.checks.find((candidate) => candidate.id === id);
    if (!found)
      throw new Error(`no check ${id} in ${report.checks.map((candidate) => candidate.id).join(", ")}`);
    return found;
  };
  return { ...result, report, status, check };
}

beforeAll(async () => {
  world = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET }, certificateDays: LONG_LIVED.days });
  ({ ca, ldap, emulator } = world);
  otherCa = createTestCa(join(mkdtempSync(join(tmpdir(), "ilobby-doctor-pki-")), "other"), "Some Other CA");
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-doctor-"));
});

describe("doctor on a good setup", () => {
  it("lists every check with its status; all pass but the sample's known gaps, and nothing is uploaded", async () => {
    writeConfig();
    const { code, report, stderr } = await doctor();
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const url = ldap.url;
    expect(report.checks.map((check) => [check.id, check.status])).toEqual([
      ["config", "pass"],
      ["keychain", "skip"],
      ["secret:client-secret", "pass"],
      ["secret:bind-password", "pass"],
      ["state-dir", "pass"],
      ["bind-name", "pass"],
      [`dns:${url}`, "pass"],
      [`tcp:${url}`, "pass"],
      [`tls:${url}`, "pass"],
      ["bind", "pass"],
      [`search:${OFFICES_BASE}`, "pass"],
      // The sample directory has a person without mail, an office that maps to no site and a duplicate address.
      ["coverage", "warn"],
      [`proxy:${emulator.url}`, "pass"],
      [`tls:${emulator.url}`, "pass"],
      ["token:default", "pass"],
    ]);
    expect(report).toMatchObject({ ok: true, exitCode: 0 });
    const tls = report.checks.find((check) => check.id === `tls:${url}`);
    expect(tls?.summary).toMatch(
      /^TLSv1\.[23], certificate trusted and matching the host name, issued by CN=ilobby-sync Test CA, expires in 36[45] days$/,
    );
    const search = report.checks.find((check) => check.id === `search:${OFFICES_BASE}`);
    expect(search?.summary).toBe("46 users match");
    expect(search?.details).toContain(
      "e.g. Amelia Hartley <amelia.hartley@example.test>; Inés Ñúñez <ines.nunez@example.test>; Robert Lee <robert.lee@example.test>",
    );
    const coverage = report.checks.find((check) => check.id === "coverage");
    expect(coverage?.summary).toBe(
      "43 of 46 users would be uploaded (1 without EMAIL, 1 with a duplicate EMAIL, 1 with a SITE outside `sites`)",
    );
    expect(coverage?.details).toContain('SITE values outside `sites` (left out): "CGY-1" (1)');
    // A token was requested; nothing was uploaded.
    expect(emulator.requests.map((request) => request.endpoint)).toEqual(["token"]);
  });

  it("prints a readable checklist without --json, and never a secret", async () => {
    writeConfig();
    const result = await runCli(["doctor"], { cwd: dir, env: secrets });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^pass {2}config file: .*ilobby-sync\.yaml is valid$/m);
    expect(result.stdout).toMatch(
      /^pass {2}bind as svc-ilobby@corp\.example\.test: bound on ldaps:\/\/127\.0\.0\.1:\d+$/m,
    );
    expect(result.stdout).toMatch(/^warn {2}attribute coverage: 43 of 46 users would be uploaded/m);
    expect(result.stdout).toMatch(/^13 passed, 1 warnings, 0 failed, 1 skipped$/m);
    expect(result.stdout + result.stderr).not.toContain(SERVICE_ACCOUNT.password);
    expect(result.stdout + result.stderr).not.toContain(CLIENT_SECRET);
  });

  it("checks TLS over StartTLS on ldap://, and refuses a certificate from another CA there too", async () => {
    const plain = await startLdapServer({
      entries: SAMPLE_ENTRIES,
      users: SAMPLE_ACCOUNTS,
      tls: issueServerCert(ca, "starttls", undefined, LONG_LIVED),
      startTls: true,
    });
    try {
      writeConfig(() => {}, plain.url);
      const good = await doctor();
      expect(good.check(`tls:${plain.url}`)).toMatchObject({
        status: "pass",
        summary: expect.stringMatching(/^TLSv1\.[23], certificate trusted and matching the host name/),
      });
      expect(good.status("bind")).toBe("pass");
      writeConfig((config) => {
        config.directory.caFile = otherCa.certFile;
      }, plain.url);
      const untrusted = await doctor();
      expect(untrusted.check(`tls:${plain.url}`)).toMatchObject({
        status: "fail",
        summary: expect.stringContaining("certificate is not trusted"),
      });
    } finally {
      await plain.stop();
    }
  });

  it("checks each group: its members are counted, a group that does not exist fails", async () => {
    const missing = `CN=iLobby Hosts Typo,OU=Groups,${SAMPLE_DOMAIN}`;
    writeConfig((config) => {
      config.directory.groups = [SAMPLE_GROUPS.hosts, missing];
    });
    const { code, check } = await doctor();
    expect(check(`group:${SAMPLE_GROUPS.hosts}`)).toMatchObject({
      status: "pass",
      summary: `${selectPeople({ groups: [SAMPLE_GROUPS.hosts] }).length} users in the search bases are members, nested groups included`,
    });
    expect(check(`group:${missing}`)).toMatchObject({
      status: "fail",
      summary: `the group "${missing}" does not exist`,
      fix: expect.stringContaining("distinguishedName"),
    });
    expect(code).toBe(4);
  });
});

describe("doctor finds the first-hour mistakes", () => {
  it("a CA that did not issue the DC's certificate: TLS fails with the fix, DNS and TCP still pass", async () => {
    writeConfig((config) => {
      config.directory.caFile = otherCa.certFile;
    });
    const { code, status, check } = await doctor();
    expect(status(`dns:${ldap.url}`)).toBe("pass");
    expect(status(`tcp:${ldap.url}`)).toBe("pass");
    expect(check(`tls:${ldap.url}`)).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("certificate is not trusted"),
      fix: expect.stringContaining("directory.caFile"),
      category: "directory",
    });
    expect(check(`tls:${ldap.url}`).details).toContain(
      `cause: the certificate was not issued by the CA in directory.caFile (${otherCa.certFile})`,
    );
    expect(check("bind")).toMatchObject({ status: "skip", summary: "no directory URL passed the TLS check" });
    expect(status(`search:${OFFICES_BASE}`)).toBe("skip");
    expect(status("token:default")).toBe("pass");
    expect(code).toBe(4);
  });

  it("a host name that is not in the certificate: TLS fails and names the certificate's names", async () => {
    const mismatch = await startLdapServer({
      entries: SAMPLE_ENTRIES,
      users: SAMPLE_ACCOUNTS,
      tls: issueServerCert(ca, "elsewhere", ["DNS:dc9.corp.example.test"], LONG_LIVED),
    });
    try {
      writeConfig(() => {}, mismatch.url);
      const { code, check } = await doctor();
      expect(check(`tls:${mismatch.url}`)).toMatchObject({
        status: "fail",
        summary: expect.stringContaining("does not match the host name"),
        fix: expect.stringContaining("exactly as in its certificate"),
      });
      expect(check(`tls:${mismatch.url}`).details.join("\n")).toContain("names: DNS:dc9.corp.example.test");
      expect(code).toBe(4);
    } finally {
      await mismatch.stop();
    }
  });

  it("a wrong bind password: the bind fails with AD's reason and the searches are skipped", async () => {
    writeConfig();
    const { code, check, stdout, stderr } = await doctor({ ILOBBY_SYNC_BIND_PASSWORD: "wrong-password" });
    expect(check("bind")).toMatchObject({
      status: "fail",
      summary: expect.stringContaining('bind as "svc-ilobby@corp.example.test" was refused'),
      fix: expect.stringContaining("ilobby-sync secret set bind-password"),
    });
    expect(check("bind").details).toContain(
      "cause: the bind password is wrong (or the bindDn names a different account)",
    );
    expect(check(`search:${OFFICES_BASE}`)).toMatchObject({
      status: "skip",
      summary: "the bind did not succeed",
    });
    expect(check("coverage").status).toBe("skip");
    expect(code).toBe(4);
    expect(stdout + stderr).not.toContain("wrong-password");
  });

  it("a bind name that is neither DN, UPN nor DOMAIN\\user: a warning, and the bind failure says why", async () => {
    writeConfig((config) => {
      config.directory.bindDn = "svc-ilobby";
    });
    const { check } = await doctor();
    expect(check("bind-name")).toMatchObject({
      status: "warn",
      fix: expect.stringContaining("CORP\\svc-ilobby"),
    });
    expect(check("bind").status).toBe("fail");
    expect(check("bind").details[0]).toContain("is neither a DN, a UPN nor DOMAIN\\user");
  });

  it("an OU that does not exist: the search fails and names what does exist", async () => {
    const typo = `OU=Ofices,${SAMPLE_DOMAIN}`;
    writeConfig((config) => {
      config.directory.searchBases = [typo];
    });
    const { code, check } = await doctor();
    expect(check(`search:${typo}`)).toMatchObject({
      status: "fail",
      summary: expect.stringContaining(`search base "${typo}" does not exist`),
      fix: expect.stringContaining("distinguishedName"),
    });
    expect(check(`search:${typo}`).details[0]).toContain(`the directory has "${SAMPLE_DOMAIN}"`);
    expect(check("coverage")).toMatchObject({ status: "skip", summary: "a search failed" });
    expect(code).toBe(4);
  });

  it("a wrong client secret: the token check fails with the fix; exit 5", async () => {
    writeConfig();
    const { code, check } = await doctor({ ILOBBY_SYNC_CLIENT_SECRET: "not-the-secret" });
    expect(check("token:default")).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("iLobby refused the client credentials (HTTP 401)"),
      fix: expect.stringContaining("ilobby-sync secret set client-secret"),
      category: "ilobby",
    });
    expect(code).toBe(5);
  });

  it("iLobby unreachable directly: TLS fails and points at ilobby.proxy / HTTPS_PROXY; the token is skipped", async () => {
    writeConfig((config) => {
      config.ilobby.baseUrl = "https://127.0.0.1:1";
    });
    const { code, check } = await doctor();
    expect(check("tls:https://127.0.0.1:1")).toMatchObject({
      status: "fail",
      summary: "cannot connect to 127.0.0.1:1 (ECONNREFUSED)",
      fix: expect.stringMatching(/ilobby\.proxy \(or HTTPS_PROXY\)/),
    });
    expect(check("token:default")).toMatchObject({ status: "skip" });
    expect(code).toBe(5);
  });

  it("an unwritable state directory fails (exit 2)", async () => {
    writeFileSync(join(dir, "a-file"), "");
    writeConfig((config) => {
      config.stateDir = "a-file/state";
    });
    const { code, check } = await doctor();
    expect(check("state-dir")).toMatchObject({
      status: "fail",
      summary: expect.stringContaining("cannot write to"),
      fix: expect.stringContaining("stateDir"),
      category: "config",
    });
    expect(code).toBe(2);
  });

  it("a certificate that expires in less than 30 days: a warning, exit 0", async () => {
    const expiring = await startLdapServer({
      entries: SAMPLE_ENTRIES,
      users: SAMPLE_ACCOUNTS,
      tls: issueServerCert(ca, "expiring", undefined, { days: 10 }),
    });
    try {
      writeConfig(() => {}, expiring.url);
      const { code, check } = await doctor();
      expect(check(`tls:${expiring.url}`)).toMatchObject({
        status: "warn",
        summary: expect.stringMatching(/expires in (9|10) days$/),
        fix: expect.stringContaining("renew"),
      });
      expect(code).toBe(0);
    } finally {
      await expiring.stop();
    }
  });

  it("secrets that are nowhere: the keychain check fails (exit 8) and what needs them is skipped", async () => {
    writeConfig();
    const { code, check, status } = await doctor({
      ILOBBY_SYNC_BIND_PASSWORD: undefined,
      ILOBBY_SYNC_CLIENT_SECRET: undefined,
      DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/ilobby-sync-test-bus",
    });
    expect(check("keychain")).toMatchObject({ status: "fail", category: "secret" });
    expect(check("keychain").fix).toMatch(/Secret Service.*ILOBBY_SYNC_/);
    expect(status("secret:bind-password")).toBe("skip");
    expect(check("bind")).toMatchObject({
      status: "skip",
      summary: "the bind-password secret is not available",
    });
    expect(check("token:default")).toMatchObject({ status: "skip" });
    expect(status(`tls:${ldap.url}`)).toBe("pass");
    expect(code).toBe(8);
  });

  it("no config file: the config check fails with the way out (exit 2)", async () => {
    const { code, report } = await doctor();
    expect(report.checks[0]).toMatchObject({
      id: "config",
      status: "fail",
      fix: expect.stringContaining("ilobby-sync init"),
    });
    expect(report.checks.slice(1).every((check) => check.status === "skip")).toBe(true);
    expect(code).toBe(2);
  });
});

describe("doctor and proxies", () => {
  let proxy: ConnectProxy;

  beforeAll(async () => {
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it("shows the proxy from HTTPS_PROXY without its password, and tests TLS and the token through it", async () => {
    writeConfig();
    proxy.tunnels.length = 0;
    const password = "proxy-pa55word";
    const { code, check, stdout } = await doctor({
      HTTPS_PROXY: `http://sync:${password}@127.0.0.1:${proxy.port}`,
    });
    expect(check(`proxy:${emulator.url}`).summary).toBe(
      `HTTPS_PROXY: http://sync:[REDACTED]@127.0.0.1:${proxy.port}/`,
    );
    expect(check(`tls:${emulator.url}`).status).toBe("pass");
    expect(check("token:default").status).toBe("pass");
    const emulatorHost = new URL(emulator.url).host;
    expect(proxy.tunnels.map((tunnel) => tunnel.target)).toEqual([emulatorHost, emulatorHost]);
    expect(stdout).not.toContain(password);
    expect(code).toBe(0);
  });

  it("says when NO_PROXY sends iLobby requests around the proxy", async () => {
    writeConfig();
    const { check } = await doctor({
      HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`,
      NO_PROXY: "localhost,127.0.0.1",
    });
    expect(check(`proxy:${emulator.url}`).summary).toBe(
      `direct: NO_PROXY entry "127.0.0.1" bypasses HTTPS_PROXY (http://127.0.0.1:${proxy.port}/)`,
    );
  });
});
