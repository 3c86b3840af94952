/**
 * The deterministic contents of the Samba AD DC test directory: the LDIF that seeds it and a machine-readable
 * description of the same objects, so tests compute expected result sets from data instead of hard-coding them.
 * Changing this file changes the snapshot key in testbed.ts, which rebuilds the seeded DC on the next start.
 */

export const REALM = "CORP.EXAMPLE.TEST";
export const DNS_DOMAIN = "corp.example.test";
export const NETBIOS_DOMAIN = "CORP";
export const DC_HOST_NAME = "dc1";
export const BASE_DN = "DC=corp,DC=example,DC=test";

export const OFFICES_DN = `OU=Offices,${BASE_DN}`;
export const TORONTO_DN = `OU=Toronto,${OFFICES_DN}`;
export const MONTREAL_DN = `OU=Montreal,${OFFICES_DN}`;
export const VANCOUVER_DN = `OU=Vancouver,${OFFICES_DN}`;
export const BULK_DN = `OU=Bulk,${BASE_DN}`;
export const GROUPS_DN = `OU=Groups,${BASE_DN}`;
export const SERVICE_ACCOUNTS_DN = `OU=Service Accounts,${BASE_DN}`;
/** Phone-number traps and the person whose address a rename test changes, outside every other base. */
export const HOST_DATA_DN = `OU=Host Data,${BASE_DN}`;

export const ILOBBY_HOSTS_DN = `CN=iLobby Hosts,${GROUPS_DN}`;
export const TORONTO_STAFF_DN = `CN=Toronto Staff,${TORONTO_DN}`;
export const TORONTO_RECEPTION_DN = `CN=Toronto Reception,${TORONTO_DN}`;
export const MONTREAL_STAFF_DN = `CN=Montreal Staff,${MONTREAL_DN}`;
export const CYCLE_A_DN = `CN=Cycle A,${GROUPS_DN}`;
export const CYCLE_B_DN = `CN=Cycle B,${GROUPS_DN}`;
export const ALL_BULK_DN = `CN=All Bulk,${GROUPS_DN}`;

export const BULK_USER_COUNT = 1_600;

/** userAccountControl bits (MS-ADTS 2.2.16). */
const ACCOUNTDISABLE = 0x2;
const PASSWD_NOTREQD = 0x20;
const NORMAL_ACCOUNT = 0x200;
const WORKSTATION_TRUST_ACCOUNT = 0x1000;
const DONT_EXPIRE_PASSWORD = 0x10000;

export const PERSON_ATTRIBUTES = [
  "givenName",
  "sn",
  "displayName",
  "title",
  "department",
  "mail",
  "mobile",
  "telephoneNumber",
  "physicalDeliveryOfficeName",
] as const;
export type PersonAttribute = (typeof PERSON_ATTRIBUTES)[number];

export interface SeedPerson {
  dn: string;
  cn: string;
  sAMAccountName: string;
  userPrincipalName: string;
  /** Values exactly as stored, including deliberate leading/trailing spaces; absent keys are not set. */
  attributes: Partial<Record<PersonAttribute, string>>;
  enabled: boolean;
  userAccountControl: number;
  /** Only service accounts have passwords; everyone else is PASSWD_NOTREQD and cannot bind. */
  password?: string;
  /** DNs of the groups that list this person in `member` (not nested, not the primary group). */
  memberOf: string[];
}

export interface SeedGroup {
  dn: string;
  cn: string;
  sAMAccountName: string;
  /** DNs of direct members: people and groups. */
  members: string[];
}

/** Objects that live next to users but must never appear in user results. */
export interface SeedNonUser {
  dn: string;
  objectClass: "computer" | "contact";
}

export interface SeedServiceAccount {
  dn: string;
  upn: string;
  /** DOMAIN\user form, e.g. CORP\svc-ilobby. */
  downLevel: string;
  password: string;
}

export interface Seed {
  ldif: string;
  /** Every user account the seed creates (service accounts included; built-in accounts such as Administrator not). */
  people: SeedPerson[];
  groups: SeedGroup[];
  nonUsers: SeedNonUser[];
  serviceAccount: SeedServiceAccount;
  disabledServiceAccount: SeedServiceAccount;
  /** People reachable from the group through nested membership, as the in-chain rule 1.2.840.113556.1.4.1941 sees it. */
  membersOfGroupNested(groupDn: string): SeedPerson[];
  /** People whose DN lies under `baseDn` (subtree scope). */
  peopleUnder(baseDn: string): SeedPerson[];
}

/** Escapes an RDN value per RFC 4514 (enough for the names used here: commas, plus signs, quotes...). */
function escapeRdnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (char) => `\\${char}`).replace(/^[ #]|[ ]$/g, (char) => `\\${char}`);
}

// RFC 2849 SAFE-STRING, narrowed to printable ASCII: no leading space, colon or "<"; we also avoid a trailing space.
function isLdifSafe(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value) && !/^[ :<]/.test(value) && !value.endsWith(" ");
}

/** A value that is binary already (unicodePwd), written base64-encoded as is. */
interface BinaryValue {
  binary: Buffer;
}

function ldifLine(name: string, value: string | BinaryValue): string {
  if (typeof value !== "string") return `${name}:: ${value.binary.toString("base64")}`;
  return isLdifSafe(value)
    ? `${name}: ${value}`
    : `${name}:: ${Buffer.from(value, "utf8").toString("base64")}`;
}

type LdifAttributes = [name: string, value: string | BinaryValue | string[] | undefined][];

function ldifAdd(dn: string, attributes: LdifAttributes): string {
  const lines = [ldifLine("dn", dn), "changetype: add"];
  for (const [name, value] of attributes) {
    for (const single of value === undefined ? [] : Array.isArray(value) ? value : [value]) {
      lines.push(ldifLine(name, single));
    }
  }
  return lines.join("\n");
}

/** AD takes passwords as the UTF-16LE encoding of the quoted password. */
function unicodePwd(password: string): BinaryValue {
  return { binary: Buffer.from(`"${password}"`, "utf16le") };
}

interface PersonSpec {
  ou: string;
  cn: string;
  sAMAccountName: string;
  upnLocalPart: string;
  attributes: Partial<Record<PersonAttribute, string>>;
  enabled?: boolean;
  password?: string;
}

function mailAt(localPart: string): string {
  return `${localPart}@${DNS_DOMAIN}`;
}

/** The hand-written people: each one exists to exercise a specific edge case, named in the comment. */
function namedPeople(): PersonSpec[] {
  return [
    // Toronto Reception, the innermost group of the three-level chain.
    {
      ou: TORONTO_DN,
      cn: "Alice Martin",
      sAMAccountName: "amartin",
      upnLocalPart: "alice.martin",
      attributes: {
        givenName: "Alice",
        sn: "Martin",
        displayName: "Alice Martin",
        title: "Receptionist",
        department: "Facilities",
        mail: mailAt("alice.martin"),
        mobile: "+1 416 555 0101",
        telephoneNumber: "+1 416 555 0100",
        physicalDeliveryOfficeName: "TOR-3F",
      },
    },
    // Disabled, yet a nested member of iLobby Hosts: only the enabled-only filter keeps it out.
    {
      ou: TORONTO_DN,
      cn: "Derek Olsen",
      sAMAccountName: "dolsen",
      upnLocalPart: "derek.olsen",
      enabled: false,
      attributes: {
        givenName: "Derek",
        sn: "Olsen",
        displayName: "Derek Olsen",
        title: "Receptionist",
        department: "Facilities",
        mail: mailAt("derek.olsen"),
        telephoneNumber: "+1 416 555 0102",
        physicalDeliveryOfficeName: "TOR-3F",
      },
    },
    // A comma in the RDN: CN=Lee\, Jr.
    {
      ou: TORONTO_DN,
      cn: "Lee, Jr.",
      sAMAccountName: "jlee",
      upnLocalPart: "jordan.lee",
      attributes: {
        givenName: "Jordan",
        sn: "Lee, Jr.",
        displayName: "Jordan Lee, Jr.",
        title: "Engineer",
        department: "Engineering",
        mail: mailAt("jordan.lee"),
        mobile: "+1 416 555 0103",
        physicalDeliveryOfficeName: "TOR-3F",
      },
    },
    // Accented names in the DN and in attribute values.
    {
      ou: TORONTO_DN,
      cn: "Jérôme Côté",
      sAMAccountName: "jcote",
      upnLocalPart: "jerome.cote",
      attributes: {
        givenName: "Jérôme",
        sn: "Côté",
        displayName: "Jérôme Côté",
        title: "Développeur",
        department: "Engineering",
        mail: mailAt("jerome.cote"),
        telephoneNumber: "+1 416 555 0104",
        physicalDeliveryOfficeName: "TOR-4F",
      },
    },
    // Leading and trailing spaces in values.
    {
      ou: TORONTO_DN,
      cn: "Priya Natarajan",
      sAMAccountName: "pnatarajan",
      upnLocalPart: "priya.natarajan",
      attributes: {
        givenName: "Priya",
        sn: "Natarajan",
        displayName: "Priya Natarajan",
        title: " Manager ",
        department: "Operations ",
        mail: mailAt("priya.natarajan"),
        mobile: " +1 416 555 0105",
        physicalDeliveryOfficeName: "TOR-3F",
      },
    },
    // No mail: the UPN is the only address.
    {
      ou: TORONTO_DN,
      cn: "Kenji Watanabe",
      sAMAccountName: "kwatanabe",
      upnLocalPart: "kenji.watanabe",
      attributes: {
        givenName: "Kenji",
        sn: "Watanabe",
        displayName: "Kenji Watanabe",
        title: "Analyst",
        department: "Finance",
        telephoneNumber: "+1 416 555 0106",
        physicalDeliveryOfficeName: "TOR-4F",
      },
    },
    // Mail differs only by case from Samantha Taylor's in Montreal.
    {
      ou: TORONTO_DN,
      cn: "Sam Taylor",
      sAMAccountName: "staylor",
      upnLocalPart: "sam.taylor",
      attributes: {
        givenName: "Sam",
        sn: "Taylor",
        displayName: "Sam Taylor",
        title: "Sales Lead",
        department: "Sales",
        mail: mailAt("Sam.Taylor"),
        mobile: "+1 416 555 0107",
        physicalDeliveryOfficeName: "TOR-3F",
      },
    },
    {
      ou: MONTREAL_DN,
      cn: "Samantha Taylor",
      sAMAccountName: "sataylor",
      upnLocalPart: "samantha.taylor",
      attributes: {
        givenName: "Samantha",
        sn: "Taylor",
        displayName: "Samantha Taylor",
        title: "Sales",
        department: "Sales",
        mail: mailAt("sam.taylor"),
        physicalDeliveryOfficeName: "MTL-1",
      },
    },
    {
      ou: MONTREAL_DN,
      cn: "Éloïse Lefèvre",
      sAMAccountName: "elefevre",
      upnLocalPart: "eloise.lefevre",
      attributes: {
        givenName: "Éloïse",
        sn: "Lefèvre",
        displayName: "Éloïse Lefèvre",
        title: "Directrice",
        department: "Opérations",
        mail: mailAt("eloise.lefevre"),
        mobile: "+1 514 555 0201",
        telephoneNumber: "+1 514 555 0200",
        physicalDeliveryOfficeName: "MTL-1",
      },
    },
    {
      ou: MONTREAL_DN,
      cn: "Marc Tremblay",
      sAMAccountName: "mtremblay",
      upnLocalPart: "marc.tremblay",
      enabled: false,
      attributes: {
        givenName: "Marc",
        sn: "Tremblay",
        displayName: "Marc Tremblay",
        title: "Technicien",
        department: "Facilities",
        mail: mailAt("marc.tremblay"),
        physicalDeliveryOfficeName: "MTL-2",
      },
    },
    // No givenName and no sn: only cn/displayName name the account.
    {
      ou: MONTREAL_DN,
      cn: "Kiosk MTL",
      sAMAccountName: "kiosk-mtl",
      upnLocalPart: "kiosk.mtl",
      attributes: {
        displayName: "Kiosk MTL",
        mail: mailAt("kiosk.mtl"),
        physicalDeliveryOfficeName: "MTL-1",
      },
    },
    // Direct member of iLobby Hosts from another office.
    {
      ou: VANCOUVER_DN,
      cn: "Chloé Nguyen",
      sAMAccountName: "cnguyen",
      upnLocalPart: "chloe.nguyen",
      attributes: {
        givenName: "Chloé",
        sn: "Nguyen",
        displayName: "Chloé Nguyen",
        title: "Office Manager",
        department: "Facilities",
        mail: mailAt("chloe.nguyen"),
        mobile: "+1 604 555 0301",
        telephoneNumber: "+1 604 555 0300",
        physicalDeliveryOfficeName: "VAN-2",
      },
    },
    {
      ou: VANCOUVER_DN,
      cn: "Ravi Patel",
      sAMAccountName: "rpatel",
      upnLocalPart: "ravi.patel",
      attributes: {
        givenName: "Ravi",
        sn: "Patel",
        displayName: "Ravi Patel",
        title: "Engineer",
        department: "Engineering",
        telephoneNumber: "+1 604 555 0302",
        physicalDeliveryOfficeName: "VAN-2",
      },
    },
    // Members of the Cycle A <-> Cycle B loop.
    {
      ou: VANCOUVER_DN,
      cn: "Olga Petrova",
      sAMAccountName: "opetrova",
      upnLocalPart: "olga.petrova",
      attributes: {
        givenName: "Olga",
        sn: "Petrova",
        displayName: "Olga Petrova",
        title: "Designer",
        department: "Marketing",
        mail: mailAt("olga.petrova"),
        physicalDeliveryOfficeName: "VAN-1",
      },
    },
    {
      ou: VANCOUVER_DN,
      cn: "Tom Becker",
      sAMAccountName: "tbecker",
      upnLocalPart: "tom.becker",
      attributes: {
        givenName: "Tom",
        sn: "Becker",
        displayName: "Tom Becker",
        title: "Designer",
        department: "Marketing",
        mail: mailAt("tom.becker"),
        physicalDeliveryOfficeName: "VAN-1",
      },
    },
    // Directly in OU=Offices: inside the Offices base, outside every city base.
    {
      ou: OFFICES_DN,
      cn: "Nadia Haddad",
      sAMAccountName: "nhaddad",
      upnLocalPart: "nadia.haddad",
      attributes: {
        givenName: "Nadia",
        sn: "Haddad",
        displayName: "Nadia Haddad",
        title: "Regional Director",
        department: "Executive",
        mail: mailAt("nadia.haddad"),
        mobile: "+1 416 555 0199",
        physicalDeliveryOfficeName: "TOR-5F",
      },
    },
  ];
}

/**
 * Phone numbers as people type them into AD, in ranges reserved for fiction where the numbering plan has one that
 * is valid (NANP 555-01XX, London 020 7946 0XXX, Australia 0491 570 XXX and 02 5550 XXXX, France 01 99 00 XX XX).
 * SITE (physicalDeliveryOfficeName) names a city, so a test can give each its country with phones.countryBySite.
 */
function hostDataPeople(): PersonSpec[] {
  const person = (
    cn: string,
    sAMAccountName: string,
    site: string,
    phones: { mobile?: string; telephoneNumber?: string },
  ): PersonSpec => {
    const [givenName = "", sn = ""] = cn.split(" ");
    const localPart = `${givenName}.${sn}`.toLowerCase();
    return {
      ou: HOST_DATA_DN,
      cn,
      sAMAccountName,
      upnLocalPart: localPart,
      attributes: {
        givenName,
        sn,
        displayName: cn,
        mail: mailAt(localPart),
        physicalDeliveryOfficeName: site,
        ...phones,
      },
    };
  };
  return [
    // An extension after "x", and a national number written with dots.
    person("Hugo Laurent", "hlaurent", "Toronto", {
      telephoneNumber: "(416) 555-0142 x204",
      mobile: "416.555.0143",
    }),
    // National format with the trunk prefix 1, and spaces around an international number.
    person("Mei Chen", "mchen", "Montreal", {
      telephoneNumber: "1 (514) 555-0130",
      mobile: " +1 514 555 0131 ",
    }),
    // 00 and 011 international prefixes in a Canadian office (North America dials 011, most others 00).
    person("Omar Farouk", "ofarouk", "Toronto", {
      telephoneNumber: "0044 20 7946 0321",
      mobile: "011 61 491 570 157",
    }),
    // A London fixed line in MOBILE (SMS cannot reach it), and "+44 (0)" with the trunk 0 in brackets.
    person("Fiona Walsh", "fwalsh", "London", {
      mobile: "020 7946 0958",
      telephoneNumber: "+44 (0)20 7946 0959",
    }),
    // Australian national formats, mobile and fixed.
    person("Liam Murphy", "lmurphy", "Sydney", { mobile: "0491 570 156", telephoneNumber: "(02) 5550 1234" }),
    // A French national number.
    person("Camille Roux", "croux", "Paris", { telephoneNumber: "01 99 00 12 34" }),
    // Letters, and a number without its area code.
    person("Ana Souza", "asouza", "Toronto", { mobile: "ask reception", telephoneNumber: "555-0199" }),
    // A German national number at a site with no country of its own: read as the default country's, it is invalid.
    person("Jonas Weber", "jweber", "Berlin", { telephoneNumber: "030 23125 456" }),
    // The person whose mail a rename test changes.
    person("Ingrid Berg", "iberg", "Toronto", { mobile: "+1 416 555 0150" }),
  ];
}

const SERVICE_PASSWORD = "Svc-iLobby-Test-Pass-1!";
const DISABLED_SERVICE_PASSWORD = "Svc-Disabled-Test-Pass-1!";

function serviceAccountSpecs(): PersonSpec[] {
  return [
    {
      ou: SERVICE_ACCOUNTS_DN,
      cn: "svc-ilobby",
      sAMAccountName: "svc-ilobby",
      upnLocalPart: "svc-ilobby",
      password: SERVICE_PASSWORD,
      attributes: { displayName: "iLobby sync service" },
    },
    {
      ou: SERVICE_ACCOUNTS_DN,
      cn: "svc-disabled",
      sAMAccountName: "svc-disabled",
      upnLocalPart: "svc-disabled",
      password: DISABLED_SERVICE_PASSWORD,
      enabled: false,
      attributes: { displayName: "Disabled service account" },
    },
  ];
}

const BULK_DEPARTMENTS = ["Sales", "Engineering", "Finance", "Support", "Marketing"];

/** Every 100th bulk user is disabled, so the enabled-only filter matters across page boundaries too. */
function bulkPeople(): PersonSpec[] {
  return Array.from({ length: BULK_USER_COUNT }, (_, index) => {
    const number = String(index + 1).padStart(4, "0");
    return {
      ou: BULK_DN,
      cn: `Bulk User ${number}`,
      sAMAccountName: `bulk${number}`,
      upnLocalPart: `bulk${number}`,
      enabled: (index + 1) % 100 !== 0,
      attributes: {
        givenName: "Bulk",
        sn: `User ${number}`,
        displayName: `Bulk User ${number}`,
        title: "Associate",
        department: BULK_DEPARTMENTS[index % BULK_DEPARTMENTS.length],
        mail: mailAt(`bulk${number}`),
        telephoneNumber: `+1 416 555 ${number}`,
        physicalDeliveryOfficeName: "BLK-1",
      },
    };
  });
}

function userAccountControl(spec: PersonSpec): number {
  const disabled = spec.enabled === false ? ACCOUNTDISABLE : 0;
  // Service accounts must keep binding however old the snapshot is; the others have no password at all.
  const passwordFlags = spec.password ? DONT_EXPIRE_PASSWORD : PASSWD_NOTREQD;
  return NORMAL_ACCOUNT | passwordFlags | disabled;
}

function personFromSpec(spec: PersonSpec): SeedPerson {
  const uac = userAccountControl(spec);
  return {
    dn: `CN=${escapeRdnValue(spec.cn)},${spec.ou}`,
    cn: spec.cn,
    sAMAccountName: spec.sAMAccountName,
    userPrincipalName: mailAt(spec.upnLocalPart),
    attributes: spec.attributes,
    enabled: (uac & ACCOUNTDISABLE) === 0,
    userAccountControl: uac,
    ...(spec.password ? { password: spec.password } : {}),
    memberOf: [],
  };
}

function groupDefinitions(peopleBySam: Map<string, SeedPerson>): SeedGroup[] {
  const dnOf = (sAMAccountName: string): string => {
    const person = peopleBySam.get(sAMAccountName);
    if (!person) throw new Error(`seed: no person ${sAMAccountName}`);
    return person.dn;
  };
  const group = (dn: string, cn: string, sAMAccountName: string, members: string[]): SeedGroup => ({
    dn,
    cn,
    sAMAccountName,
    members,
  });
  // Listed in creation order: a group's members must exist before it (the cycle is closed afterwards).
  return [
    group(TORONTO_RECEPTION_DN, "Toronto Reception", "toronto-reception", [dnOf("amartin"), dnOf("dolsen")]),
    group(TORONTO_STAFF_DN, "Toronto Staff", "toronto-staff", [
      TORONTO_RECEPTION_DN,
      dnOf("jlee"),
      dnOf("jcote"),
      dnOf("pnatarajan"),
    ]),
    group(MONTREAL_STAFF_DN, "Montreal Staff", "montreal-staff", [
      dnOf("elefevre"),
      dnOf("mtremblay"),
      dnOf("sataylor"),
    ]),
    group(ILOBBY_HOSTS_DN, "iLobby Hosts", "ilobby-hosts", [
      TORONTO_STAFF_DN,
      dnOf("cnguyen"),
      dnOf("bulk0001"),
    ]),
    group(CYCLE_B_DN, "Cycle B", "cycle-b", [dnOf("tbecker"), CYCLE_A_DN]),
    group(CYCLE_A_DN, "Cycle A", "cycle-a", [dnOf("opetrova"), CYCLE_B_DN]),
    group(
      ALL_BULK_DN,
      "All Bulk",
      "all-bulk",
      [...peopleBySam.values()]
        .filter((person) => person.dn.endsWith(`,${BULK_DN}`))
        .map((person) => person.dn),
    ),
  ];
}

function nonUserObjects(): { ldif: string[]; objects: SeedNonUser[] } {
  const computers = [
    { dn: `CN=TOR-PC-001,${TORONTO_DN}`, name: "TOR-PC-001" },
    { dn: `CN=MTL-PC-001,${MONTREAL_DN}`, name: "MTL-PC-001" },
  ];
  // Contacts are objectCategory=person with mail, so only an objectClass=user filter keeps them out.
  const contacts = [
    {
      dn: `CN=External Auditor,${TORONTO_DN}`,
      given: "External",
      sn: "Auditor",
      mail: "auditor@example.org",
    },
    { dn: `CN=Catering Vendor,${MONTREAL_DN}`, given: "Catering", sn: "Vendor", mail: "orders@example.net" },
  ];
  const ldif = [
    ...computers.map((computer) =>
      ldifAdd(computer.dn, [
        ["objectClass", "computer"],
        ["sAMAccountName", `${computer.name}$`],
        ["userAccountControl", String(WORKSTATION_TRUST_ACCOUNT)],
        ["dNSHostName", `${computer.name.toLowerCase()}.${DNS_DOMAIN}`],
      ]),
    ),
    ...contacts.map((contact) =>
      ldifAdd(contact.dn, [
        ["objectClass", "contact"],
        ["givenName", contact.given],
        ["sn", contact.sn],
        ["displayName", `${contact.given} ${contact.sn}`],
        ["mail", contact.mail],
      ]),
    ),
  ];
  const objects: SeedNonUser[] = [
    ...computers.map((computer) => ({ dn: computer.dn, objectClass: "computer" as const })),
    ...contacts.map((contact) => ({ dn: contact.dn, objectClass: "contact" as const })),
  ];
  return { ldif, objects };
}

function isUnder(dn: string, baseDn: string): boolean {
  const lowerDn = dn.toLowerCase();
  const lowerBase = baseDn.toLowerCase();
  return lowerDn === lowerBase || lowerDn.endsWith(`,${lowerBase}`);
}

function toServiceAccount(person: SeedPerson): SeedServiceAccount {
  if (!person.password) throw new Error(`seed: service account ${person.sAMAccountName} has no password`);
  return {
    dn: person.dn,
    upn: person.userPrincipalName,
    downLevel: `${NETBIOS_DOMAIN}\\${person.sAMAccountName}`,
    password: person.password,
  };
}

export function buildSeed(): Seed {
  const people = [...namedPeople(), ...hostDataPeople(), ...serviceAccountSpecs(), ...bulkPeople()].map(
    personFromSpec,
  );
  const peopleBySam = new Map(people.map((person) => [person.sAMAccountName, person]));
  const peopleByDn = new Map(people.map((person) => [person.dn, person]));
  const groups = groupDefinitions(peopleBySam);
  const groupsByDn = new Map(groups.map((group) => [group.dn, group]));
  for (const group of groups) {
    for (const member of group.members) peopleByDn.get(member)?.memberOf.push(group.dn);
  }

  const organizationalUnits = [
    OFFICES_DN,
    TORONTO_DN,
    MONTREAL_DN,
    VANCOUVER_DN,
    BULK_DN,
    GROUPS_DN,
    SERVICE_ACCOUNTS_DN,
    HOST_DATA_DN,
  ];
  const nonUsers = nonUserObjects();
  // Closes the Cycle A -> Cycle B -> Cycle A loop: a member must exist when it is added, so this comes last.
  const cycleClosingMember = { group: CYCLE_B_DN, member: CYCLE_A_DN };
  const records = [
    ...organizationalUnits.map((dn) => ldifAdd(dn, [["objectClass", "organizationalUnit"]])),
    ...people.map((person) =>
      ldifAdd(person.dn, [
        ["objectClass", "user"],
        ["cn", person.cn],
        ["sAMAccountName", person.sAMAccountName],
        ["userPrincipalName", person.userPrincipalName],
        ...PERSON_ATTRIBUTES.map((name): [string, string | undefined] => [name, person.attributes[name]]),
        ["userAccountControl", String(person.userAccountControl)],
        ["unicodePwd", person.password ? unicodePwd(person.password) : undefined],
      ]),
    ),
    ...nonUsers.ldif,
    ...groups.map((group) =>
      ldifAdd(group.dn, [
        ["objectClass", "group"],
        ["sAMAccountName", group.sAMAccountName],
        [
          "member",
          group.members.filter(
            (member) => group.dn !== cycleClosingMember.group || member !== cycleClosingMember.member,
          ),
        ],
      ]),
    ),
    [
      ldifLine("dn", cycleClosingMember.group),
      "changetype: modify",
      "add: member",
      ldifLine("member", cycleClosingMember.member),
      "-",
    ].join("\n"),
  ];
  const ldif = `${records.join("\n\n")}\n`;

  const serviceAccount = peopleBySam.get("svc-ilobby");
  const disabledServiceAccount = peopleBySam.get("svc-disabled");
  if (!serviceAccount || !disabledServiceAccount) throw new Error("seed: service accounts missing");

  return {
    ldif,
    people,
    groups,
    nonUsers: nonUsers.objects,
    serviceAccount: toServiceAccount(serviceAccount),
    disabledServiceAccount: toServiceAccount(disabledServiceAccount),
    membersOfGroupNested(groupDn: string): SeedPerson[] {
      const found = new Set<SeedPerson>();
      const visitedGroups = new Set<string>();
      const visit = (dn: string): void => {
        if (visitedGroups.has(dn)) return;
        visitedGroups.add(dn);
        for (const member of groupsByDn.get(dn)?.members ?? []) {
          const person = peopleByDn.get(member);
          if (person) found.add(person);
          else visit(member);
        }
      };
      visit(groupDn);
      return [...found];
    },
    peopleUnder(baseDn: string): SeedPerson[] {
      return people.filter((person) => isUnder(person.dn, baseDn));
    },
  };
}
