import { describe, expect, it } from "vitest";
import { createBasePlacement, rdnsOf } from "../../src/adapters/ldap/base-placement.ts";
import { formatGuid } from "../../src/adapters/ldap/ldap-directory.ts";

describe("base placement", () => {
  const bases = [
    { base: "DC=corp,DC=example,DC=test", site: "Head Office" },
    { base: "OU=Toronto, OU=Offices,DC=corp,DC=example,DC=test", site: "Toronto" },
    { base: "OU=Offices,DC=corp,DC=example,DC=test", site: undefined },
  ];
  const placement = createBasePlacement(bases);
  const torontoPerson = "CN=Ann,OU=Toronto,OU=Offices,DC=corp,DC=example,DC=test";

  it("reads an object under overlapping bases once, under the first base in config order that holds it", () => {
    expect(placement.place(torontoPerson, 0)).toBeDefined();
    expect(placement.place(torontoPerson, 1)).toBeUndefined();
    expect(placement.place(torontoPerson, 2)).toBeUndefined();
  });

  it("gives it the SITE of the most specific base that names one, whichever search found it", () => {
    expect(placement.place(torontoPerson, 0)).toEqual({ site: "Toronto" });
    expect(placement.place("CN=Bo,OU=Montreal,OU=Offices,DC=corp,DC=example,DC=test", 0)).toEqual({
      site: "Head Office",
    });
  });

  it("compares DNs as LDAP does: case and spaces around separators do not matter, escaped commas do", () => {
    expect(rdnsOf("CN=Lee\\, Robert ,OU = Staff,DC=Corp")).toEqual([
      "cn=lee\\, robert",
      "ou=staff",
      "dc=corp",
    ]);
    const escaped = createBasePlacement([
      { base: "OU=A\\,B,DC=corp", site: "AB" },
      { base: "DC=corp", site: "Corp" },
    ]);
    expect(escaped.place("cn=x,ou=a\\,b,dc=CORP", 0)).toEqual({ site: "AB" });
    expect(escaped.place("cn=x,ou=a\\,b,dc=CORP", 1)).toBeUndefined();
  });

  it("keeps every object of disjoint bases without parsing DNs, with its base's SITE", () => {
    const disjoint = createBasePlacement([
      { base: "OU=Toronto,DC=corp", site: "Toronto" },
      { base: "OU=Montreal,DC=corp", site: undefined },
    ]);
    expect(disjoint.place("CN=A,OU=Toronto,DC=corp", 0)).toEqual({ site: "Toronto" });
    expect(disjoint.place("CN=B,OU=Montreal,DC=corp", 1)).toEqual({ site: undefined });
  });
});

describe("objectGUID", () => {
  it("is formatted as Windows shows it (the first three groups little-endian)", () => {
    const bytes = Buffer.from("78563412bc9af0de0123456789abcdef", "hex");
    expect(formatGuid(bytes)).toBe("12345678-9abc-def0-0123-456789abcdef");
    expect(formatGuid(Buffer.alloc(4))).toBeUndefined();
  });
});
