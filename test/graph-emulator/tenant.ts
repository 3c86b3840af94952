/**
 * The directory objects of an emulated Entra ID tenant: users, groups (nested, cyclic), and the non-user members
 * that real groups hold (devices, service principals, organisational contacts), with Graph's property names.
 */

export interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail?: string | null;
  givenName?: string | null;
  surname?: string | null;
  jobTitle?: string | null;
  department?: string | null;
  mobilePhone?: string | null;
  businessPhones?: string[];
  officeLocation?: string | null;
  accountEnabled: boolean;
  userType: "Member" | "Guest";
}

export interface GraphGroup {
  id: string;
  displayName: string;
  /** Object ids of direct members: users, groups, devices, service principals or contacts. */
  members: string[];
}

export type OtherObjectType = "device" | "servicePrincipal" | "orgContact";

export interface OtherObject {
  id: string;
  type: OtherObjectType;
  displayName: string;
}

/** Every property of microsoft.graph.user the emulator knows, in Graph's spelling. */
export const USER_PROPERTIES = [
  "id",
  "userPrincipalName",
  "displayName",
  "mail",
  "givenName",
  "surname",
  "jobTitle",
  "department",
  "mobilePhone",
  "businessPhones",
  "officeLocation",
  "accountEnabled",
  "userType",
  "companyName",
  "employeeId",
  "city",
  "country",
  "preferredLanguage",
] as const;

/** What Graph returns for a user when the request has no $select (accountEnabled and userType are not in it). */
export const DEFAULT_USER_PROPERTIES = [
  "businessPhones",
  "displayName",
  "givenName",
  "jobTitle",
  "mail",
  "mobilePhone",
  "officeLocation",
  "preferredLanguage",
  "surname",
  "userPrincipalName",
  "id",
] as const;

export type DirectoryObject =
  | { type: "user"; object: GraphUser }
  | { type: "group"; object: GraphGroup }
  | { type: OtherObjectType; object: OtherObject };

export class Tenant {
  readonly users: GraphUser[] = [];
  readonly #objects = new Map<string, DirectoryObject>();

  addUser(user: GraphUser): GraphUser {
    this.#add({ type: "user", object: user });
    this.users.push(user);
    return user;
  }

  addGroup(group: GraphGroup): GraphGroup {
    this.#add({ type: "group", object: group });
    return group;
  }

  addOther(object: OtherObject): OtherObject {
    this.#add({ type: object.type, object });
    return object;
  }

  object(id: string): DirectoryObject | undefined {
    return this.#objects.get(id);
  }

  group(id: string): GraphGroup | undefined {
    const found = this.#objects.get(id);
    return found?.type === "group" ? found.object : undefined;
  }

  /**
   * Every object reachable through membership, each once, nested groups included (as Graph lists them), in the
   * order a breadth-first walk meets them. Cycles end the walk instead of looping.
   */
  transitiveMembers(groupId: string): DirectoryObject[] {
    const seen = new Set<string>([groupId]);
    const found: DirectoryObject[] = [];
    const queue = [groupId];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const group = this.group(next);
      for (const memberId of group?.members ?? []) {
        if (seen.has(memberId)) continue;
        seen.add(memberId);
        const member = this.#objects.get(memberId);
        if (member === undefined) continue;
        found.push(member);
        if (member.type === "group") queue.push(memberId);
      }
    }
    return found;
  }

  #add(object: DirectoryObject): void {
    if (this.#objects.has(object.object.id)) throw new Error(`duplicate object id ${object.object.id}`);
    this.#objects.set(object.object.id, object);
  }
}

/** A GUID-shaped object id that is the same for the same seed, so tests can name objects. */
export function objectId(kind: number, index: number): string {
  const hex = (value: number, width: number) => value.toString(16).padStart(width, "0");
  return `${hex(kind, 8)}-0000-4000-8000-${hex(index, 12)}`;
}
