import { describe, expect, it } from "vitest";
import {
  buildGroupMemberFilter,
  buildUserFilter,
  extraFilterProblem,
  parseExtraFilter,
} from "../../src/adapters/ldap/ldap-filter.ts";

const text = (options: Parameters<typeof buildUserFilter>[0]) => buildUserFilter(options).toString();

describe("buildUserFilter", () => {
  it("selects enabled people only, excluding computers and contacts", () => {
    expect(text({ groups: [], nestedGroups: true, includeDisabled: false })).toBe(
      "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
    );
  });

  it("can include disabled accounts", () => {
    expect(text({ groups: [], nestedGroups: true, includeDisabled: true })).toBe(
      "(&(objectCategory=person)(objectClass=user))",
    );
  });

  it("uses the in-chain rule for nested groups and plain memberOf otherwise, escaping the DNs (RFC 4515)", () => {
    const groups = ["CN=Hosts,OU=Groups,DC=corp", "CN=Lee\\, Jr. Team (B)*,DC=corp"];
    expect(text({ groups, nestedGroups: true, includeDisabled: true })).toBe(
      "(&(objectCategory=person)(objectClass=user)(|(memberOf:1.2.840.113556.1.4.1941:=CN=Hosts,OU=Groups,DC=corp)(memberOf:1.2.840.113556.1.4.1941:=CN=Lee\\5c, Jr. Team \\28B\\29\\2a,DC=corp)))",
    );
    expect(text({ groups: groups.slice(0, 1), nestedGroups: false, includeDisabled: true })).toBe(
      "(&(objectCategory=person)(objectClass=user)(memberOf=CN=Hosts,OU=Groups,DC=corp))",
    );
  });

  it("keeps Unicode as it is", () => {
    expect(
      text({ groups: ["CN=Jérôme Côté,DC=corp"], nestedGroups: false, includeDisabled: true }),
    ).toContain("(memberOf=CN=Jérôme Côté,DC=corp)");
  });

  it("ANDs the extra filter, adding parentheses when missing", () => {
    expect(text({ groups: [], nestedGroups: true, includeDisabled: true, filter: "title=*" })).toBe(
      "(&(objectCategory=person)(objectClass=user)(title=*))",
    );
  });

  it("narrows the user filter to a group's members", () => {
    const users = buildUserFilter({ groups: [], nestedGroups: true, includeDisabled: true });
    expect(buildGroupMemberFilter(users, "CN=Hosts,DC=corp", true).toString()).toBe(
      "(&(&(objectCategory=person)(objectClass=user))(memberOf:1.2.840.113556.1.4.1941:=CN=Hosts,DC=corp))",
    );
  });
});

describe("the extra directory.filter", () => {
  it("rejects unbalanced and malformed filters with the reason", () => {
    expect(() => parseExtraFilter("(|(a=1)(b=2)")).toThrow(/unbalanced/);
    expect(() => parseExtraFilter("a=1)(")).toThrow(/closing/);
    expect(() => parseExtraFilter("(a=1)(b=2)")).toThrow(/not a valid LDAP filter/);
    expect(() => parseExtraFilter("(nonsense)")).toThrow(/not a valid LDAP filter/);
    expect(parseExtraFilter("(cn=a\\29b)").toString()).toBe("(cn=a\\29b)");
  });

  it("says how to write it", () => {
    expect(extraFilterProblem("(title=*)")).toBeUndefined();
    expect(extraFilterProblem("(&(title=*)")).toMatch(/unbalanced parentheses; write it in RFC 4515 syntax/);
  });
});
