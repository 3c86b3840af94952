/** The Entra ID branch of `directory`, and `directory` as a list of sources: defaults, mappings, problems. */
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/core/config/parse.ts";
import { readRequestFor } from "../../src/core/plan.ts";
import { secretNamesFor } from "../../src/core/targets.ts";

const APP = "11111111-2222-3333-4444-555555555555";
const GROUP = "9f0c1e2d-1111-2222-3333-444455556666";

const entra = `
ilobby: { clientId: my-client-id }
directory:
  type: entra
  tenantId: contoso.onmicrosoft.com
  clientId: ${APP}
`;

const hybrid = `
ilobby: { clientId: my-client-id }
mapping: { TITLE: title }
siteGroups:
  "CN=Toronto Staff,OU=Groups,DC=corp,DC=example,DC=com": Toronto
  "${GROUP}": London
directory:
  - url: ldaps://dc1.corp.example.com
    bindDn: svc-ilobby@corp.example.com
    searchBases: [OU=Staff,DC=corp,DC=example,DC=com]
  - type: entra
    tenantId: contoso.onmicrosoft.com
    clientId: ${APP}
    mapping: { SITE: { value: Remote } }
`;

function parsed(text: string) {
  const result = parseConfigText(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function problems(text: string) {
  const result = parseConfigText(text);
  if (result.ok) throw new Error("expected problems");
  return result.problems;
}

describe("directory.type: entra", () => {
  it("applies the issue's defaults, the Entra default mapping and the entra-client-secret secret", () => {
    const config = parsed(entra);
    expect(config.directory).toEqual({
      type: "entra",
      tenantId: "contoso.onmicrosoft.com",
      clientId: APP,
      groups: [],
      includeDisabled: false,
      includeGuests: false,
      authorityUrl: "https://login.microsoftonline.com",
      graphUrl: "https://graph.microsoft.com",
      pageSize: 999,
      timeoutSeconds: 120,
    });
    expect(config.mapping).toEqual({
      FIRSTNAME: "givenName",
      LASTNAME: "surname",
      TITLE: "jobTitle",
      DIVISION: "department",
      EMAIL: ["mail", "userPrincipalName"],
      MOBILE: "mobilePhone",
      DESKPHONE: "businessPhones",
      SITE: "officeLocation",
    });
    expect(secretNamesFor(config)).toEqual(["client-secret", "entra-client-secret"]);
  });

  it("needs no secret with certificateFile", () => {
    const config = parsed(`${entra}  certificateFile: ./entra.pem\n`);
    expect(secretNamesFor(config)).toEqual(["client-secret"]);
  });

  it("refuses a client id or group that is not an object id, a page over 999 and a plain-HTTP Graph", () => {
    const found = problems(`
ilobby: { clientId: x }
directory:
  type: entra
  tenantId: contoso.onmicrosoft.com
  clientId: my-app
  groups: ["CN=Staff,DC=corp"]
  pageSize: 1000
  graphUrl: http://graph.example.test
`);
    expect(found.map((problem) => problem.path)).toEqual([
      "directory.clientId",
      "directory.groups[0]",
      "directory.pageSize",
      "directory.graphUrl",
    ]);
    expect(found[0]?.message).toMatch(/object id/);
  });

  it("suggests the key meant, and names entra-client-secret for a secret written in the block", () => {
    expect(problems(`${entra}  tenantID: x\n`)[0]?.message).toMatch(/did you mean "tenantId"/);
    expect(problems(`${entra}  clientSecret: s3cr3t-value\n`)[0]?.message).toMatch(
      /secret set entra-client-secret/,
    );
  });
});

describe("directory as a list of sources", () => {
  it("keeps each source's block and mapping: type defaults, then the top level, then the block's own", () => {
    const config = parsed(hybrid);
    expect(config.sources.map((source) => source.block.type)).toEqual(["ldap", "entra"]);
    const [ad, cloud] = config.sources;
    expect(ad?.mapping).toMatchObject({ LASTNAME: "sn", TITLE: "title", SITE: "physicalDeliveryOfficeName" });
    expect(cloud?.mapping).toMatchObject({ LASTNAME: "surname", TITLE: "title", SITE: { value: "Remote" } });
    // The first source is `directory`, as for a single block.
    expect(config.directory.type).toBe("ldap");
    expect(secretNamesFor(config)).toEqual(["client-secret", "bind-password", "entra-client-secret"]);
  });

  it("asks each source for its own attributes and its own site groups (DNs for LDAP, object ids for Entra)", () => {
    const config = parsed(hybrid);
    expect(readRequestFor(config, 0)).toMatchObject({
      siteGroups: ["CN=Toronto Staff,OU=Groups,DC=corp,DC=example,DC=com"],
    });
    expect(readRequestFor(config, 0).attributes).toContain("sn");
    expect(readRequestFor(config, 1)).toMatchObject({ siteGroups: [GROUP] });
    expect(readRequestFor(config, 1).attributes).toContain("surname");
    expect(readRequestFor(config, 1).attributes).not.toContain("officelocation");
  });

  it("reports a problem inside a listed block by its index, with suggestions", () => {
    const found = problems(hybrid.replace("    tenantId: contoso", "    tenantld: contoso"));
    expect(found.map((problem) => problem.path)).toContain("directory[1].tenantld");
    expect(found.find((problem) => problem.path === "directory[1].tenantld")?.message).toMatch(
      /did you mean "tenantId"/,
    );
    expect(problems(`ilobby: { clientId: x }\ndirectory: []\n`)[0]?.message).toMatch(/at least one source/);
  });
});
