/**
 * Tenants for tests, the demo and benchmarks. The sample tenant holds what bit other Graph sync agents: groups
 * larger than one page, nested and cyclic groups, non-user members, guests, disabled accounts, people in two
 * groups, users without `mail`, several business phones, accents; plus two people who are also in the Samba AD
 * test domain (for the hybrid merge).
 */
import { objectId, Tenant } from "./tenant.ts";

export const SAMPLE_TENANT_ID = "contoso.example.test";
export const CLOUD_DOMAIN = "cloud.example.test";

const USER = 1;
const GROUP = 2;
const OTHER = 3;

/** Object ids of the sample tenant's groups. */
export const SAMPLE_GROUPS = {
  /** London Office + Paris Office (nested) + a few direct members, including non-users, a guest, a disabled user. */
  allStaff: objectId(GROUP, 1),
  london: objectId(GROUP, 2),
  paris: objectId(GROUP, 3),
  /** Nested in London Office and containing it back: a cycle. */
  reception: objectId(GROUP, 4),
  /** Holds only a device and a service principal: no user members at all. */
  kiosks: objectId(GROUP, 5),
} as const;

export const LONDON_STAFF = 130;
export const PARIS_STAFF = 60;
export const UNGROUPED_STAFF = 5;

export interface SampleTenantFacts {
  tenant: Tenant;
  /** Enabled member users reachable from All Staff: what a default sync of `groups: [allStaff]` uploads. */
  allStaffEmails: string[];
  /** Every enabled member user of the tenant (the `/users` listing minus guests and disabled). */
  everyoneEmails: string[];
  guestEmail: string;
  disabledEmail: string;
  /** Mail addresses that the Samba AD test domain also has (in another letter case). */
  hybridOverlap: string[];
}

export function buildSampleTenant(): SampleTenantFacts {
  const tenant = new Tenant();
  let next = 0;
  const person = (
    local: string,
    given: string,
    surname: string,
    office: string | null,
    extra: Partial<Parameters<Tenant["addUser"]>[0]> = {},
  ) =>
    tenant.addUser({
      id: objectId(USER, ++next),
      userPrincipalName: `${local}@${CLOUD_DOMAIN}`,
      displayName: `${given} ${surname}`,
      mail: `${local}@${CLOUD_DOMAIN}`,
      givenName: given,
      surname,
      jobTitle: "Consultant",
      department: "Advisory",
      mobilePhone: `+44 7700 9${String(next).padStart(5, "0")}`,
      businessPhones: [`+44 20 7946 ${String(next).padStart(4, "0")}`],
      officeLocation: office,
      accountEnabled: true,
      userType: "Member",
      ...extra,
    });

  const london = Array.from({ length: LONDON_STAFF }, (_, i) =>
    person(`london.${i + 1}`, "Lon", `Staff${i + 1}`, "London"),
  );
  const paris = Array.from({ length: PARIS_STAFF }, (_, i) =>
    person(`paris.${i + 1}`, "Par", `Staff${i + 1}`, "Paris", { department: "Conseil" }),
  );
  const zoe = person("zoe.lefevre", "Zoë", "Lefèvre", "Paris", {
    jobTitle: "Directrice générale",
    businessPhones: ["+33 1 23 45 67 89", "+33 1 98 76 54 32"],
  });
  const noMail = person("no.mail", "Nomail", "Person", "London", { mail: null });
  const sparse = person("sparse.person", "Sparse", "Person", null, {
    jobTitle: null,
    department: null,
    mobilePhone: null,
    businessPhones: [],
  });
  // The Samba AD test domain has these two people too (alice.martin, derek.olsen at corp.example.test).
  const hybridAlice = person("alice.cloud", "Alice", "Martin (Entra)", "London", {
    mail: "Alice.Martin@CORP.example.test",
    userPrincipalName: `alice.martin@${CLOUD_DOMAIN}`,
  });
  const hybridDerek = person("derek.cloud", "Derek", "Olsen (Entra)", "London", {
    mail: "DEREK.OLSEN@corp.example.test",
  });
  const guest = person("ext.visitor", "Guest", "Visitor", "London", {
    mail: "visitor@partner.example.test",
    userPrincipalName: `visitor_partner.example.test#EXT#@${CLOUD_DOMAIN}`,
    userType: "Guest",
  });
  const disabled = person("left.company", "Former", "Employee", "London", { accountEnabled: false });
  const ungrouped = Array.from({ length: UNGROUPED_STAFF }, (_, i) =>
    person(`ungrouped.${i + 1}`, "Loose", `Person${i + 1}`, "London"),
  );

  const device = tenant.addOther({ id: objectId(OTHER, 1), type: "device", displayName: "Lobby iPad" });
  const app = tenant.addOther({
    id: objectId(OTHER, 2),
    type: "servicePrincipal",
    displayName: "Door system",
  });
  const contact = tenant.addOther({ id: objectId(OTHER, 3), type: "orgContact", displayName: "Caterer" });

  tenant.addGroup({
    id: SAMPLE_GROUPS.reception,
    displayName: "London Reception",
    members: [london[0]?.id ?? "", london[1]?.id ?? "", SAMPLE_GROUPS.london, device.id],
  });
  tenant.addGroup({
    id: SAMPLE_GROUPS.london,
    displayName: "London Office",
    members: [...london.map((user) => user.id), SAMPLE_GROUPS.reception, noMail.id, sparse.id],
  });
  tenant.addGroup({
    id: SAMPLE_GROUPS.paris,
    displayName: "Paris Office",
    // Zoë is also a direct member of All Staff: she must be read once.
    members: [...paris.map((user) => user.id), zoe.id],
  });
  tenant.addGroup({ id: SAMPLE_GROUPS.kiosks, displayName: "Kiosks", members: [device.id, app.id] });
  tenant.addGroup({
    id: SAMPLE_GROUPS.allStaff,
    displayName: "All Staff",
    members: [
      app.id,
      SAMPLE_GROUPS.london,
      contact.id,
      zoe.id,
      SAMPLE_GROUPS.paris,
      hybridAlice.id,
      hybridDerek.id,
      guest.id,
      disabled.id,
      SAMPLE_GROUPS.kiosks,
    ],
  });

  const emailOf = (user: { mail?: string | null; userPrincipalName: string }) =>
    (user.mail ?? user.userPrincipalName).toLowerCase();
  const allStaff = [...london, noMail, sparse, ...paris, zoe, hybridAlice, hybridDerek];
  return {
    tenant,
    allStaffEmails: allStaff.map(emailOf).sort(),
    everyoneEmails: [...allStaff, ...ungrouped].map(emailOf).sort(),
    guestEmail: emailOf(guest),
    disabledEmail: emailOf(disabled),
    hybridOverlap: [emailOf(hybridAlice), emailOf(hybridDerek)],
  };
}

const OFFICES = ["London", "Paris", "Berlin", "Madrid", "Toronto"];

/**
 * `count` synthetic enabled members, all in one group (`BULK_GROUP_ID`), for benchmarks: the shape of a large
 * tenant without the memory of building user objects one by one at 100,000 (they are plain and small).
 */
export const BULK_GROUP_ID = objectId(GROUP, 100);

export function buildBulkTenant(count: number): Tenant {
  const tenant = new Tenant();
  const members: string[] = [];
  for (let i = 1; i <= count; i++) {
    const office = OFFICES[i % OFFICES.length] ?? "London";
    const user = tenant.addUser({
      id: objectId(USER, i),
      userPrincipalName: `user${i}@${CLOUD_DOMAIN}`,
      displayName: `First${i} Last${i}`,
      mail: `user${i}@${CLOUD_DOMAIN}`,
      givenName: `First${i}`,
      surname: `Last${i}`,
      jobTitle: "Engineer",
      department: `Department ${i % 40}`,
      mobilePhone: `+1 555 01${String(i % 100).padStart(2, "0")}`,
      businessPhones: [`+1 555 02${String(i % 100).padStart(2, "0")}`],
      officeLocation: office,
      accountEnabled: true,
      userType: "Member",
    });
    members.push(user.id);
  }
  tenant.addGroup({ id: BULK_GROUP_ID, displayName: "Everyone (bulk)", members });
  return tenant;
}
