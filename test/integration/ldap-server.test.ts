/**
 * The in-process AD double (test/support/ldap-server.ts) and the sample directory, driven by ldapts (the client
 * ilobby-sync uses) over real TLS with the test CA: binds, AD's filters and paging limits, StartTLS, old TLS,
 * and a search that dies mid-way.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { Client, type Entry } from "ldapts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildUserFilter } from "../../src/adapters/ldap/ldap-filter.ts";
import {
  type FakeEntry,
  type LdapServer,
  type LdapServerOptions,
  MAX_PAGE_SIZE,
  RESULT,
  startLdapServer,
} from "../support/ldap-server.ts";
import { createTestCa, issueServerCert, type ServerCert, type TestCa } from "../support/pki.ts";
import {
  DISABLED_SERVICE_ACCOUNT,
  expectedRows,
  OFFICES_BASE,
  SAMPLE_ACCOUNTS,
  SAMPLE_ENTRIES,
  SAMPLE_GROUPS,
  SAMPLE_PEOPLE,
  SERVICE_ACCOUNT,
  selectPeople,
} from "../support/sample-directory.ts";

const PERSON = "CN=Person,CN=Schema,CN=Configuration,DC=lab,DC=test";

let dir: string;
let ca: TestCa;
let certificate: ServerCert;
const servers: LdapServer[] = [];
const clients: Client[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ldap-server-test-"));
  ca = createTestCa(dir);
  certificate = issueServerCert(ca, "dc1");
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.unbind().catch(() => {})));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(options: Partial<LdapServerOptions> = {}): Promise<LdapServer> {
  const server = await startLdapServer({
    entries: SAMPLE_ENTRIES,
    users: SAMPLE_ACCOUNTS,
    tls: { certPem: certificate.certPem, keyPem: certificate.keyPem },
    ...options,
  });
  servers.push(server);
  return server;
}

function connect(server: LdapServer, tlsOptions: ConnectionOptions = {}): Client {
  // ldapts speaks TLS from the first byte whenever it has tlsOptions, so a StartTLS client must not get any.
  const implicitTls = server.url.startsWith("ldaps:");
  const client = new Client({
    url: server.url,
    ...(implicitTls ? { tlsOptions: { ca: [ca.certPem], minVersion: "TLSv1.2", ...tlsOptions } } : {}),
    connectTimeout: 5000,
  });
  clients.push(client);
  return client;
}

async function boundClient(server: LdapServer): Promise<Client> {
  const client = connect(server);
  await client.bind(SERVICE_ACCOUNT.upn, SERVICE_ACCOUNT.password);
  return client;
}

function user(dn: string, attributes: FakeEntry["attributes"] = {}): FakeEntry {
  return {
    dn,
    attributes: { objectClass: ["top", "person", "user"], objectCategory: PERSON, ...attributes },
  };
}

const dns = (entries: Entry[]): string[] => entries.map((entry) => entry.dn);

describe("binds", () => {
  it("accepts the service account by DN, UPN and down-level name", async () => {
    const server = await start();
    for (const name of [
      SERVICE_ACCOUNT.dn,
      SERVICE_ACCOUNT.upn,
      SERVICE_ACCOUNT.downLevel,
      "corp\\SVC-ILOBBY",
    ]) {
      await connect(server).bind(name, SERVICE_ACCOUNT.password);
    }
    expect(server.binds.map((bind) => bind.resultCode)).toEqual([0, 0, 0, 0]);
  });

  it("fails like AD: 52e for a wrong password or an unknown account, 533 for a disabled account", async () => {
    const server = await start();
    const attempt = (name: string, password: string) => connect(server).bind(name, password);
    await expect(attempt(SERVICE_ACCOUNT.upn, "wrong")).rejects.toMatchObject({
      code: RESULT.invalidCredentials,
      message: expect.stringContaining(
        "80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 52e, v4563",
      ),
    });
    await expect(attempt("nobody@corp.example.test", "x")).rejects.toThrow(/data 52e/);
    await expect(
      attempt(DISABLED_SERVICE_ACCOUNT.downLevel, DISABLED_SERVICE_ACCOUNT.password),
    ).rejects.toThrow(/data 533/);
    // AD reveals "disabled" only to someone who knows the password.
    await expect(attempt(DISABLED_SERVICE_ACCOUNT.dn, "wrong")).rejects.toThrow(/data 52e/);
  });

  it("refuses searches until a real bind, even after an unauthenticated (empty password) bind", async () => {
    const server = await start();
    const anonymous = connect(server);
    await expect(anonymous.search(OFFICES_BASE, {})).rejects.toMatchObject({
      code: RESULT.operationsError,
      message: expect.stringContaining("a successful bind must be completed"),
    });
    const unauthenticated = connect(server);
    await unauthenticated.bind(SERVICE_ACCOUNT.upn, "");
    await expect(unauthenticated.search(OFFICES_BASE, {})).rejects.toMatchObject({
      code: RESULT.operationsError,
    });
    // A failed bind leaves the connection anonymous again.
    const client = await boundClient(server);
    await expect(client.bind(SERVICE_ACCOUNT.upn, "wrong")).rejects.toMatchObject({
      code: RESULT.invalidCredentials,
    });
    await expect(client.search(OFFICES_BASE, {})).rejects.toMatchObject({ code: RESULT.operationsError });
  });
});

describe("search", () => {
  it("finds exactly the sample people for ilobby-sync's own filters", async () => {
    const server = await start();
    const client = await boundClient(server);
    const selections = [
      {},
      { includeDisabled: true },
      { groups: [SAMPLE_GROUPS.hosts] },
      { groups: [SAMPLE_GROUPS.hosts], nestedGroups: false },
      { groups: [SAMPLE_GROUPS.vancouverHosts, SAMPLE_GROUPS.vancouverFrontDesk], includeDisabled: true },
    ];
    for (const selection of selections) {
      const filter = buildUserFilter({
        groups: selection.groups ?? [],
        nestedGroups: selection.nestedGroups ?? true,
        includeDisabled: selection.includeDisabled ?? false,
      });
      const { searchEntries } = await client.search(OFFICES_BASE, {
        scope: "sub",
        filter,
        attributes: ["mail"],
      });
      expect(dns(searchEntries), JSON.stringify(selection)).toEqual(
        selectPeople(selection).map((person) => person.dn),
      );
      expect(server.searches.at(-1)?.filter).toBe(filter.toString());
    }
    // The kiosk computer and the caterer contact have mail addresses, but are never people to sync.
    const { searchEntries } = await client.search(OFFICES_BASE, { filter: "(mail=*)", attributes: ["cn"] });
    expect(dns(searchEntries)).toEqual(
      expect.arrayContaining([
        `CN=TOR-KIOSK-01,OU=Toronto,${OFFICES_BASE}`,
        `CN=Marie Caterer,OU=Montreal,${OFFICES_BASE}`,
      ]),
    );
  });

  it("returns the requested attributes only, with their stored case, and DNs as stored", async () => {
    const server = await start();
    const client = await boundClient(server);
    const { searchEntries } = await client.search(OFFICES_BASE, {
      filter: "(|(sn=côté)(cn=Lee\\2c Robert Jr.)(givenName= maya ))",
      attributes: ["GIVENNAME", "mail", "department"],
    });
    expect(searchEntries).toEqual([
      {
        dn: `CN=Lee\\, Robert Jr.,OU=Toronto,${OFFICES_BASE}`,
        givenName: "Robert",
        mail: "robert.lee@example.test",
        department: "Facilities",
      },
      {
        dn: `CN=Jérôme Côté,OU=Montreal,${OFFICES_BASE}`,
        givenName: "Jérôme",
        mail: "jerome.cote@example.test",
        department: "Opérations",
      },
      {
        dn: `CN=Maya Johansson,OU=Vancouver,${OFFICES_BASE}`,
        givenName: " Maya ",
        mail: "maya.johansson@example.test",
        department: "Design  ",
      },
    ]);
  });

  it("evaluates presence, substrings, equality ignoring case, and objectCategory by class name", async () => {
    const server = await start();
    const client = await boundClient(server);
    const count = async (filter: string) =>
      (await client.search(OFFICES_BASE, { filter, attributes: ["cn"] })).searchEntries.length;
    expect(await count("(objectCategory=person)")).toBe(SAMPLE_PEOPLE.length + 1); // + the contact
    expect(await count("(objectCategory=computer)")).toBe(1);
    expect(await count("(&(objectClass=user)(!(mobile=*)))")).toBe(
      SAMPLE_PEOPLE.filter((person) => person.row.MOBILE === "").length + 1, // + the computer
    );
    expect(await count("(MAIL=SAM.TAYLOR@EXAMPLE.TEST)")).toBe(2);
    expect(await count("(physicalDeliveryOfficeName=VAN-*)")).toBe(
      SAMPLE_PEOPLE.filter((person) => person.office === "Vancouver").length - 1, // Ryan Campbell: CGY-1
    );
    expect(await count("(title=*engineer*)")).toBe(5);
    expect(await count("(sn=C*t*)")).toBe(3); // Côté, Côté-Leblanc and Caterer (the contact)
    expect(await count("(givenName=Ella)")).toBe(0);
    // What it does not implement fails loudly instead of matching nothing.
    await expect(
      client.search(OFFICES_BASE, { filter: "(whenChanged>=20240101000000.0Z)" }),
    ).rejects.toMatchObject({
      code: RESULT.unwillingToPerform,
    });
  });

  it("applies the bitwise-AND rule to userAccountControl", async () => {
    const server = await start({
      entries: [
        user("CN=Enabled,OU=Lab,DC=lab,DC=test", { userAccountControl: "512" }),
        user("CN=Disabled,OU=Lab,DC=lab,DC=test", { userAccountControl: "514" }),
        user("CN=Disabled Forever,OU=Lab,DC=lab,DC=test", { userAccountControl: "66050" }),
        user("CN=No Flags,OU=Lab,DC=lab,DC=test"),
      ],
      users: [{ dn: "CN=svc,DC=lab,DC=test", password: "pw" }],
    });
    const client = connect(server);
    await client.bind("CN=svc,DC=lab,DC=test", "pw");
    const find = async (filter: string) =>
      dns((await client.search("DC=lab,DC=test", { filter })).searchEntries);
    expect(await find("(userAccountControl:1.2.840.113556.1.4.803:=2)")).toEqual([
      "CN=Disabled,OU=Lab,DC=lab,DC=test",
      "CN=Disabled Forever,OU=Lab,DC=lab,DC=test",
    ]);
    expect(await find("(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))")).toEqual([
      "CN=Enabled,OU=Lab,DC=lab,DC=test",
      "CN=No Flags,OU=Lab,DC=lab,DC=test",
    ]);
    expect(await find("(userAccountControl:1.2.840.113556.1.4.803:=514)")).toHaveLength(2);
  });

  it("follows nested groups for the in-chain rule, through a cycle, and only direct ones without it", async () => {
    const base = "OU=Lab,DC=lab,DC=test";
    const group = (name: string, members: string[]): FakeEntry => ({
      dn: `CN=${name},${base}`,
      attributes: { objectClass: ["top", "group"], member: members.map((member) => `CN=${member},${base}`) },
    });
    const server = await start({
      entries: [
        // Hosts (Lab) -> Floor 1 -> Floor 1 East -> Hosts (Lab): a cycle, as AD allows.
        group("Hosts (Lab)", ["Ann", "Floor 1"]),
        group("Floor 1", ["Bob", "Floor 1 East"]),
        group("Floor 1 East", ["Cat", "Hosts (Lab)"]),
        group("Elsewhere", ["Dan"]),
        ...["Ann", "Bob", "Cat", "Dan"].map((name) => user(`CN=${name},${base}`)),
      ],
      users: [{ dn: "CN=svc,DC=lab,DC=test", password: "pw" }],
    });
    const client = connect(server);
    await client.bind("CN=svc,DC=lab,DC=test", "pw");
    const users = async (filter: string) =>
      dns((await client.search(base, { filter: `(&(objectClass=user)${filter})` })).searchEntries);
    const hosts = `CN=Hosts \\28Lab\\29,${base}`;
    expect(await users(`(memberOf:1.2.840.113556.1.4.1941:=${hosts})`)).toEqual([
      `CN=Ann,${base}`,
      `CN=Bob,${base}`,
      `CN=Cat,${base}`,
    ]);
    expect(await users(`(memberOf=${hosts})`)).toEqual([`CN=Ann,${base}`]);
    expect(await users(`(memberOf:1.2.840.113556.1.4.1941:=cn=floor 1 east,${base.toLowerCase()})`)).toEqual([
      `CN=Ann,${base}`,
      `CN=Bob,${base}`,
      `CN=Cat,${base}`,
    ]);
    expect(await users(`(memberOf:1.2.840.113556.1.4.1941:=CN=Nowhere,${base})`)).toEqual([]);
    // memberOf is computed from the groups' member values, as AD does.
    const { searchEntries } = await client.search(`CN=Cat,${base}`, {
      scope: "base",
      attributes: ["memberOf"],
    });
    expect(searchEntries[0]?.memberOf).toBe(`CN=Floor 1 East,${base}`);
  });

  it("honours scope base, one and sub, and answers noSuchObject for a missing base", async () => {
    const server = await start();
    const client = await boundClient(server);
    const toronto = `OU=Toronto,${OFFICES_BASE}`;
    const count = async (base: string, scope: "base" | "one" | "sub") =>
      (await client.search(base, { scope, attributes: ["cn"] })).searchEntries.length;
    const torontoObjects = SAMPLE_PEOPLE.filter((person) => person.office === "Toronto").length + 1; // + kiosk
    expect(await count(toronto, "base")).toBe(1);
    expect(await count(toronto, "one")).toBe(torontoObjects);
    expect(await count(toronto, "sub")).toBe(torontoObjects + 1);
    expect(await count(OFFICES_BASE.toUpperCase(), "one")).toBe(3);
    await expect(client.search(`OU=Calgary,${OFFICES_BASE}`, {})).rejects.toMatchObject({
      code: RESULT.noSuchObject,
      message: expect.stringContaining(
        `problem 2001 (NO_OBJECT), data 0, best match of:\n\t'${OFFICES_BASE}'`,
      ),
    });
  });
});

describe("paging", () => {
  const base = "OU=Bulk,DC=bulk,DC=test";
  const bulk = Array.from({ length: 2345 }, (_, index) =>
    user(`CN=User ${String(index).padStart(4, "0")},${base}`, { mail: `user${index}@example.test` }),
  );
  const account = { dn: "CN=svc,DC=bulk,DC=test", password: "pw" };

  async function bulkClient(): Promise<{ server: LdapServer; client: Client }> {
    const server = await start({ entries: bulk, users: [account] });
    const client = connect(server);
    await client.bind(account.dn, account.password);
    return { server, client };
  }

  it("serves a paged search page by page, at most 1000 entries per page", async () => {
    const { server, client } = await bulkClient();
    const pageSizes: number[] = [];
    for await (const page of client.searchPaginated(base, { filter: "(mail=*)", paged: { pageSize: 500 } })) {
      pageSizes.push(page.searchEntries.length);
    }
    expect(pageSizes).toEqual([500, 500, 500, 500, 345]);
    const all = await client.search(base, {
      filter: "(mail=*)",
      attributes: ["mail"],
      paged: { pageSize: 5000 },
    });
    expect(all.searchEntries).toHaveLength(bulk.length);
    expect(
      server.searches.map(({ paged, pageSize, pages, entries, resultCode }) => ({
        paged,
        pageSize,
        pages,
        entries,
        resultCode,
      })),
    ).toEqual([
      { paged: true, pageSize: 500, pages: 5, entries: 2345, resultCode: 0 },
      { paged: true, pageSize: 5000, pages: 3, entries: 2345, resultCode: 0 },
    ]);
  });

  it("stops an unpaged search at 1000 entries with sizeLimitExceeded, as AD's MaxPageSize does", async () => {
    const { server, client } = await bulkClient();
    await expect(client.search(base, { filter: "(objectClass=user)" })).rejects.toMatchObject({
      code: RESULT.sizeLimitExceeded,
    });
    expect(server.searches[0]).toMatchObject({
      paged: false,
      entries: MAX_PAGE_SIZE,
      resultCode: RESULT.sizeLimitExceeded,
    });
  });

  it("can drop the connection after some pages or entries, failing the search", async () => {
    const { server, client } = await bulkClient();
    server.failNextSearch({ afterPages: 2 });
    const pages: number[] = [];
    const reading = (async () => {
      for await (const page of client.searchPaginated(base, { paged: { pageSize: 300 } })) {
        pages.push(page.searchEntries.length);
      }
    })();
    await expect(reading).rejects.toThrow(/closed/i);
    expect(pages).toEqual([300, 300]);
    expect(server.searches[0]).toMatchObject({ pages: 2, entries: 600 });
    expect(server.searches[0]?.resultCode).toBeUndefined();

    const again = connect(server);
    await again.bind(account.dn, account.password);
    server.failNextSearch({ afterEntries: 10 });
    await expect(again.search(base, { paged: { pageSize: 100 } })).rejects.toThrow(/closed/i);
    expect(server.searches[1]).toMatchObject({ pages: 0, entries: 10 });
  });
});

describe("TLS", () => {
  it("offers StartTLS on ldap://, and refuses a bind before it", async () => {
    const server = await start({ startTls: true });
    expect(server.url).toMatch(/^ldap:\/\/127\.0\.0\.1:\d+$/);
    const plain = connect(server);
    await expect(plain.bind(SERVICE_ACCOUNT.upn, SERVICE_ACCOUNT.password)).rejects.toMatchObject({
      code: RESULT.strongAuthRequired,
      message: expect.stringContaining("SSL\\TLS are not already active"),
    });
    const client = connect(server);
    await client.startTLS({ ca: [ca.certPem], host: "127.0.0.1", minVersion: "TLSv1.2" });
    await client.bind(SERVICE_ACCOUNT.downLevel, SERVICE_ACCOUNT.password);
    const { searchEntries } = await client.search(OFFICES_BASE, {
      filter: "(sn=Okafor)",
      attributes: ["mail"],
    });
    expect(searchEntries[0]?.mail).toBe("grace.okafor@example.test");
  });

  it("lets a TLS 1.1-only server be refused by a client that requires TLS 1.2", async () => {
    const legacy = issueServerCert(ca, "legacy-dc", ["IP:127.0.0.1"], { rsa: true });
    const server = await start({
      tls: {
        certPem: legacy.certPem,
        keyPem: legacy.keyPem,
        minVersion: "TLSv1",
        maxVersion: "TLSv1.1",
        ciphers: "DEFAULT:@SECLEVEL=0",
      },
    });
    await expect(connect(server).bind(SERVICE_ACCOUNT.upn, SERVICE_ACCOUNT.password)).rejects.toThrow();
    expect(server.binds).toEqual([]);
    // The same server does work for a client that still accepts TLS 1.1: the refusal is the client's.
    const oldClient = connect(server, { minVersion: "TLSv1", ciphers: "DEFAULT:@SECLEVEL=0" });
    await oldClient.bind(SERVICE_ACCOUNT.upn, SERVICE_ACCOUNT.password);
    expect(server.binds).toEqual([{ name: SERVICE_ACCOUNT.upn, resultCode: 0 }]);
  });
});

describe("sample directory", () => {
  it("expects 43 of its 48 people to reach iLobby by default, each edge case where it belongs", () => {
    const rows = expectedRows();
    expect(SAMPLE_PEOPLE).toHaveLength(48);
    expect(rows).toHaveLength(43); // 2 disabled, 1 without an address, 1 unknown site, 1 duplicate
    const emails = rows.map((row) => row.EMAIL);
    expect(emails).toContain("oliver.bennett@corp.example.test"); // UPN fallback
    expect(emails).toContain("sam.taylor@example.test"); // Samantha (Montreal) sorts first
    expect(emails).not.toContain("Sam.Taylor@example.test");
    expect(rows.find((row) => row.LASTNAME === "Côté")).toMatchObject({
      FIRSTNAME: "Jérôme",
      SITE: "Montreal",
    });
    expect(rows.find((row) => row.LASTNAME === "Johansson")).toMatchObject({
      FIRSTNAME: "Maya",
      TITLE: "UX Designer",
      DIVISION: "Design",
    });
    expect(expectedRows({ groups: [SAMPLE_GROUPS.hosts] }).map((row) => row.EMAIL)).toEqual([
      "amelia.hartley@example.test",
      "ava.wilson@example.test",
      "chloe.tremblay@example.test",
      "grace.okafor@example.test",
      "jerome.cote@example.test",
      "maya.johansson@example.test",
      "Sam.Taylor@example.test",
      "zoe.adeyemi@example.test",
    ]);
  });
});
