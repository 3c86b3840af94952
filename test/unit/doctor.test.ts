/** The pure parts of `doctor` and `init`: judging TLS and coverage, the proxy decision, exit codes, the template. */
import { describe, expect, it } from "vitest";
import { draftConfig } from "../../src/app/init.ts";
import { type CheckResult, checksExitCode, failed, passed, skipped } from "../../src/core/checks.ts";
import { parseConfigText } from "../../src/core/config/parse.ts";
import { type ConfigAnswers, renderConfigTemplate } from "../../src/core/config/template.ts";
import { assessCoverage, assessTls, attributeCoverage, type TlsFacts } from "../../src/core/doctor.ts";
import { SyncError } from "../../src/core/errors.ts";
import { noProxyMatch, proxyFor, withoutPassword } from "../../src/core/proxy.ts";
import type { SourceRecord } from "../../src/core/source-record.ts";

const NOW = Date.parse("2026-03-01T00:00:00Z");
const DAY = 86_400_000;

function facts(validTo: number, extra: Partial<TlsFacts> = {}): TlsFacts {
  return {
    protocol: "TLSv1.3",
    chain: [
      {
        subject: "CN=dc1.corp.example.com",
        issuer: "CN=Corp Root CA",
        validFrom: new Date(NOW - 300 * DAY).toISOString(),
        validTo: new Date(validTo).toISOString(),
        subjectAltNames: "DNS:dc1.corp.example.com",
      },
      {
        subject: "CN=Corp Root CA",
        issuer: "CN=Corp Root CA",
        validFrom: new Date(NOW - 900 * DAY).toISOString(),
        validTo: new Date(NOW + 900 * DAY).toISOString(),
      },
    ],
    ...extra,
  };
}

describe("assessTls", () => {
  const assess = (value: TlsFacts) => assessTls("tls:x", "TLS x", value, NOW, "renew it");

  it("passes a trusted, matching certificate and reports protocol, issuer and days left", () => {
    const check = assess(facts(NOW + 200 * DAY + 3600_000));
    expect(check).toMatchObject({
      status: "pass",
      summary:
        "TLSv1.3, certificate trusted and matching the host name, issued by CN=Corp Root CA, expires in 200 days",
    });
    expect(check.details).toEqual([
      `certificate CN=dc1.corp.example.com, valid until ${new Date(NOW + 200 * DAY + 3600_000).toISOString()} (names: DNS:dc1.corp.example.com)`,
      `issued by   CN=Corp Root CA, valid until ${new Date(NOW + 900 * DAY).toISOString()}`,
    ]);
  });

  it("warns under 30 days, with the renewal advice", () => {
    expect(assess(facts(NOW + 29 * DAY + 3600_000))).toMatchObject({ status: "warn", fix: "renew it" });
    expect(assess(facts(NOW + 30 * DAY + 3600_000)).status).toBe("pass");
  });

  it("fails on trust first, and still mentions a host-name problem", () => {
    const trust = new SyncError("directory", "not trusted", { fix: "set directory.caFile" });
    const name = new SyncError("directory", "does not match the host name");
    const check = assess(facts(NOW + 100 * DAY, { trustProblem: trust, hostnameProblem: name }));
    expect(check).toMatchObject({
      status: "fail",
      summary: "not trusted",
      fix: "set directory.caFile",
      category: "directory",
    });
    expect(check.details.at(-1)).toBe("also: does not match the host name");
  });
});

describe("checksExitCode", () => {
  const config = failed("config", "config", new SyncError("config", "bad"));
  const bind = failed("bind", "bind", new SyncError("directory", "refused"));
  it("is 0 with warnings and skips, else the first failure's category", () => {
    expect(checksExitCode([passed("a", "a", "ok"), skipped("b", "b", "why")])).toBe(0);
    expect(checksExitCode([passed("a", "a", "ok"), bind, config])).toBe(4);
    expect(checksExitCode([config, bind])).toBe(2);
    expect(checksExitCode([failed("x", "x", new Error("bug"))])).toBe(1);
  });
});

describe("proxyFor", () => {
  const api = "https://partnerapi.goilobby.com";
  it("prefers ilobby.proxy, then https_proxy/HTTPS_PROXY, then http_proxy/HTTP_PROXY", () => {
    expect(proxyFor(api, "http://p:3128", { HTTPS_PROXY: "http://q:8080" })).toEqual({
      kind: "config",
      url: "http://p:3128",
    });
    expect(proxyFor(api, undefined, { HTTP_PROXY: "http://h:1", HTTPS_PROXY: "http://s:2" })).toEqual({
      kind: "environment",
      url: "http://s:2",
      variable: "HTTPS_PROXY",
    });
    expect(proxyFor(api, undefined, { HTTP_PROXY: "http://h:1" })).toMatchObject({ variable: "HTTP_PROXY" });
    expect(proxyFor(api, undefined, {})).toEqual({ kind: "none" });
  });

  it("treats an empty variable as unset, and uses only http_proxy/HTTP_PROXY for http://", () => {
    expect(proxyFor(api, undefined, { https_proxy: "", HTTPS_PROXY: "http://s:2" })).toMatchObject({
      variable: "HTTPS_PROXY",
    });
    expect(
      proxyFor(api, undefined, { HTTPS_PROXY: "http://s:2", no_proxy: "", NO_PROXY: "goilobby.com" }),
    ).toMatchObject({ kind: "bypassed", noProxyEntry: "goilobby.com" });
    const hook = "http://hooks.example.test/ping";
    expect(proxyFor(hook, undefined, { HTTPS_PROXY: "http://s:2" })).toEqual({ kind: "none" });
    expect(proxyFor(hook, undefined, { HTTP_PROXY: "http://h:1" })).toMatchObject({ variable: "HTTP_PROXY" });
  });

  it("honours NO_PROXY as undici does: suffixes, *. wildcards (not the apex), ports, *", () => {
    const url = new URL(api);
    expect(noProxyMatch("goilobby.com", url)).toBe("goilobby.com");
    expect(noProxyMatch(".goilobby.com", url)).toBe(".goilobby.com");
    expect(noProxyMatch("*.goilobby.com", new URL("https://goilobby.com"))).toBeUndefined();
    expect(noProxyMatch("partnerapi.goilobby.com:8443", url)).toBeUndefined();
    expect(noProxyMatch("partnerapi.goilobby.com:443", url)).toBe("partnerapi.goilobby.com:443");
    expect(noProxyMatch("localhost, *", url)).toBe("*");
    expect(noProxyMatch("ilobby.com", url)).toBeUndefined();
    expect(proxyFor(api, undefined, { HTTPS_PROXY: "http://s:2", NO_PROXY: "goilobby.com" })).toMatchObject({
      kind: "bypassed",
      noProxyEntry: "goilobby.com",
    });
  });

  it("prints a proxy URL without its password", () => {
    expect(withoutPassword("http://sync:s3cret@proxy:3128")).toBe("http://sync:[REDACTED]@proxy:3128/");
    expect(withoutPassword("http://proxy:3128")).toBe("http://proxy:3128/");
  });
});

const answers: ConfigAnswers = {
  urls: ["ldaps://dc1.corp.example.com", "ldaps://dc2.corp.example.com:3269"],
  bindDn: "CORP\\svc-ilobby",
  caFile: "./corp-root-ca.pem",
  startTls: false,
  bases: ["OU=Staff,DC=corp,DC=example,DC=com", "OU=Room #1,DC=corp,DC=example,DC=com"],
  groups: ["CN=iLobby Hosts,OU=Groups,DC=corp,DC=example,DC=com"],
  clientId: "yes",
  sites: ["Toronto", "Montréal"],
};

describe("the config init writes", () => {
  it("passes the tool's own validation and says what each answer became", () => {
    const text = renderConfigTemplate(answers, "./schema/ilobby-sync.schema.json");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=./schema/ilobby-sync.schema.json");
    const result = parseConfigText(text);
    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    expect(result.config.directory).toMatchObject({
      url: answers.urls,
      bindDn: "CORP\\svc-ilobby",
      caFile: "./corp-root-ca.pem",
      startTls: false,
      searchBases: answers.bases.map((base) => ({ base })),
      groups: answers.groups,
      pageSize: 500,
    });
    // A client id that YAML would read as a boolean stays a string.
    expect(result.config.ilobby).toMatchObject({
      clientId: "yes",
      baseUrl: "https://partnerapi.goilobby.com",
    });
    expect(result.config.sites).toEqual(["Toronto", "Montréal"]);
  });

  it("is valid with only the required answers, and comments every optional key", () => {
    const minimal: ConfigAnswers = { ...answers, caFile: undefined, groups: [], sites: [] };
    const text = renderConfigTemplate(minimal, "x");
    expect(parseConfigText(text).ok).toBe(true);
    for (const key of ["# caFile:", "# proxy:", "# filter:", "# sites:", "# stateDir:", "groups: []"])
      expect(text).toContain(key);
  });

  it("draftConfig reports an answer that is not valid by its key", () => {
    expect(() => draftConfig({ ...answers, urls: ["http://dc1"] })).toThrow(
      /directory\.url\[0\]: must be an ldaps:\/\/ URL/,
    );
  });
});

function entry(cn: string, attributes: Record<string, string>): SourceRecord {
  return {
    ref: `CN=${cn},OU=Staff,DC=corp,DC=example,DC=com`,
    attributes: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name.toLowerCase(), [value]]),
    ),
  };
}

describe("attribute coverage", () => {
  const config = draftConfig({
    ...answers,
    groups: [],
    bases: [answers.bases[0] as string],
    sites: ["Toronto"],
  });
  const people = [
    entry("Ann", {
      givenName: "Ann",
      mail: "ann@example.com",
      physicalDeliveryOfficeName: "Toronto",
      mobile: "1",
    }),
    entry("Bob", {
      givenName: "Bob",
      mail: "bob@example.com",
      physicalDeliveryOfficeName: "TOR-3F",
      telephoneNumber: "2",
    }),
    entry("Cy", { givenName: "Cy", physicalDeliveryOfficeName: "Toronto" }),
    entry("Di", { givenName: "Di", mail: "ANN@example.com", physicalDeliveryOfficeName: "Toronto" }),
    entry("Ed", { givenName: "Ed", mail: "ed@example.com" }),
  ];

  it("counts what is missing and lists SITE values outside `sites`", () => {
    expect(attributeCoverage(config, people)).toEqual({
      users: 5,
      withoutEmail: 1,
      duplicateEmails: 1,
      withEmail: 3,
      withoutSite: 1,
      withoutMobile: 2,
      withoutDeskphone: 2,
      sitesOutside: [{ site: "TOR-3F", users: 1 }],
      uploadable: 1,
    });
  });

  it("warns with the fixes, and fails when a run would upload nothing", () => {
    const check: CheckResult = assessCoverage(
      "coverage",
      "coverage",
      config,
      attributeCoverage(config, people),
    );
    expect(check).toMatchObject({
      status: "warn",
      summary:
        "1 of 5 users would be uploaded (1 without EMAIL, 1 with a duplicate EMAIL, 1 without SITE, 1 with a SITE outside `sites`)",
    });
    expect(check.fix).toContain("mapping.SITE.map");
    const nobody = assessCoverage(
      "coverage",
      "coverage",
      config,
      attributeCoverage(config, [people[2] as SourceRecord]),
    );
    expect(nobody).toMatchObject({ status: "fail", category: "guard" });
  });

  it("counts the phone numbers `phones` would rewrite and the invalid ones, and warns about those", () => {
    const withPhones = {
      ...config,
      phones: { format: "e164", defaultCountry: "CA", extensions: "drop", invalid: "drop" },
    } as const;
    const coverage = attributeCoverage(withPhones, people);
    // Ann's "1" is no number; Bob's "2" neither; nothing else has a number.
    expect(coverage.phones).toEqual({ numbers: 2, changed: 2, invalid: 2, fixedLineMobiles: 0 });
    const check = assessCoverage("coverage", "coverage", withPhones, coverage);
    expect(check.summary).toContain("2 invalid phone numbers");
    expect(check.details).toContain(
      "phone numbers (phones.format e164): 2 of 2 would be rewritten, 2 invalid, 0 MOBILE on a fixed line",
    );
    expect(attributeCoverage(config, people).phones).toBeUndefined();
  });
});
