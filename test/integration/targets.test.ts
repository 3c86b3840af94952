/**
 * Several offices and several API keys: one SITE column through one key, one CSV per key through `targets`, a key
 * that fails without stopping the others, a person moving between offices, and SITE from group membership.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Emulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { type FakeEntry, type LdapServer, startLdapServer } from "../support/ldap-server.ts";
import type { ServerCert } from "../support/pki.ts";
import {
  expectedRows,
  SAMPLE_ACCOUNTS,
  SAMPLE_ENTRIES,
  SAMPLE_GROUPS,
  SAMPLE_PEOPLE,
  SERVICE_ACCOUNT,
  selectPeople,
} from "../support/sample-directory.ts";
import { type SampleConfig, type SampleWorld, startSampleWorld } from "../support/sample-world.ts";

const KEYS = {
  toronto: "tor-client",
  montreal: "mtl-client",
  vancouver: "van-client",
  all: "all-client",
} as const;
const SITE_OF = { toronto: "Toronto", montreal: "Montreal", vancouver: "Vancouver" } as const;
const secretOf = (clientId: string) => `${clientId}-secret-value`;

let world: SampleWorld;
let cert: ServerCert;
let ldap: LdapServer;
let emulator: Emulator;
let dir: string;

const env = {
  ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
  ILOBBY_SYNC_CLIENT_SECRET: secretOf(KEYS.all),
  ILOBBY_SYNC_CLIENT_SECRET_TORONTO: secretOf(KEYS.toronto),
  ILOBBY_SYNC_CLIENT_SECRET_MONTREAL: secretOf(KEYS.montreal),
  ILOBBY_SYNC_CLIENT_SECRET_VANCOUVER: secretOf(KEYS.vancouver),
};

function writeConfig(change: (config: SampleConfig) => void, url = ldap.url): void {
  const config = world.config(KEYS.all, url);
  change(config);
  world.writeConfig(dir, config);
}

function useThreeKeys(config: SampleConfig): void {
  delete config.ilobby.clientId;
  config.targets = (["toronto", "montreal", "vancouver"] as const).map((name) => ({
    name,
    clientId: KEYS[name],
    sites: [SITE_OF[name]],
  }));
}

const run = (args: string[], extraEnv: Record<string, string> = {}) =>
  runCli(["run", ...args], { cwd: dir, env: { ...env, ...extraEnv } });
const enabledEmails = (clientId: string) =>
  emulator
    .addressBook(clientId)
    .filter((entry) => entry.enabled)
    .map((entry) => entry.EMAIL);
const disabledEmails = (clientId: string) =>
  emulator
    .addressBook(clientId)
    .filter((entry) => !entry.enabled)
    .map((entry) => entry.EMAIL);
const emailsAt = (site: string) =>
  expectedRows()
    .filter((row) => row.SITE === site)
    .map((row) => row.EMAIL);

beforeAll(async () => {
  world = await startSampleWorld({
    clients: Object.fromEntries(Object.values(KEYS).map((clientId) => [clientId, secretOf(clientId)])),
  });
  ({ directoryCert: cert, ldap, emulator } = world);
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-targets-"));
});

describe("several sites", () => {
  it("one key: one CSV whose SITE column names each record's site", async () => {
    writeConfig(() => {});
    const result = await run([]);
    expect(result.code).toBe(0);
    const book = emulator.addressBook(KEYS.all);
    expect(new Set(book.map((entry) => entry.SITE))).toEqual(new Set(["Toronto", "Montreal", "Vancouver"]));
    expect(book.map((entry) => entry.EMAIL)).toEqual(expectedRows().map((row) => row.EMAIL));
  });

  it("three keys: each receives only its office, with its own state", async () => {
    writeConfig(useThreeKeys);
    const result = await run(["--json"]);
    expect(result.code).toBe(0);
    for (const name of ["toronto", "montreal", "vancouver"] as const) {
      expect(enabledEmails(KEYS[name])).toEqual(emailsAt(SITE_OF[name]));
    }
    expect(emulator.addressBook(KEYS.all)).toEqual([]);
    const summary = JSON.parse(result.stdout);
    expect(
      summary.targets.map((target: { target: string; status: string }) => [target.target, target.status]),
    ).toEqual([
      ["toronto", "uploaded"],
      ["montreal", "uploaded"],
      ["vancouver", "uploaded"],
    ]);
  });

  it("one key failing does not stop the others; exit 9 says some failed", async () => {
    writeConfig(useThreeKeys);
    const result = await run(["--json"], { ILOBBY_SYNC_CLIENT_SECRET_MONTREAL: "wrong-montreal-secret" });
    expect(result.code).toBe(9);
    const statuses = JSON.parse(result.stdout).targets.map((target: { status: string }) => target.status);
    expect(statuses).toEqual(["uploaded", "failed", "uploaded"]);
    expect(result.stderr).toMatch(/refused the client credentials/);
    expect(enabledEmails(KEYS.toronto)).toEqual(emailsAt("Toronto"));
    expect(emulator.addressBook(KEYS.montreal)).toEqual([]);
  });

  it("a person moving from Toronto to Montreal is disabled in one book and added to the other", async () => {
    writeConfig(useThreeKeys);
    expect((await run([])).code).toBe(0);

    const mover = selectPeople().find(
      (person) => person.row.SITE === "Toronto" && emailsAt("Toronto").includes(person.row.EMAIL),
    );
    if (!mover) throw new Error("the sample has no Toronto person");
    const moved: FakeEntry[] = SAMPLE_ENTRIES.map((entry) =>
      entry.dn === mover.dn
        ? { ...entry, attributes: { ...entry.attributes, physicalDeliveryOfficeName: "MTL-2" } }
        : entry,
    );
    const afterMove = await startLdapServer({ entries: moved, users: SAMPLE_ACCOUNTS, tls: cert });
    try {
      writeConfig(useThreeKeys, afterMove.url);
      const preview = JSON.parse((await run(["--dry-run", "--json"])).stdout);
      expect(preview.targets[0].disabled.map((row: { EMAIL: string }) => row.EMAIL)).toEqual([
        mover.row.EMAIL,
      ]);
      expect(preview.targets[1].added.map((row: { EMAIL: string }) => row.EMAIL)).toEqual([mover.row.EMAIL]);
      const result = await run([]);
      expect(result.code).toBe(0);
      expect(disabledEmails(KEYS.toronto)).toEqual([mover.row.EMAIL]);
      expect(enabledEmails(KEYS.montreal)).toContain(mover.row.EMAIL);
      expect(emulator.addressBook(KEYS.montreal).find((entry) => entry.EMAIL === mover.row.EMAIL)?.SITE).toBe(
        "Montreal",
      );
    } finally {
      await afterMove.stop();
    }
  });

  it("takes SITE from (nested) group membership before the office attribute", async () => {
    writeConfig((config) => {
      config.siteGroups = { [SAMPLE_GROUPS.hosts]: "Vancouver" };
    });
    const result = await run(["--dry-run", "--json"]);
    expect(result.code).toBe(0);
    const rows: { EMAIL: string; SITE: string }[] = JSON.parse(result.stdout).rows;
    const hostEmails = new Set(expectedRows({ groups: [SAMPLE_GROUPS.hosts] }).map((row) => row.EMAIL));
    expect(hostEmails.size).toBeGreaterThan(0);
    for (const row of rows) {
      if (hostEmails.has(row.EMAIL)) expect(row.SITE).toBe("Vancouver");
    }
    expect(rows.some((row) => !hostEmails.has(row.EMAIL) && row.SITE !== "Vancouver")).toBe(true);
    expect(SAMPLE_PEOPLE.length).toBeGreaterThan(rows.length);
  });

  it("validate applies the same site rules, per target", async () => {
    writeConfig(useThreeKeys);
    const csv = join(dir, "other-system.csv");
    writeFileSync(
      csv,
      "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE\nAnn,Lee,,,ann@example.test,,,Toronto\nBo,Ng,,,bo@example.test,,,Montréal\n",
    );
    const all = await runCli(["validate", csv], { cwd: dir });
    expect(all.code).toBe(3);
    expect(all.stdout).toMatch(
      /:3 SITE: error: SITE "Montréal" is not one of the portal's sites; did you mean "Montreal"\?/,
    );
    const montreal = await runCli(["validate", csv, "--target", "montreal"], { cwd: dir });
    expect(montreal.code).toBe(3);
    expect(montreal.stdout).toMatch(/:2 SITE: error: SITE "Toronto"/);
  });
});
