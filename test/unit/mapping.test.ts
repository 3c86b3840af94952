import { describe, expect, it } from "vitest";
import { DEFAULT_MAPPING } from "../../src/core/config/defaults.ts";
import type { ColumnRuleInput, MappingConfig } from "../../src/core/config/schema.ts";
import { attributesNeeded, type MappingOptions, mapRecords } from "../../src/core/mapping.ts";
import type { SourceRecord } from "../../src/core/source-record.ts";

const defaultMapping: MappingConfig = DEFAULT_MAPPING;

function person(cn: string, attributes: Record<string, string>, site?: string): SourceRecord {
  return {
    ref: `CN=${cn},OU=Users,DC=corp,DC=example,DC=test`,
    attributes: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name.toLowerCase(), [value]]),
    ),
    ...(site ? { site } : {}),
  };
}

function options(overrides: Partial<MappingOptions> & { SITE?: ColumnRuleInput } = {}): MappingOptions {
  const { SITE, ...rest } = overrides;
  return {
    mapping: { ...defaultMapping, ...(SITE ? { SITE } : {}) },
    ...rest,
  };
}

describe("mapRecords", () => {
  it("maps attributes to columns, trims values and keeps accents", () => {
    const result = mapRecords(
      [
        person("Jérôme Côté", {
          givenName: " Jérôme ",
          sn: "Côté",
          title: " Manager ",
          mail: "jerome.cote@example.test",
        }),
      ],
      options(),
    );
    expect(result.records[0]?.row).toEqual({
      FIRSTNAME: "Jérôme",
      LASTNAME: "Côté",
      TITLE: "Manager",
      DIVISION: "",
      EMAIL: "jerome.cote@example.test",
      MOBILE: "",
      DESKPHONE: "",
      SITE: "",
    });
  });

  it("falls back to userPrincipalName when mail is empty, and skips people with neither", () => {
    const result = mapRecords(
      [person("A", { userPrincipalName: "a@corp.example.test" }), person("B", { givenName: "B" })],
      options(),
    );
    expect(result.records.map((record) => record.row.EMAIL)).toEqual(["a@corp.example.test"]);
    expect(result.skipped).toEqual([
      expect.objectContaining({ reason: "no-email", ref: expect.stringContaining("CN=B") }),
    ]);
  });

  it("skips malformed email addresses", () => {
    const result = mapRecords([person("A", { mail: "not an address" })], options());
    expect(result.skipped[0]?.reason).toBe("invalid-email");
  });

  it("keeps one record per email (case-insensitive): the DN that sorts first, whatever the input order", () => {
    const entries = [
      person("Zed", { mail: "Same@Example.test" }),
      person("Amy", { mail: "same@example.test" }),
    ];
    for (const order of [entries, [...entries].reverse()]) {
      const result = mapRecords(order, options());
      expect(result.records.map((record) => record.ref)).toEqual([
        "CN=Amy,OU=Users,DC=corp,DC=example,DC=test",
      ]);
      expect(result.skipped).toEqual([
        expect.objectContaining({ reason: "duplicate-email", ref: expect.stringContaining("CN=Zed") }),
      ]);
    }
  });

  it("takes the SITE the source placed a record in before groups and the mapping", () => {
    const result = mapRecords(
      [
        {
          ...person("A", { mail: "a@example.test", physicalDeliveryOfficeName: "Vancouver" }, "Toronto"),
          groups: ["CN=Montreal Staff,DC=corp"],
        },
      ],
      options({ siteGroups: { "CN=Montreal Staff,DC=corp": "Montreal" } }),
    );
    expect(result.records[0]).toMatchObject({ row: { SITE: "Toronto" }, siteSource: "base" });
  });

  it("translates SITE with glob keys, falls back to the default, and keeps unmatched values", () => {
    const SITE = {
      attribute: "physicalDeliveryOfficeName",
      map: { "TOR-*": "Toronto", "mtl-*": "Montreal" },
      default: "Toronto",
    };
    const result = mapRecords(
      [
        person("A", { mail: "a@example.test", physicalDeliveryOfficeName: "TOR-3F" }),
        person("B", { mail: "b@example.test", physicalDeliveryOfficeName: "MTL-1" }),
        person("C", { mail: "c@example.test" }),
        person("D", { mail: "d@example.test", physicalDeliveryOfficeName: "Remote" }),
      ],
      options({ SITE }),
    );
    expect(result.records.map((record) => [record.row.SITE, record.siteSource])).toEqual([
      ["Toronto", "attribute"],
      ["Montreal", "attribute"],
      ["Toronto", "default"],
      ["Remote", "attribute"],
    ]);
  });

  it("takes SITE from site groups after bases and before the attribute", () => {
    const result = mapRecords(
      [
        {
          ...person("A", { mail: "a@example.test", physicalDeliveryOfficeName: "Vancouver" }),
          groups: ["cn=toronto staff,dc=corp"],
        },
        person("B", { mail: "b@example.test", physicalDeliveryOfficeName: "Vancouver" }),
      ],
      options({ siteGroups: { "CN=Toronto Staff,DC=corp": "Toronto" } }),
    );
    expect(result.records.map((record) => [record.row.SITE, record.siteSource])).toEqual([
      ["Toronto", "group"],
      ["Vancouver", "attribute"],
    ]);
  });

  it("leaves out records whose SITE is unknown or missing when `sites` is set, with a did-you-mean hint", () => {
    const result = mapRecords(
      [
        person("A", { mail: "a@example.test", physicalDeliveryOfficeName: "Montréal" }),
        person("B", { mail: "b@example.test" }),
        person("C", { mail: "c@example.test", physicalDeliveryOfficeName: "Toronto" }),
      ],
      options({ sites: ["Toronto", "Montreal"] }),
    );
    expect(result.records.map((record) => record.row.EMAIL)).toEqual(["c@example.test"]);
    expect(result.skipped.map((skip) => skip.reason)).toEqual(["unknown-site", "missing-site"]);
    expect(result.skipped[0]?.message).toContain('did you mean "Montreal"');
  });

  it("supports fixed values and warns about names over 50 characters", () => {
    const long = "A".repeat(51);
    const result = mapRecords(
      [person("A", { mail: "a@example.test", givenName: long })],
      options({ mapping: { ...defaultMapping, TITLE: { value: "Employee" } } }),
    );
    expect(result.records[0]?.row.TITLE).toBe("Employee");
    expect(result.warnings[0]?.message).toMatch(/longer than 50/);
  });

  it("sorts records by email", () => {
    const result = mapRecords(
      [
        person("B", { mail: "b@example.test" }),
        person("A", { mail: "A@example.test" }),
        person("C", { mail: "c@example.test" }),
      ],
      options(),
    );
    expect(result.records.map((record) => record.row.EMAIL)).toEqual([
      "A@example.test",
      "b@example.test",
      "c@example.test",
    ]);
  });
});

describe("attributesNeeded", () => {
  it("requests only the attributes the mapping reads", () => {
    expect(
      attributesNeeded({ ...defaultMapping, TITLE: { value: "x" }, SITE: { attribute: ["l", "co"] } }),
    ).toEqual([
      "co",
      "department",
      "givenname",
      "l",
      "mail",
      "mobile",
      "sn",
      "telephonenumber",
      "userprincipalname",
    ]);
  });
});

describe("mapRecords: the CSV rules on rows made from the directory", () => {
  it("removes control characters and reports each removal; the record is kept", () => {
    const result = mapRecords(
      [person("Ann", { givenName: "\u001b]0;pwned\u0007Ann", sn: "Lee\u0000", mail: "ann@example.test" })],
      options(),
    );
    expect(result.records[0]?.row).toMatchObject({ FIRSTNAME: "]0;pwnedAnn", LASTNAME: "Lee" });
    expect(result.warnings.map((warning) => warning.message)).toEqual([
      "FIRSTNAME had the control character U+001B (ESC), removed",
      "LASTNAME had the control character U+0000 (NUL), removed",
    ]);
  });

  it("skips a record with a field over 1,000 characters or an EMAIL over its limits, and says why", () => {
    const result = mapRecords(
      [
        person("Long Title", { givenName: "Bo", title: "t".repeat(1001), mail: "bo@example.test" }),
        person("Long Local", { givenName: "Cy", mail: `${"c".repeat(65)}@example.test` }),
        person("Fine", { givenName: "Di", title: "t".repeat(1000), mail: "di@example.test" }),
      ],
      options(),
    );
    expect(result.records.map((record) => record.row.EMAIL)).toEqual(["di@example.test"]);
    expect(result.skipped.map((skipped) => [skipped.reason, skipped.message])).toEqual([
      ["invalid-email", expect.stringMatching(/^EMAIL the part before @ is 65 characters long/)],
      ["field-too-long", "TITLE is 1001 characters long; iLobby fields hold at most 1000"],
    ]);
  });
});
