/**
 * Builds the LDAP filter that selects the people to sync, with ldapts's own filter classes (which escape every
 * value), and checks the administrator's extra `directory.filter` with ldapts's parser. `--dry-run --verbose`
 * shows the result, so administrators see exactly what is sent to their domain controllers.
 */
import {
  AndFilter,
  EqualityFilter,
  ExtensibleFilter,
  type Filter,
  FilterParser,
  NotFilter,
  OrFilter,
} from "ldapts";
import { errorMessage } from "../../core/errors.ts";

/** AD's matching rule OIDs. */
const BITWISE_AND = "1.2.840.113556.1.4.803";
const IN_CHAIN = "1.2.840.113556.1.4.1941";
/** userAccountControl bit 2 = ACCOUNTDISABLE. */
const ACCOUNT_DISABLED = "2";

export interface UserFilterOptions {
  groups: readonly string[];
  nestedGroups: boolean;
  includeDisabled: boolean;
  filter?: string | undefined;
}

/**
 * The extra filter as ldapts will send it; a bare `attr=value` gets its parentheses. Throws an Error whose message
 * says what is wrong: ldapts's parser accepts a missing closing parenthesis at the end, so balance is checked first.
 */
export function parseExtraFilter(filter: string): Filter {
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
  try {
    return FilterParser.parseString(trimmed.startsWith("(") ? trimmed : `(${trimmed})`);
  } catch (error) {
    throw new Error(`is not a valid LDAP filter (${errorMessage(error)})`);
  }
}

/** Why `directory.filter` cannot be used, or undefined when it can. */
export function extraFilterProblem(filter: string): string | undefined {
  try {
    parseExtraFilter(filter);
    return undefined;
  } catch (error) {
    return `${errorMessage(error)}; write it in RFC 4515 syntax, e.g. (title=*) or (&(department=Sales)(l=Toronto))`;
  }
}

function memberOf(group: string, nested: boolean): Filter {
  return nested
    ? new ExtensibleFilter({ matchType: "memberOf", rule: IN_CHAIN, value: group })
    : new EqualityFilter({ attribute: "memberOf", value: group });
}

export function buildUserFilter(options: UserFilterOptions): Filter {
  // objectCategory=person excludes computers (which are objectClass=user too); objectClass=user excludes contacts.
  const parts: Filter[] = [
    new EqualityFilter({ attribute: "objectCategory", value: "person" }),
    new EqualityFilter({ attribute: "objectClass", value: "user" }),
  ];
  if (!options.includeDisabled) {
    parts.push(
      new NotFilter({
        filter: new ExtensibleFilter({
          matchType: "userAccountControl",
          rule: BITWISE_AND,
          value: ACCOUNT_DISABLED,
        }),
      }),
    );
  }
  if (options.groups.length > 0) {
    const memberships = options.groups.map((group) => memberOf(group, options.nestedGroups));
    parts.push(
      memberships.length === 1 ? (memberships[0] as Filter) : new OrFilter({ filters: memberships }),
    );
  }
  if (options.filter) parts.push(parseExtraFilter(options.filter));
  return new AndFilter({ filters: parts });
}

/** The users of `userFilter` who are members of one group (optionally through nested groups). */
export function buildGroupMemberFilter(userFilter: Filter, groupDn: string, nested: boolean): Filter {
  return new AndFilter({ filters: [userFilter, memberOf(groupDn, nested)] });
}
