/**
 * A deterministic sample Active Directory of 48 employees in three offices, for the demo and the integration
 * tests, with the cases a real directory throws at ilobby-sync: accented names, an escaped comma in a DN,
 * disabled accounts, a person with no mail (UPN fallback) and one with neither, two addresses that differ only
 * by case, an office code that maps to no site, stray spaces, nested groups, and a computer and a contact that
 * must never be synced. Every address is in example.test or example.com: fake people only.
 *
 * The expectations (`selectPeople`, `expectedRows`) are worked out from the people's descriptions below, not
 * by searching the directory, so they check the server and the CLI rather than repeat them.
 */
import { stringify } from "yaml";
import type { Row } from "../../src/core/columns.ts";
import type { FakeAccount, FakeEntry } from "./ldap-server.ts";

export const SAMPLE_DOMAIN = "DC=corp,DC=example,DC=test";
/** The search base of `sampleConfigYaml`: every employee is below it, the service accounts are not. */
export const OFFICES_BASE = `OU=Offices,${SAMPLE_DOMAIN}`;

const SCHEMA = `CN=Schema,CN=Configuration,${SAMPLE_DOMAIN}`;
const PERSON_CATEGORY = `CN=Person,${SCHEMA}`;
const GROUPS_OU = `OU=Groups,${SAMPLE_DOMAIN}`;
const SERVICE_ACCOUNTS_OU = `OU=Service Accounts,${SAMPLE_DOMAIN}`;

export const SAMPLE_GROUPS = {
  /** Direct members, plus the Vancouver Hosts group nested inside it. */
  hosts: `CN=iLobby Hosts,${GROUPS_OU}`,
  /** Nested in iLobby Hosts; holds Vancouver Front Desk. */
  vancouverHosts: `CN=Vancouver Hosts,${GROUPS_OU}`,
  /** Nested two levels below iLobby Hosts. */
  vancouverFrontDesk: `CN=Vancouver Front Desk,${GROUPS_OU}`,
} as const;

/** Group -> the groups it is a direct member of. */
const GROUP_PARENTS: Record<string, string[]> = {
  [SAMPLE_GROUPS.hosts]: [],
  [SAMPLE_GROUPS.vancouverHosts]: [SAMPLE_GROUPS.hosts],
  [SAMPLE_GROUPS.vancouverFrontDesk]: [SAMPLE_GROUPS.vancouverHosts],
};

/** The account ilobby-sync binds as (it can bind by this DN, UPN or down-level name). */
export const SERVICE_ACCOUNT = {
  dn: `CN=svc-ilobby,${SERVICE_ACCOUNTS_OU}`,
  upn: "svc-ilobby@corp.example.test",
  downLevel: "CORP\\svc-ilobby",
  password: "Demo-Only-Bind-Pa55!",
} as const;

/** A retired service account whose password still works: binding gets AD's "data 533". */
export const DISABLED_SERVICE_ACCOUNT = {
  dn: `CN=svc-legacy-sync,${SERVICE_ACCOUNTS_OU}`,
  upn: "svc-legacy-sync@corp.example.test",
  downLevel: "CORP\\svc-legacy-sync",
  password: "Old-Sync-Pa55!",
  disabled: true,
} as const;

export const SAMPLE_ACCOUNTS: FakeAccount[] = [SERVICE_ACCOUNT, DISABLED_SERVICE_ACCOUNT];

const OFFICES = {
  Toronto: { areaCode: "416", mobileAreaCode: "647" },
  Montreal: { areaCode: "514", mobileAreaCode: "438" },
  Vancouver: { areaCode: "604", mobileAreaCode: "778" },
} as const;

export type Office = keyof typeof OFFICES;

/** The SITE map of `sampleConfigYaml`: office codes are globbed to the portal's site names. */
const SITE_MAP = { "TOR-*": "Toronto", "MTL-*": "Montreal", "VAN-*": "Vancouver" } as const;
export const SAMPLE_SITES: readonly string[] = ["Toronto", "Montreal", "Vancouver"];

interface PersonSpec {
  givenName: string;
  sn: string;
  /** Default `${givenName} ${sn}` */
  cn?: string;
  office: Office;
  /** physicalDeliveryOfficeName */
  code: string;
  title: string;
  department: string;
  /** Default `given.surname@example.test` (accents folded); null: no mail attribute. */
  mail?: string | null;
  /** Default `<sAMAccountName>@corp.example.test`; null: no UPN. */
  upn?: string | null;
  disabled?: boolean;
  groups?: string[];
}

// Values with stray spaces are kept exactly as an administrator typed them.
// biome-ignore format: one person per line reads as a table
const PEOPLE: PersonSpec[] = [
  { givenName: "Amelia", sn: "Hartley", office: "Toronto", code: "TOR-3F", title: "Director, Operations", department: "Operations", groups: [SAMPLE_GROUPS.hosts] },
  { givenName: "Inés", sn: "Ñúñez", office: "Toronto", code: "TOR-3F", title: "Senior Accountant", department: "Finance" },
  { givenName: "Robert", sn: "Lee", cn: "Lee, Robert Jr.", office: "Toronto", code: "TOR-5F", title: "Facilities Manager", department: "Facilities" },
  { givenName: "Priya", sn: "Raman", office: "Toronto", code: "TOR-5F", title: "Software Developer", department: "Engineering" },
  { givenName: "Marcus", sn: "O'Brien", office: "Toronto", code: "TOR-3F", title: "Sales Director", department: "Sales" },
  { givenName: "Wei", sn: "Chen", office: "Toronto", code: "TOR-5F", title: "Data Analyst", department: "Engineering" },
  { givenName: "Fatima", sn: "Al-Sayed", office: "Toronto", code: "TOR-3F", title: "HR Generalist", department: "People" },
  { givenName: "Daniel", sn: "Kowalski", office: "Toronto", code: "TOR-5F", title: "Systems Administrator", department: "IT", disabled: true, groups: [SAMPLE_GROUPS.hosts] },
  { givenName: "Samuel", sn: "Taylor", office: "Toronto", code: "TOR-3F", title: "Account Executive", department: "Sales", mail: "Sam.Taylor@example.test", groups: [SAMPLE_GROUPS.hosts] },
  { givenName: "Grace", sn: "Okafor", office: "Toronto", code: "TOR-3F", title: "Receptionist", department: "Facilities", groups: [SAMPLE_GROUPS.hosts] },
  { givenName: "Oliver", sn: "Bennett", office: "Toronto", code: "TOR-5F", title: "QA Engineer", department: "Engineering", mail: null, upn: "oliver.bennett@corp.example.test" },
  { givenName: "Hannah", sn: "Schmidt", office: "Toronto", code: "TOR-5F", title: "IT Support Specialist", department: "IT", mail: " hannah.schmidt@example.test " },
  { givenName: "Lucas", sn: "Ferreira", office: "Toronto", code: "TOR-5F", title: "Product Manager", department: "Product" },
  { givenName: "Nadia", sn: "Petrova", office: "Toronto", code: "TOR-3F", title: "Legal Counsel", department: "Legal" },
  { givenName: "Ethan", sn: "Wright", office: "Toronto", code: "TOR-5F", title: " Engineering Intern ", department: "Engineering" },
  { givenName: "Aisha", sn: "Mohammed", office: "Toronto", code: "TOR-3F", title: "Marketing Lead", department: "Marketing" },
  { givenName: "Benjamin", sn: "Clarke", office: "Toronto", code: "TOR-5F", title: "Consultant", department: "Engineering", mail: "benjamin.clarke@example.com" },
  { givenName: "Sofia", sn: "Rossi", office: "Toronto", code: "TOR-3F", title: "Office Manager", department: "Facilities" },
  { givenName: "Chidi", sn: "Eze", office: "Toronto", code: "TOR-5F", title: "Security Analyst", department: "IT" },
  { givenName: "Rachel", sn: "Goldberg", office: "Toronto", code: "TOR-3F", title: "Controller", department: "Finance" },
  { givenName: "Jérôme", sn: "Côté", office: "Montreal", code: "MTL-1", title: "Directeur régional", department: "Opérations", groups: [SAMPLE_GROUPS.hosts] },
  { givenName: "Éloïse", sn: "Lefèvre", office: "Montreal", code: "MTL-1", title: "Analyste financière", department: "Finances" },
  { givenName: "Samantha", sn: "Taylor", office: "Montreal", code: "MTL-2", title: "Account Manager", department: "Ventes", mail: "sam.taylor@example.test" },
  { givenName: "Mathieu", sn: "Gagnon", office: "Montreal", code: "MTL-2", title: "Développeur", department: "Ingénierie" },
  { givenName: "Chloé", sn: "Tremblay", office: "Montreal", code: "MTL-1", title: "Réceptionniste", department: "Installations", groups: [SAMPLE_GROUPS.hosts] },
  { givenName: "Gabriel", sn: "Roy", office: "Montreal", code: "MTL-2", title: "Technicien", department: "TI", mail: null, upn: null, groups: [SAMPLE_GROUPS.hosts] },
  { givenName: "Camille", sn: "Bouchard", office: "Montreal", code: "MTL-1", title: "Conseillère RH", department: "Ressources humaines" },
  { givenName: "Félix", sn: "Gauthier", office: "Montreal", code: "MTL-2", title: "Représentant des ventes", department: "Ventes" },
  { givenName: "Léa", sn: "Morin", office: "Montreal", code: "MTL-1", title: "Spécialiste marketing", department: "Marketing" },
  { givenName: "François", sn: "Lavoie", office: "Montreal", code: "MTL-2", title: "Administrateur système", department: "TI" },
  { givenName: "Amélie", sn: "Bélanger", office: "Montreal", code: "MTL-1", title: "Juriste", department: "Affaires juridiques" },
  { givenName: "Olivier", sn: "Pelletier", office: "Montreal", code: "MTL-2", title: "Comptable", department: "Finances" },
  { givenName: "Noémie", sn: "Fortin", office: "Montreal", code: "MTL-1", title: "Gestionnaire de produit", department: "Produit" },
  { givenName: "Antoine", sn: "Côté-Leblanc", office: "Montreal", code: "MTL-2", title: "Développeur principal", department: "Ingénierie" },
  { givenName: "Zoë", sn: "Adeyemi", office: "Vancouver", code: "VAN-2", title: "Site Lead", department: "Operations", groups: [SAMPLE_GROUPS.vancouverHosts] },
  { givenName: "Kenji", sn: "Watanabe", office: "Vancouver", code: "VAN-2", title: "Platform Engineer", department: "Engineering" },
  { givenName: "Harpreet", sn: "Sandhu", office: "Vancouver", code: "VAN-3", title: "Accountant", department: "Finance" },
  { givenName: "Liam", sn: "Murphy", office: "Vancouver", code: "VAN-2", title: "Sales Representative", department: "Sales" },
  { givenName: "Mei", sn: "Lin", office: "Vancouver", code: "VAN-3", title: "Graphic Designer", department: "Marketing" },
  { givenName: "Jack", sn: "Thompson", office: "Vancouver", code: "VAN-2", title: "Warehouse Lead", department: "Operations", disabled: true, groups: [SAMPLE_GROUPS.vancouverHosts] },
  { givenName: "Ava", sn: "Wilson", office: "Vancouver", code: "VAN-2", title: "Front Desk Coordinator", department: "Facilities", groups: [SAMPLE_GROUPS.vancouverFrontDesk] },
  { givenName: "Noah", sn: "Martin", office: "Vancouver", code: "VAN-3", title: "Network Engineer", department: "IT" },
  { givenName: "Isabella", sn: "Garcia", office: "Vancouver", code: "VAN-2", title: "Recruiter", department: "People" },
  // Moved from Calgary; the office code was never updated, and CGY-* maps to no site.
  { givenName: "Ryan", sn: "Campbell", office: "Vancouver", code: "CGY-1", title: "Field Engineer", department: "Engineering", groups: [SAMPLE_GROUPS.vancouverHosts] },
  { givenName: "Emma", sn: "Nguyen", office: "Vancouver", code: "VAN-3", title: "Product Designer", department: "Product" },
  { givenName: "Tariq", sn: "Haddad", office: "Vancouver", code: "VAN-2", title: "Paralegal", department: "Legal" },
  { givenName: " Maya ", sn: "Johansson", office: "Vancouver", code: "VAN-3", title: "  UX Designer", department: "Design  ", groups: [SAMPLE_GROUPS.vancouverFrontDesk] },
  { givenName: "Diego", sn: "Hernández", office: "Vancouver", code: "VAN-2", title: "Logistics Coordinator", department: "Operations" },
];

export interface SamplePerson {
  dn: string;
  office: Office;
  disabled: boolean;
  /** Direct group memberships (DNs). */
  groups: readonly string[];
  /** The row ilobby-sync should make of this person with `sampleConfigYaml`'s mapping, before duplicate
   * checks; EMAIL or SITE is "" when the person has none. */
  row: Row;
  entry: FakeEntry;
}

/** Accents folded and punctuation dropped, for addresses and account names. */
function asciiName(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "");
}

const escapeDnValue = (value: string): string =>
  value.replace(/[,\\#+<>;"=]/g, (character) => `\\${character}`);

/** SITE_MAP's globs are all `PREFIX-*`. */
function siteFor(code: string): string {
  const match = Object.entries(SITE_MAP).find(([pattern]) => code.startsWith(pattern.slice(0, -1)));
  return match?.[1] ?? "";
}

function buildPerson(spec: PersonSpec, index: number): SamplePerson {
  const given = spec.givenName.trim();
  const surname = spec.sn.trim();
  const cn = spec.cn ?? `${given} ${surname}`;
  const dn = `CN=${escapeDnValue(cn)},OU=${spec.office},${OFFICES_BASE}`;
  const accountName = `${asciiName(given).slice(0, 1)}${asciiName(surname)}`.slice(0, 20);
  const mail = spec.mail === undefined ? `${asciiName(given)}.${asciiName(surname)}@example.test` : spec.mail;
  const upn = spec.upn === undefined ? `${accountName}@corp.example.test` : spec.upn;
  const { areaCode, mobileAreaCode } = OFFICES[spec.office];
  // 555-01xx numbers are reserved for fiction. Every other person has a mobile.
  const number = String(index).padStart(2, "0");
  const telephoneNumber = `+1 ${areaCode} 555 01${number}`;
  const mobile = index % 2 === 0 ? `+1 ${mobileAreaCode} 555 01${number}` : undefined;
  const attributes: Record<string, string | string[]> = {
    objectClass: ["top", "person", "organizationalPerson", "user"],
    objectCategory: PERSON_CATEGORY,
    cn,
    givenName: spec.givenName,
    sn: spec.sn,
    displayName: `${given} ${surname}`,
    title: spec.title,
    department: spec.department,
    company: "Example Corp",
    telephoneNumber,
    physicalDeliveryOfficeName: spec.code,
    sAMAccountName: accountName,
    userAccountControl: spec.disabled ? "514" : "512",
    ...(mail === null ? {} : { mail }),
    ...(upn === null ? {} : { userPrincipalName: upn }),
    ...(mobile ? { mobile } : {}),
  };
  return {
    dn,
    office: spec.office,
    disabled: spec.disabled ?? false,
    groups: spec.groups ?? [],
    row: {
      FIRSTNAME: given,
      LASTNAME: surname,
      TITLE: spec.title.trim(),
      DIVISION: spec.department.trim(),
      EMAIL: (mail ?? upn ?? "").trim(),
      MOBILE: mobile ?? "",
      DESKPHONE: telephoneNumber,
      SITE: siteFor(spec.code),
    },
    entry: { dn, attributes },
  };
}

export const SAMPLE_PEOPLE: readonly SamplePerson[] = PEOPLE.map((spec, index) =>
  buildPerson(spec, index + 1),
);

function container(dn: string, objectClass: string, category: string): FakeEntry {
  const name = dn.slice(dn.indexOf("=") + 1, dn.indexOf(","));
  return {
    dn,
    attributes: { objectClass: ["top", objectClass], objectCategory: `CN=${category},${SCHEMA}`, name },
  };
}

function group(dn: string): FakeEntry {
  const members = [
    ...SAMPLE_PEOPLE.filter((person) => person.groups.includes(dn)).map((person) => person.dn),
    ...Object.keys(GROUP_PARENTS).filter((child) => GROUP_PARENTS[child]?.includes(dn)),
  ];
  const name = dn.slice(3, dn.indexOf(","));
  return {
    dn,
    attributes: {
      objectClass: ["top", "group"],
      objectCategory: `CN=Group,${SCHEMA}`,
      cn: name,
      sAMAccountName: name,
      groupType: "-2147483646", // global security group
      member: members,
    },
  };
}

function serviceAccount(account: FakeAccount, description: string): FakeEntry {
  const name = account.dn.slice(3, account.dn.indexOf(","));
  return {
    dn: account.dn,
    attributes: {
      objectClass: ["top", "person", "organizationalPerson", "user"],
      objectCategory: PERSON_CATEGORY,
      cn: name,
      sAMAccountName: name,
      userPrincipalName: account.upn ?? "",
      description,
      // 66048 = NORMAL_ACCOUNT + DONT_EXPIRE_PASSWORD; 66050 adds ACCOUNTDISABLE.
      userAccountControl: account.disabled ? "66050" : "66048",
    },
  };
}

/** Everything in the directory, containers first. */
export const SAMPLE_ENTRIES: readonly FakeEntry[] = [
  container(SAMPLE_DOMAIN, "domainDNS", "Domain-DNS"),
  container(OFFICES_BASE, "organizationalUnit", "Organizational-Unit"),
  ...(Object.keys(OFFICES) as Office[]).map((office) =>
    container(`OU=${office},${OFFICES_BASE}`, "organizationalUnit", "Organizational-Unit"),
  ),
  container(GROUPS_OU, "organizationalUnit", "Organizational-Unit"),
  container(SERVICE_ACCOUNTS_OU, "organizationalUnit", "Organizational-Unit"),
  serviceAccount(SERVICE_ACCOUNT, "Reads users for the iLobby address book"),
  serviceAccount(DISABLED_SERVICE_ACCOUNT, "Retired sync account"),
  ...Object.keys(GROUP_PARENTS).map(group),
  ...SAMPLE_PEOPLE.map((person) => person.entry),
  // A lobby kiosk: objectClass user like a person, but objectCategory Computer. It has a mail address, so only
  // the objectCategory=person clause keeps it out of the address book.
  {
    dn: `CN=TOR-KIOSK-01,OU=Toronto,${OFFICES_BASE}`,
    attributes: {
      objectClass: ["top", "person", "organizationalPerson", "user", "computer"],
      objectCategory: `CN=Computer,${SCHEMA}`,
      cn: "TOR-KIOSK-01",
      sAMAccountName: "TOR-KIOSK-01$",
      dNSHostName: "tor-kiosk-01.corp.example.test",
      mail: "tor-kiosk-01@example.test",
      physicalDeliveryOfficeName: "TOR-3F",
      userAccountControl: "4096",
    },
  },
  // A contact (an outside caterer): objectCategory Person like an employee, but not objectClass user.
  {
    dn: `CN=Marie Caterer,OU=Montreal,${OFFICES_BASE}`,
    attributes: {
      objectClass: ["top", "person", "organizationalPerson", "contact"],
      objectCategory: PERSON_CATEGORY,
      cn: "Marie Caterer",
      givenName: "Marie",
      sn: "Caterer",
      mail: "marie@caterer.example.com",
      physicalDeliveryOfficeName: "MTL-1",
    },
  },
];

export interface SampleSelection {
  /** Only members of any of these groups (DNs). */
  groups?: readonly string[];
  /** Default true: members of nested groups count. */
  nestedGroups?: boolean;
  includeDisabled?: boolean;
}

function groupsReachedFrom(direct: readonly string[], nested: boolean): Set<string> {
  const reached = new Set(direct);
  if (!nested) return reached;
  for (const group of reached) for (const parent of GROUP_PARENTS[group] ?? []) reached.add(parent);
  return reached;
}

/** The people a search of OFFICES_BASE with this selection should find, in directory order. */
export function selectPeople(selection: SampleSelection = {}): SamplePerson[] {
  const wanted = selection.groups ?? [];
  return SAMPLE_PEOPLE.filter((person) => {
    if (person.disabled && !selection.includeDisabled) return false;
    if (wanted.length === 0) return true;
    const groups = groupsReachedFrom(person.groups, selection.nestedGroups ?? true);
    return wanted.some((group) => groups.has(group));
  });
}

/**
 * The rows a run with `sampleConfigYaml(selection)` uploads, sorted by lower-case EMAIL: people without an
 * address or a known site are left out, and of two addresses that differ only by case the person whose DN sorts
 * first (case-insensitively) is kept.
 */
export function expectedRows(selection: SampleSelection = {}): Row[] {
  const candidates = selectPeople(selection)
    .filter((person) => person.row.EMAIL !== "" && SAMPLE_SITES.includes(person.row.SITE))
    .sort((a, b) => (a.dn.toLowerCase() < b.dn.toLowerCase() ? -1 : 1));
  const byEmail = new Map<string, Row>();
  for (const person of candidates) {
    const key = person.row.EMAIL.toLowerCase();
    if (!byEmail.has(key)) byEmail.set(key, person.row);
  }
  return [...byEmail].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

export interface SampleConfigOptions extends SampleSelection {
  /** The directory's URL (ldaps://, or ldap:// for a StartTLS server). */
  url: string;
  /** The directory's CA certificate file. */
  caFile: string;
  ilobbyUrl: string;
  ilobbyCaFile: string;
  clientId: string;
}

/** A working ilobby-sync config (YAML) for the sample directory. Secrets are not in it: set
 * ILOBBY_SYNC_BIND_PASSWORD to SERVICE_ACCOUNT.password and ILOBBY_SYNC_CLIENT_SECRET to the client's secret. */
export function sampleConfigYaml(options: SampleConfigOptions): string {
  const config = {
    ilobby: {
      clientId: options.clientId,
      baseUrl: options.ilobbyUrl,
      caFile: options.ilobbyCaFile,
    },
    directory: {
      url: options.url,
      bindDn: SERVICE_ACCOUNT.upn,
      caFile: options.caFile,
      startTls: options.url.startsWith("ldap://"),
      searchBases: [OFFICES_BASE],
      groups: [...(options.groups ?? [])],
      nestedGroups: options.nestedGroups ?? true,
      includeDisabled: options.includeDisabled ?? false,
    },
    mapping: {
      SITE: { attribute: "physicalDeliveryOfficeName", map: SITE_MAP },
    },
    sites: [...SAMPLE_SITES],
    // Relative to the config file: a sample run never touches the state of a real one.
    stateDir: "state",
  };
  return stringify(config);
}
