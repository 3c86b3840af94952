import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/core/config/parse.ts";

const minimal = `
ilobby:
  clientId: my-client-id
directory:
  url: ldaps://dc1.corp.example.com
  bindDn: svc-ilobby@corp.example.com
  searchBases:
    - base: OU=Users,DC=corp,DC=example,DC=com
`;

function problems(text: string) {
  const result = parseConfigText(text);
  if (result.ok) throw new Error("expected problems");
  return result.problems;
}

describe("parseConfigText", () => {
  it("applies the documented defaults", () => {
    const result = parseConfigText(minimal);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.ilobby).toMatchObject({
      baseUrl: "https://partnerapi.goilobby.com",
      tokenPath: "/auth/connect/token",
      uploadPath: "/addressbook/uploadcsv",
    });
    expect(config.directory).toMatchObject({
      url: ["ldaps://dc1.corp.example.com"],
      startTls: false,
      nestedGroups: true,
      includeDisabled: false,
      pageSize: 500,
      timeoutSeconds: 120,
      groups: [],
    });
    expect(config.mapping.EMAIL).toEqual(["mail", "userPrincipalName"]);
    expect(config.mapping.SITE).toBe("physicalDeliveryOfficeName");
    expect(config.safety).toEqual({ maxDisable: "10%", ignoreUpTo: 5, planMaxAge: "24h" });
  });

  it("accepts a list of URLs, a DN shorthand for a base, and the issue's full example mapping", () => {
    const result = parseConfigText(`
ilobby: { clientId: x }
directory:
  url: [ldaps://dc1.corp.example.com, ldaps://dc2.corp.example.com:3269]
  bindDn: CORP\\svc
  searchBases: ["OU=A,DC=corp,DC=example,DC=com", { base: "OU=B,DC=corp,DC=example,DC=com", site: Toronto }]
mapping:
  TITLE: { value: Employee }
  SITE:
    attribute: physicalDeliveryOfficeName
    map: { "TOR-*": Toronto, "MTL-*": Montreal }
    default: Toronto
sites: [Toronto, Montreal]
`);
    expect(result.ok).toBe(true);
    if (!result.ok || result.config.directory.type !== "ldap") return;
    expect(result.config.directory.url).toHaveLength(2);
    expect(result.config.directory.searchBases[0]).toEqual({
      base: "OU=A,DC=corp,DC=example,DC=com",
      site: undefined,
    });
    expect(result.config.mapping.TITLE).toEqual({ value: "Employee" });
    expect(result.config.mapping.FIRSTNAME).toBe("givenName");
  });

  it("rejects an unknown key with its path, its line and a suggestion", () => {
    const found = problems(minimal.replace("  bindDn:", "  bindDN:"));
    expect(found).toContainEqual(
      expect.objectContaining({
        path: "directory.bindDN",
        line: 6,
        message: expect.stringContaining('did you mean "bindDn"'),
      }),
    );
  });

  it("names missing keys and wrong types with their paths", () => {
    const found = problems(`
ilobby: { clientId: x }
directory:
  url: http://dc1
  searchBases: []
  pageSize: 5000
`);
    const paths = found.map((problem) => problem.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "directory.url",
        "directory.bindDn",
        "directory.searchBases",
        "directory.pageSize",
      ]),
    );
    expect(found.find((problem) => problem.path === "directory.url")?.message).toMatch(/ldaps:\/\//);
  });

  it("says what type a key needs when the value has the wrong one", () => {
    expect(problems("- a\n")).toEqual([
      expect.objectContaining({ path: "", message: "must be a mapping of keys, not a list" }),
    ]);
    const found = problems(
      minimal.replace(
        "  url: ldaps://dc1.corp.example.com",
        '  url: ldaps://dc1.corp.example.com\n  pageSize: "lots"',
      ),
    );
    expect(found).toEqual([
      expect.objectContaining({
        path: "directory.pageSize",
        line: 6,
        message: 'must be a number, not text ("lots")',
      }),
    ]);
  });

  it("refuses secrets in the file and points to `secret set`", () => {
    const found = problems(
      minimal.replace("  clientId: my-client-id", "  clientId: my-client-id\n  clientSecret: hunter22"),
    );
    expect(found).toEqual([
      expect.objectContaining({
        path: "ilobby.clientSecret",
        line: 4,
        message: expect.stringContaining("secret set"),
      }),
    ]);
    expect(JSON.stringify(found)).not.toContain("hunter22");
  });

  it("reports YAML syntax errors with a line", () => {
    const found = problems("ilobby:\n  clientId: [unclosed\n");
    expect(found[0]?.message).toMatch(/YAML syntax error/);
    expect(found[0]?.line).toBeGreaterThan(0);
  });

  it("requires http(s) URLs to be https", () => {
    const found = problems(
      minimal.replace("  clientId: my-client-id", "  clientId: a\n  baseUrl: http://partnerapi.goilobby.com"),
    );
    expect(found[0]).toMatchObject({ path: "ilobby.baseUrl", message: expect.stringContaining("https://") });
  });

  it("validates targets against sites and requires a clientId per target", () => {
    const found = problems(`
directory: { url: ldaps://dc1, bindDn: svc, searchBases: [DC=x] }
sites: [Toronto, Montreal]
targets:
  - { name: tor, clientId: a, sites: [Toronto] }
  - { name: tor, clientId: b, sites: [Montréal] }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "targets[1].name" }),
        expect.objectContaining({
          path: "targets[1].sites[0]",
          message: expect.stringContaining("Montréal"),
        }),
      ]),
    );
    expect(problems("directory: { url: ldaps://dc1, bindDn: svc, searchBases: [DC=x] }\n")).toContainEqual(
      expect.objectContaining({ path: "ilobby.clientId" }),
    );
  });

  it("accepts counts and percentages for safety.maxDisable and nothing else", () => {
    expect(parseConfigText(`${minimal}safety: { maxDisable: 25 }\n`).ok).toBe(true);
    expect(parseConfigText(`${minimal}safety: { maxDisable: "15%" }\n`).ok).toBe(true);
    expect(problems(`${minimal}safety: { maxDisable: lots }\n`)[0]?.path).toBe("safety.maxDisable");
  });
});
