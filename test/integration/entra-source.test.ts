/**
 * The Entra ID source adapter against the Graph emulator over real TLS (its own test CA): tokens through
 * @azure/msal-node with a client secret and with a certificate's client assertion, paging, $select, nested
 * groups with non-user members, guests and disabled accounts, and every fault mode.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createEntraDirectory,
  type EntraDirectoryOptions,
  graphSelectFor,
} from "../../src/adapters/entra/entra-directory.ts";
import { readCertificateCredential } from "../../src/adapters/entra/entra-token.ts";
import { createNetworkPath, type NetworkPath } from "../../src/adapters/network/network-path.ts";
import type { SourceRecord } from "../../src/app/ports.ts";
import { SyncError } from "../../src/core/errors.ts";
import { type GraphEmulator, startGraphEmulator, USER_READ_ALL } from "../graph-emulator/graph-emulator.ts";
import {
  buildSampleTenant,
  LONDON_STAFF,
  SAMPLE_GROUPS,
  SAMPLE_TENANT_ID,
  type SampleTenantFacts,
} from "../graph-emulator/sample-tenant.ts";
import { type ClientCertificate, createClientCertificate } from "../support/pki.ts";

const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const CERT_CLIENT_ID = "66666666-7777-8888-9999-000000000000";
const SECRET = "entra-test-secret-value-0123456789";
/** The default Entra mapping's properties, in Graph's spelling. */
const MAPPED_PROPERTIES = [
  "givenName",
  "surname",
  "jobTitle",
  "department",
  "mail",
  "userPrincipalName",
  "mobilePhone",
  "businessPhones",
  "officeLocation",
];
const MAPPED = MAPPED_PROPERTIES.map((name) => name.toLowerCase());

let graph: GraphEmulator;
let facts: SampleTenantFacts;
let certificate: ClientCertificate;
let dir: string;
let network: NetworkPath;
const tokensSeen: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "entra-source-"));
  certificate = createClientCertificate(dir, "entra-app");
  facts = buildSampleTenant();
  graph = await startGraphEmulator({
    tenant: facts.tenant,
    tenantIds: [SAMPLE_TENANT_ID, "9c2f7b34-0000-4000-8000-000000000001"],
    clients: {
      [CLIENT_ID]: { secret: SECRET },
      [CERT_CLIENT_ID]: { certificatePem: certificate.certPem },
    },
  });
  // The same network path a run uses: system roots plus the emulator's CA, no proxy for loopback.
  network = createNetworkPath({ env: {}, extraCa: [graph.caPem] });
});

afterAll(async () => {
  await network?.close();
  await graph?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  graph.reset();
});

function source(overrides: Partial<EntraDirectoryOptions> = {}) {
  return createEntraDirectory({
    authorityUrl: graph.url,
    graphUrl: graph.url,
    tenantId: SAMPLE_TENANT_ID,
    clientId: CLIENT_ID,
    credential: { kind: "secret", secret: SECRET },
    groups: [],
    includeDisabled: false,
    includeGuests: false,
    pageSize: 50,
    timeoutSeconds: 10,
    dispatcher: network.dispatcher,
    retry: { attempts: 3, maxSeconds: 20, initialDelayMs: 50 },
    onToken: (token) => tokensSeen.push(token),
    ...overrides,
  });
}

async function readAll(
  options: Partial<EntraDirectoryOptions> = {},
  siteGroups: string[] = [],
): Promise<{ records: SourceRecord[]; pages: number }> {
  const records: SourceRecord[] = [];
  let pages = 0;
  for await (const page of source(options).read({ attributes: MAPPED, siteGroups })) {
    pages++;
    records.push(...page);
  }
  return { records, pages };
}

const emailOf = (record: SourceRecord) => {
  const mail = record.attributes.mail ?? record.attributes.userprincipalname;
  return String(mail).toLowerCase();
};

const graphRequests = () => graph.requests.filter((request) => request.endpoint === "graph");

describe("Entra ID source", () => {
  it("reads every enabled member user of the tenant with a client secret, page by page to the end", async () => {
    const { records, pages } = await readAll();
    expect(records.map(emailOf).sort()).toEqual(facts.everyoneEmails);
    expect(pages).toBeGreaterThan(3);
    const lists = graphRequests();
    expect(lists.map((request) => request.page)).toEqual(lists.map((_, index) => index + 1));
    // $select: exactly the mapped properties plus what decides who is left out, in Graph's spelling.
    expect(lists[0]?.query.$select?.split(",").sort()).toEqual(
      ["id", "accountEnabled", "userType", ...MAPPED_PROPERTIES].sort(),
    );
    expect(lists[0]?.query.$top).toBe("50");
    const token = graph.requests.find((request) => request.endpoint === "token");
    expect(token?.credential).toBe("secret");
    expect(token?.form?.scope).toBe(`${graph.url}/.default`);
    // msal read the tenant's OpenID configuration from the configured authority, and nothing else outside it.
    expect(graph.requests.some((request) => request.endpoint === "openid")).toBe(true);
    expect(graph.requests.filter((request) => request.endpoint === "other")).toEqual([]);
  });

  it("keeps Graph's values: lists stay lists, accents survive, empty values are absent", async () => {
    const { records } = await readAll();
    const zoe = records.find((record) => record.attributes.mail === "zoe.lefevre@cloud.example.test");
    expect(zoe?.attributes.givenname).toBe("Zoë");
    expect(zoe?.attributes.businessphones).toEqual(["+33 1 23 45 67 89", "+33 1 98 76 54 32"]);
    expect(zoe?.stableId).toBe(zoe?.ref);
    const sparse = records.find((record) => record.attributes.mail === "sparse.person@cloud.example.test");
    expect(sparse?.attributes).not.toHaveProperty("jobtitle");
    expect(sparse?.attributes).not.toHaveProperty("businessphones");
  });

  it("reads transitive user members of groups once each, skipping groups, devices, apps and contacts", async () => {
    const { records } = await readAll({ groups: [SAMPLE_GROUPS.allStaff, SAMPLE_GROUPS.paris] });
    expect(records.map(emailOf).sort()).toEqual(facts.allStaffEmails);
    expect(new Set(records.map((record) => record.ref)).size).toBe(records.length);
  });

  it("leaves out guests and disabled accounts unless asked", async () => {
    const strict = (await readAll({ groups: [SAMPLE_GROUPS.allStaff] })).records.map(emailOf);
    expect(strict).not.toContain(facts.guestEmail);
    expect(strict).not.toContain(facts.disabledEmail);
    const all = (
      await readAll({ groups: [SAMPLE_GROUPS.allStaff], includeGuests: true, includeDisabled: true })
    ).records.map(emailOf);
    expect(all).toContain(facts.guestEmail);
    expect(all).toContain(facts.disabledEmail);
  });

  it("names the site groups each record belongs to, nested membership included", async () => {
    const { records } = await readAll({ groups: [SAMPLE_GROUPS.allStaff] }, [
      SAMPLE_GROUPS.reception,
      SAMPLE_GROUPS.paris,
    ]);
    const inReception = records.filter((record) => record.groups?.includes(SAMPLE_GROUPS.reception));
    // London Reception nests London Office (a cycle back to itself): all of London is in it.
    expect(inReception.length).toBeGreaterThanOrEqual(LONDON_STAFF);
    const zoe = records.find((record) => record.attributes.mail === "zoe.lefevre@cloud.example.test");
    expect(zoe?.groups).toEqual([SAMPLE_GROUPS.paris]);
  });

  it("signs a client assertion with the certificate, which the token endpoint verifies", async () => {
    const { records } = await readAll({
      clientId: CERT_CLIENT_ID,
      credential: {
        kind: "certificate",
        pem: certificate.certPem + certificate.keyPem,
        file: certificate.pemFile,
      },
    });
    expect(records.length).toBe(facts.everyoneEmails.length);
    const token = graph.requests.find((request) => request.endpoint === "token");
    expect(token?.credential).toBe("certificate");
    expect(token?.status).toBe(200);
    expect(token?.form).not.toHaveProperty("client_secret");
  });

  it("refuses a certificate the app registration does not know", async () => {
    const other = createClientCertificate(dir, "someone-else");
    const error = await readAll({
      clientId: CERT_CLIENT_ID,
      credential: { kind: "certificate", pem: other.certPem + other.keyPem, file: other.pemFile },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).category).toBe("directory");
    expect((error as SyncError).likelyCause).toMatch(/certificate/);
  });

  it("reports a wrong client secret as such, without the secret", async () => {
    const error = (await readAll({
      credential: { kind: "secret", secret: "wrong-secret-value-000000" },
    }).catch((caught: unknown) => caught)) as SyncError;
    expect(error).toBeInstanceOf(SyncError);
    expect(error.message).toMatch(/AADSTS7000215/);
    expect(error.fix).toMatch(/secret set entra-client-secret/);
    expect(`${error.message} ${error.fix}`).not.toContain("wrong-secret-value");
  });

  it("waits as 429's Retry-After asks, and retries a 503", async () => {
    graph.queueFault({
      endpoint: "graph",
      page: 2,
      fault: { kind: "status", status: 429, retryAfterSeconds: 1 },
    });
    graph.queueFault({ endpoint: "graph", page: 3, fault: { kind: "status", status: 503 } });
    const { records } = await readAll();
    expect(records.length).toBe(facts.everyoneEmails.length);
    const second = graphRequests().filter((request) => request.page === 2);
    expect(second.map((request) => request.status)).toEqual([429, 200]);
    expect((second[1]?.at ?? 0) - (second[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(
      graphRequests()
        .filter((request) => request.page === 3)
        .map((request) => request.status),
    ).toEqual([503, 200]);
  });

  it("gets a fresh token when the token expires mid-paging, and carries on", async () => {
    graph.queueFault({ endpoint: "graph", page: 3, fault: { kind: "expire-token" } });
    const { records } = await readAll();
    expect(records.length).toBe(facts.everyoneEmails.length);
    expect(graph.requests.filter((request) => request.endpoint === "token").length).toBe(2);
  });

  it("fails, without a partial result, on a 500 on page N", async () => {
    graph.queueFault({ endpoint: "graph", page: 3, fault: { kind: "status", status: 500 } });
    const pagesSeen: number[] = [];
    const error = await (async () => {
      for await (const page of source().read({ attributes: MAPPED, siteGroups: [] }))
        pagesSeen.push(page.length);
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).category).toBe("directory");
    expect((error as SyncError).message).toMatch(/HTTP 500/);
    expect(pagesSeen.length).toBe(2); // the caller saw two pages, then the failure: it must not upload
  });

  it("fails when throttling outlasts the retries", async () => {
    graph.queueFault({
      endpoint: "graph",
      fault: { kind: "status", status: 429, retryAfterSeconds: 0 },
      times: 10,
    });
    const error = (await readAll().catch((caught: unknown) => caught)) as SyncError;
    expect(error.message).toMatch(/HTTP 429/);
    expect(error.likelyCause).toMatch(/throttled/);
  });

  it("reports a 403 as the missing permission, with the fix", async () => {
    graph.setClient("aaaaaaaa-0000-4000-8000-000000000001", {
      secret: SECRET,
      roles: ["GroupMember.Read.All"],
    });
    const error = (await readAll({ clientId: "aaaaaaaa-0000-4000-8000-000000000001" }).catch(
      (caught: unknown) => caught,
    )) as SyncError;
    expect(error.category).toBe("directory");
    expect(error.message).toContain(USER_READ_ALL);
    expect(error.fix).toMatch(/Grant admin consent/);
    const checked = await source({ clientId: "aaaaaaaa-0000-4000-8000-000000000001" })
      .checkPermissions([])
      .catch((caught: unknown) => caught);
    expect((checked as SyncError).data?.missingPermissions).toEqual([USER_READ_ALL]);
  });

  it("describes a group: name, user members, non-user members, examples", async () => {
    const summary = await source().describeGroup(SAMPLE_GROUPS.allStaff, 3);
    expect(summary.name).toBe("All Staff");
    expect(summary.userCount).toBe(facts.allStaffEmails.length);
    expect(summary.otherCount).toBe(7); // 4 groups, a device, an app, a contact
    expect(summary.examples).toHaveLength(3);
  });

  it("says which setting names a group that does not exist", async () => {
    const error = (await readAll({ groups: ["00000000-dead-4000-8000-000000000000"] }).catch(
      (caught: unknown) => caught,
    )) as SyncError;
    expect(error.category).toBe("config");
    expect(error.fix).toMatch(/directory\.groups/);
  });

  it("never logs or reports a token", async () => {
    const log: string[] = [];
    graph.queueFault({ endpoint: "graph", page: 2, fault: { kind: "expire-token" } });
    await readAll({ log: (line) => log.push(line) });
    for (const token of tokensSeen) expect(log.join("\n")).not.toContain(token);
  });
});

describe("Entra credentials and queries", () => {
  it("reads a certificate file: SHA-256 thumbprint, PKCS#8 key, and the certificate for x5c", () => {
    const credential = readCertificateCredential(certificate.keyPem + certificate.certPem, "entra.pem");
    expect(credential.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
    const key = createPrivateKey(credential.privateKey);
    // The key as PKCS#8 PEM, the form msal takes.
    expect(credential.privateKey).toBe(key.export({ type: "pkcs8", format: "pem" }).toString());
    expect(new X509Certificate(credential.x5c ?? "").checkPrivateKey(key)).toBe(true);
  });

  it("refuses a file without a key, an encrypted key, and a key of another certificate, saying how to fix it", () => {
    const attempt = (pem: string) => {
      try {
        readCertificateCredential(pem, "entra.pem");
      } catch (error) {
        return error as SyncError;
      }
      throw new Error("expected a refusal");
    };
    expect(attempt(certificate.certPem).fix).toMatch(/cat entra.crt entra.key/);
    const encrypted = createPrivateKey(certificate.keyPem)
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret-passphrase" })
      .toString();
    const refusal = attempt(certificate.certPem + encrypted);
    expect(refusal.category).toBe("config");
    expect(refusal.likelyCause).toMatch(/encrypted/);
    const other = createClientCertificate(dir, "other-key");
    expect(attempt(certificate.certPem + other.keyPem).message).toMatch(/does not belong/);
  });

  it("selects the mapped properties in Graph's spelling, plus id, accountEnabled and userType, once each", () => {
    expect(
      graphSelectFor(["givenname", "mail", "businessphones", "GIVENNAME", "extensionAttribute1"]),
    ).toEqual([
      "id",
      "accountEnabled",
      "userType",
      "givenName",
      "mail",
      "businessPhones",
      "extensionAttribute1",
    ]);
  });
});
