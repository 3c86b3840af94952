/**
 * Proves the Samba AD DC test bed behaves like the Active Directory the sync is written for, and that the
 * seed description in seed.ts matches what the directory really returns. Every connection verifies the
 * DC certificate against the test CA.
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { Client, type Entry } from "ldapts";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  ALL_BULK_DN,
  BULK_DN,
  BULK_USER_COUNT,
  buildSeed,
  CYCLE_A_DN,
  ILOBBY_HOSTS_DN,
  MONTREAL_DN,
  OFFICES_DN,
  PERSON_ATTRIBUTES,
  type SeedPerson,
  TORONTO_DN,
  TORONTO_STAFF_DN,
} from "./seed.ts";
import { OLD_TLS_PRIORITY, sambaDcControl } from "./testbed.ts";

const dc = inject("sambaDc");
const seed = buildSeed();
const tlsOptions: ConnectionOptions = { ca: readFileSync(dc.caFile) };

/** objectClass=user alone also matches computers; objectCategory=person alone also matches contacts. */
const USER_FILTER = "(&(objectCategory=person)(objectClass=user))";
const ENABLED_FILTER = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))";
const inChain = (groupDn: string): string => `(memberOf:1.2.840.113556.1.4.1941:=${groupDn})`;

async function withServiceClient<T>(use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: dc.ldapsUrl, tlsOptions, timeout: 30_000 });
  try {
    await client.bind(dc.serviceAccount.upn, dc.serviceAccount.password);
    return await use(client);
  } finally {
    await client.unbind();
  }
}

async function searchUsers(
  baseDn: string,
  filter: string,
  attributes = ["sAMAccountName"],
): Promise<Entry[]> {
  return withServiceClient(async (client) => {
    const { searchEntries } = await client.search(baseDn, {
      filter: `(&${USER_FILTER}${filter})`,
      attributes,
      paged: { pageSize: 500 },
    });
    return searchEntries;
  });
}

const accountNames = (entries: readonly (Entry | SeedPerson)[]): string[] =>
  entries.map((entry) => String(entry.sAMAccountName)).sort();

async function bindError(
  url: string,
  user: string,
  password: string,
  options = tlsOptions,
): Promise<unknown> {
  const client = new Client({ url, tlsOptions: options, connectTimeout: 5_000, timeout: 30_000 });
  try {
    await client.bind(user, password);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.unbind().catch(() => {});
  }
}

describe("binds", () => {
  it.each([
    ["DN", dc.serviceAccount.dn],
    ["UPN", dc.serviceAccount.upn],
    ["DOMAIN\\user", dc.serviceAccount.downLevel],
  ])("the service account binds over LDAPS by %s", async (_form, user) => {
    expect(await bindError(dc.ldapsUrl, user, dc.serviceAccount.password)).toBeUndefined();
  });

  it("refuses the disabled service account with result 49 and data 533", async () => {
    const { upn, password } = dc.disabledServiceAccount;
    const error = await bindError(dc.ldapsUrl, upn, password);
    expect(error).toMatchObject({ code: 49, message: expect.stringContaining("data 533") });
  });

  it("refuses a wrong password with result 49 and data 52e", async () => {
    const error = await bindError(dc.ldapsUrl, dc.serviceAccount.upn, "wrong password");
    expect(error).toMatchObject({ code: 49, message: expect.stringContaining("data 52e") });
  });

  it("does StartTLS on 389, and refuses a simple bind there before it", async () => {
    // No tlsOptions on an ldap:// client: ldapts would then speak TLS at once, which Samba resets on 389.
    const client = new Client({ url: dc.ldapUrl });
    try {
      await expect(client.bind(dc.serviceAccount.upn, dc.serviceAccount.password)).rejects.toMatchObject({
        code: 8, // strongerAuthRequired: "Transport encryption required"
      });
      // A copy: ldapts's startTLS writes the plain socket into the options object it is given.
      await client.startTLS({ ...tlsOptions });
      await client.bind(dc.serviceAccount.upn, dc.serviceAccount.password);
      const { searchEntries } = await client.search(TORONTO_DN, { filter: "(sAMAccountName=amartin)" });
      expect(searchEntries).toHaveLength(1);
    } finally {
      await client.unbind();
    }
  });

  it("fails host name verification on the mismatch URL", async () => {
    const { serviceAccount } = dc;
    const error = await bindError(dc.mismatchUrl, serviceAccount.upn, serviceAccount.password);
    expect(error).toMatchObject({ code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });

  it("fails chain verification with the other CA", async () => {
    const otherCa = { ca: readFileSync(dc.otherCaFile) };
    const error = await bindError(dc.ldapsUrl, dc.serviceAccount.upn, dc.serviceAccount.password, otherCa);
    expect(error).toMatchObject({ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  });
});

describe("directory contents match seed.ts", () => {
  it("returns every bulk user through paging", async () => {
    const pageSizes = await withServiceClient(async (client) => {
      const sizes: number[] = [];
      const pages = client.searchPaginated(BULK_DN, {
        filter: USER_FILTER,
        attributes: ["sAMAccountName"],
        paged: { pageSize: 500 },
      });
      for await (const page of pages) sizes.push(page.searchEntries.length);
      return sizes;
    });
    expect(pageSizes).toEqual([500, 500, 500, 100]);
    expect(BULK_USER_COUNT).toBeGreaterThan(1_000);
    const entries = await searchUsers(BULK_DN, "");
    expect(accountNames(entries)).toEqual(accountNames(seed.peopleUnder(BULK_DN)));
  });

  it("returns users only: no computers, contacts or groups, in overlapping bases", async () => {
    for (const base of [OFFICES_DN, TORONTO_DN]) {
      expect(accountNames(await searchUsers(base, ""))).toEqual(accountNames(seed.peopleUnder(base)));
    }
    expect(seed.nonUsers.map((object) => object.objectClass).sort()).toEqual([
      "computer",
      "computer",
      "contact",
      "contact",
    ]);
  });

  it.each([
    ["iLobby Hosts (three levels deep)", ILOBBY_HOSTS_DN],
    ["Toronto Staff", TORONTO_STAFF_DN],
    ["Cycle A (A in B in A)", CYCLE_A_DN],
  ])("the in-chain rule returns exactly the nested members of %s", async (_name, groupDn) => {
    const entries = await searchUsers(dc.baseDn, inChain(groupDn));
    expect(accountNames(entries)).toEqual(accountNames(seed.membersOfGroupNested(groupDn)));
  });

  it("the enabled-only filter excludes disabled users", async () => {
    const enabledInOffices = await searchUsers(OFFICES_DN, ENABLED_FILTER);
    const expected = seed.peopleUnder(OFFICES_DN).filter((person) => person.enabled);
    expect(accountNames(enabledInOffices)).toEqual(accountNames(expected));
    expect(accountNames(enabledInOffices)).not.toContain("dolsen");

    const enabledHosts = await searchUsers(dc.baseDn, `${inChain(ILOBBY_HOSTS_DN)}${ENABLED_FILTER}`);
    const expectedHosts = seed.membersOfGroupNested(ILOBBY_HOSTS_DN).filter((person) => person.enabled);
    expect(accountNames(enabledHosts)).toEqual(accountNames(expectedHosts));
    expect(expectedHosts.length).toBeLessThan(seed.membersOfGroupNested(ILOBBY_HOSTS_DN).length);
  });

  it("returns accented, escaped and space-padded values intact", async () => {
    const attributes = ["cn", ...PERSON_ATTRIBUTES];
    const entries = await searchUsers(OFFICES_DN, "", ["sAMAccountName", ...attributes]);
    for (const sAMAccountName of [
      "jcote",
      "elefevre",
      "cnguyen",
      "jlee",
      "pnatarajan",
      "kiosk-mtl",
      "kwatanabe",
    ]) {
      const person = seed.people.find((candidate) => candidate.sAMAccountName === sAMAccountName);
      const entry = entries.find((candidate) => candidate.sAMAccountName === sAMAccountName);
      expect(entry?.dn).toBe(person?.dn);
      // ldapts reports a requested attribute the entry lacks as [].
      const present = attributes.flatMap((name) => {
        const value = entry?.[name];
        return Array.isArray(value) && value.length === 0 ? [] : [[name, value]];
      });
      expect(Object.fromEntries(present)).toEqual({ cn: person?.cn, ...person?.attributes });
    }
  });

  it("serves ranged reads of the 1,600 members of All Bulk", async () => {
    const read = (attribute: string) =>
      withServiceClient(
        async (client) =>
          (await client.search(ALL_BULK_DN, { scope: "base", attributes: [attribute] })).searchEntries[0],
      );
    expect((await read("member;range=0-1499"))?.["member;range=0-1499"]).toHaveLength(1_500);
    expect((await read("member;range=1500-*"))?.["member;range=1500-*"]).toHaveLength(100);
    // Unlike Windows (MaxValRange 1,500), Samba never forces ranges: a plain read returns every member.
    expect((await read("member"))?.member).toHaveLength(1_600);
  });

  it("keeps mail addresses that differ only by case on two people", async () => {
    const entries = await searchUsers(OFFICES_DN, "(mail=sam.taylor@corp.example.test)");
    expect(accountNames(entries)).toEqual(["sataylor", "staylor"]);
    expect(seed.peopleUnder(MONTREAL_DN).some((person) => person.sAMAccountName === "sataylor")).toBe(true);
  });
});

describe("DC control from a test worker", () => {
  const control = sambaDcControl(dc.controlUrl);
  const { upn, password } = dc.serviceAccount;
  afterAll(() => control.restart());

  it("restarts into old-TLS mode, which Node's TLS 1.2 minimum refuses", async () => {
    await control.restart({ tlsPriority: OLD_TLS_PRIORITY });
    expect(await bindError(dc.ldapsUrl, upn, password)).toMatchObject({
      code: "ERR_SSL_UNSUPPORTED_PROTOCOL",
    });
    await control.restart();
    expect(await bindError(dc.ldapsUrl, upn, password)).toBeUndefined();
  });

  it("kills the DC mid-search and brings it back", async () => {
    const client = new Client({ url: dc.ldapsUrl, tlsOptions, timeout: 30_000 });
    try {
      await client.bind(upn, password);
      const pages = client.searchPaginated(BULK_DN, { filter: USER_FILTER, paged: { pageSize: 100 } });
      await pages.next();
      await control.kill();
      await expect(pages.next()).rejects.toThrow();
    } finally {
      await client.unbind().catch(() => {});
    }
    expect(await bindError(dc.ldapsUrl, upn, password)).toMatchObject({ code: "ECONNREFUSED" });
    await control.restart();
    expect(await bindError(dc.ldapsUrl, upn, password)).toBeUndefined();
  });
});
