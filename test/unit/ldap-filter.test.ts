import { describe, expect, it } from "vitest";
import { buildUserFilter, escapeFilterValue, normalizeExtraFilter } from "../../src/core/ldap-filter.ts";

describe("escapeFilterValue (RFC 4515)", () => {
  it("escapes the five special characters and keeps Unicode", () => {
    expect(escapeFilterValue("CN=Lee\\, Jr.,OU=A (B)*\0")).toBe("CN=Lee\\5c, Jr.,OU=A \\28B\\29\\2a\\00");
    expect(escapeFilterValue("CN=Jérôme Côté")).toBe("CN=Jérôme Côté");
  });
});

describe("buildUserFilter", () => {
  it("selects enabled people only, excluding computers and contacts", () => {
    expect(buildUserFilter({ groups: [], nestedGroups: true, includeDisabled: false })).toBe(
      "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
    );
  });

  it("can include disabled accounts", () => {
    expect(buildUserFilter({ groups: [], nestedGroups: true, includeDisabled: true })).toBe(
      "(&(objectCategory=person)(objectClass=user))",
    );
  });

  it("uses the in-chain rule for nested groups and plain memberOf otherwise", () => {
    const groups = ["CN=Hosts,OU=Groups,DC=corp", "CN=Lee\\, Jr. Team,DC=corp"];
    expect(buildUserFilter({ groups, nestedGroups: true, includeDisabled: true })).toBe(
      "(&(objectCategory=person)(objectClass=user)(|(memberOf:1.2.840.113556.1.4.1941:=CN=Hosts,OU=Groups,DC=corp)(memberOf:1.2.840.113556.1.4.1941:=CN=Lee\\5c, Jr. Team,DC=corp)))",
    );
    expect(buildUserFilter({ groups: groups.slice(0, 1), nestedGroups: false, includeDisabled: true })).toBe(
      "(&(objectCategory=person)(objectClass=user)(memberOf=CN=Hosts,OU=Groups,DC=corp))",
    );
  });

  it("ANDs the extra filter, adding parentheses when missing", () => {
    expect(
      buildUserFilter({ groups: [], nestedGroups: true, includeDisabled: true, filter: "title=*" }),
    ).toBe("(&(objectCategory=person)(objectClass=user)(title=*))");
  });

  it("rejects unbalanced extra filters", () => {
    expect(() => normalizeExtraFilter("(|(a=1)(b=2)")).toThrow(/unbalanced/);
    expect(() => normalizeExtraFilter("a=1)(")).toThrow(/closing/);
    expect(normalizeExtraFilter("(cn=a\\29b)")).toBe("(cn=a\\29b)");
  });
});
