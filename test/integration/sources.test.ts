/**
 * `directory` as a list of sources without Samba: the in-process LDAPS directory and the Graph emulator in one
 * sync through the built CLI (run and doctor). The Samba AD version is test/ad/hybrid.test.ts.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Row } from "../../src/core/columns.ts";
import { runCli } from "../support/cli.ts";
import { ENTRA_SECRET, type EntraWorld, startEntraWorld } from "../support/entra-world.ts";
import { expectedRows, SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleWorld, startSampleWorld } from "../support/sample-world.ts";

const CLIENT = "sources-client";
const CLIENT_SECRET = "sources-client-secret-value";
/** An address the sample LDAP directory has too, in another letter case. */
const SHARED = "HANNAH.SCHMIDT@example.test";

let ldapWorld: SampleWorld;
let entraWorld: EntraWorld;
let dir: string;

const env = {
  ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
  ILOBBY_SYNC_ENTRA_CLIENT_SECRET: ENTRA_SECRET,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};

beforeAll(async () => {
  ldapWorld = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET } });
  entraWorld = await startEntraWorld({
    ilobbyClients: {},
    prepare: ({ tenant }) => {
      const zoe = tenant.users.find((user) => user.mail === "zoe.lefevre@cloud.example.test");
      if (zoe) zoe.mail = SHARED; // Zoë's Entra record now collides with Hannah Schmidt's LDAP one
    },
  });
  dir = mkdtempSync(join(tmpdir(), "ilobby-sources-"));
  const config = ldapWorld.config(CLIENT);
  const entra = entraWorld.config(CLIENT).directory;
  entraWorld.writeConfig(dir, {
    ...config,
    // Entra people have no office code: their own mapping gives them a SITE the portal knows.
    directory: [config.directory, { ...entra, mapping: { SITE: { value: "Toronto" } } }],
  });
});
afterAll(async () => {
  await Promise.all([ldapWorld?.stop(), entraWorld?.stop()]);
});

describe("LDAP + Entra ID in one sync", () => {
  it("merges by EMAIL, the first source winning, and reports the duplicate", async () => {
    const result = await runCli(["run", "--dry-run", "--json"], { cwd: dir, env });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    const emails = new Set(summary.rows.map((row: Row) => row.EMAIL.toLowerCase()));
    for (const row of expectedRows()) expect(emails).toContain(row.EMAIL.toLowerCase());
    const hannah = summary.rows.filter((row: Row) => row.EMAIL.toLowerCase() === SHARED.toLowerCase());
    expect(hannah).toHaveLength(1);
    expect(hannah[0].FIRSTNAME).toBe("Hannah");
    const duplicate = summary.skipped.find((skip: { email: string }) => skip.email === SHARED);
    expect(duplicate).toMatchObject({ reason: "duplicate-email" });
    expect(summary.rows.find((row: Row) => row.EMAIL === "paris.1@cloud.example.test")?.SITE).toBe("Toronto");
    expect(summary.query.type).toBe("ldap+entra");
  });

  it("doctor checks each source, named by its position and type", async () => {
    const result = await runCli(["doctor"], { cwd: dir, env });
    expect(result.stdout).toMatch(/pass {2}source 1 \(ldap\): bind as /);
    expect(result.stdout).toMatch(/pass {2}source 2 \(entra\): token for app /);
    expect(result.stdout).toMatch(/pass {2}source 2 \(entra\): Graph application permissions/);
    expect(result.stdout).toMatch(/secret entra-client-secret: from environment/);
    expect(result.stdout).toMatch(/secret bind-password: from environment/);
  });
});
