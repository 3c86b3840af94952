/**
 * Builds the LDAP filter that selects the people to sync. Pure, so `--dry-run --verbose` can show administrators
 * exactly what is sent to their domain controllers.
 */

/** AD's matching rule OIDs. */
const BITWISE_AND = "1.2.840.113556.1.4.803";
const IN_CHAIN = "1.2.840.113556.1.4.1941";
/** userAccountControl bit 2 = ACCOUNTDISABLE. */
const ACCOUNT_DISABLED = 2;

export interface UserFilterOptions {
  groups: readonly string[];
  nestedGroups: boolean;
  includeDisabled: boolean;
  filter?: string | undefined;
}

/** Escapes a value for use inside a filter, as RFC 4515 section 3 requires. */
export function escapeFilterValue(value: string): string {
  return value.replace(
    /[\\*()\0]/g,
    (character) => `\\${character.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Wraps a bare `attr=value` in parentheses and rejects unbalanced input early, with a readable reason. */
export function normalizeExtraFilter(filter: string): string {
  const trimmed = filter.trim();
  let depth = 0;
  for (let index = 0; index < trimmed.length; index++) {
    const character = trimmed[index];
    if (character === "\\") {
      index += 2; // an escaped byte (\28) is data, not structure
      continue;
    }
    if (character === "(") depth++;
    if (character === ")") depth--;
    if (depth < 0) throw new Error("has a closing parenthesis without an opening one");
  }
  if (depth !== 0) throw new Error("has unbalanced parentheses");
  return trimmed.startsWith("(") ? trimmed : `(${trimmed})`;
}

export function buildUserFilter(options: UserFilterOptions): string {
  // objectCategory=person excludes computers (which are objectClass=user too); objectClass=user excludes contacts.
  const parts = ["(objectCategory=person)", "(objectClass=user)"];
  if (!options.includeDisabled) {
    parts.push(`(!(userAccountControl:${BITWISE_AND}:=${ACCOUNT_DISABLED}))`);
  }
  if (options.groups.length > 0) {
    const attribute = options.nestedGroups ? `memberOf:${IN_CHAIN}:` : "memberOf";
    const memberships = options.groups.map((group) => `(${attribute}=${escapeFilterValue(group)})`);
    parts.push(memberships.length === 1 ? (memberships[0] as string) : `(|${memberships.join("")})`);
  }
  if (options.filter) parts.push(normalizeExtraFilter(options.filter));
  return `(&${parts.join("")})`;
}

/** Members of one group (optionally through nested groups), for site-by-group rules. */
export function buildGroupMemberFilter(groupDn: string, nested: boolean): string {
  const attribute = nested ? `memberOf:${IN_CHAIN}:` : "memberOf";
  return `(${attribute}=${escapeFilterValue(groupDn)})`;
}
