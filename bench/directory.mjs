// A private OpenLDAP slapd shaped like Active Directory, for speed rather than AD semantics: a small schema with
// AD's own OIDs (objectCategory is a plain string here, so AD's `(objectCategory=person)` filter matches), N users
// in several OUs (10% disabled), computers and contacts the filter must leave out, loaded offline with slapadd and
// served over LDAPS on 127.0.0.1 only.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { runQuiet, stopperFor } from "./measure.mjs";
import { DOMAIN, makePerson, OFFICES, seededRandom } from "./people.mjs";

export const SUFFIX = "DC=corp,DC=example,DC=test";
export const STAFF_BASE = `OU=Staff,${SUFFIX}`;
export const CONTRACTORS_BASE = `OU=Contractors,${SUFFIX}`;
export const SERVICE_ACCOUNT_DN = `CN=svc-ilobby,OU=Service Accounts,${SUFFIX}`;
export const SERVICE_ACCOUNT_PASSWORD = "bench-Bind-Password-1";

const AD_LITE_SCHEMA = `
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department' EQUALITY caseIgnoreMatch
  SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.782 NAME 'objectCategory' EQUALITY caseIgnoreMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.2 NAME 'objectGUID' EQUALITY octetStringMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL
  MAY ( givenName $ mail $ mobile $ title $ department $ displayName $ sAMAccountName $
        userAccountControl $ userPrincipalName $ objectCategory $ objectGUID ) )
objectclass ( 1.2.840.113556.1.3.30 NAME 'computer' SUP user STRUCTURAL )
objectclass ( 1.2.840.113556.1.5.15 NAME 'contact' SUP organizationalPerson STRUCTURAL
  MAY ( givenName $ mail $ department $ objectCategory ) )
`;

/** RFC 4514: characters that must be escaped in an attribute value of a DN. */
function escapeDnValue(value) {
  return value.replace(/[,+"\\<>;=]/g, (character) => `\\${character}`).replace(/^[ #]| $/g, "\\$&");
}

/** One LDIF line; values that are not plain ASCII (accents) or are bytes are base64, as RFC 2849 requires. */
function ldifLine(name, value) {
  if (Buffer.isBuffer(value)) return `${name}:: ${value.toString("base64")}\n`;
  return /^[\x21-\x39\x3b\x3d-\x7e][\x20-\x7e]*$/.test(value) && !value.endsWith(" ")
    ? `${name}: ${value}\n`
    : `${name}:: ${Buffer.from(value, "utf8").toString("base64")}\n`;
}

function ldifEntry(dn, attributes) {
  let text = ldifLine("dn", dn);
  for (const [name, value] of attributes) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value])
      text += ldifLine(name, Buffer.isBuffer(item) ? item : String(item));
  }
  return `${text}\n`;
}

const organizationalUnit = (dn, name) =>
  ldifEntry(dn, [
    ["objectClass", ["top", "organizationalUnit"]],
    ["ou", name],
  ]);

/**
 * Writes the directory as LDIF: OUs, the service account, `userCount` people (90% in city OUs under Staff, 10% in
 * Contractors), plus computers (2%) and contacts (1%) inside the search bases. Returns what the filter should find.
 */
export async function writeDirectoryLdif(path, userCount, { servicePasswordHash }) {
  const out = createWriteStream(path);
  const write = async (text) => {
    if (!out.write(text)) await once(out, "drain");
  };
  const random = seededRandom(20_260_101);
  await write(
    ldifEntry(SUFFIX, [
      ["objectClass", ["top", "dcObject", "organization"]],
      ["dc", "corp"],
      ["o", "Corp Example"],
    ]),
  );
  for (const [dn, name] of [
    [STAFF_BASE, "Staff"],
    [CONTRACTORS_BASE, "Contractors"],
    [`OU=Service Accounts,${SUFFIX}`, "Service Accounts"],
    [`OU=Contacts,${STAFF_BASE}`, "Contacts"],
    [`OU=Workstations,${STAFF_BASE}`, "Workstations"],
    ...OFFICES.map((office) => [`OU=${escapeDnValue(office.ou)},${STAFF_BASE}`, office.ou]),
  ]) {
    await write(organizationalUnit(dn, name));
  }
  await write(
    ldifEntry(SERVICE_ACCOUNT_DN, [
      ["objectClass", ["top", "person", "organizationalPerson", "user"]],
      ["cn", "svc-ilobby"],
      ["sn", "svc-ilobby"],
      ["sAMAccountName", "svc-ilobby"],
      ["userPrincipalName", `svc-ilobby@${DOMAIN}`],
      ["objectCategory", "person"],
      ["userAccountControl", 66048],
      ["userPassword", servicePasswordHash],
    ]),
  );

  let enabledUsers = 0;
  for (let index = 0; index < userCount; index++) {
    const person = makePerson(random, index);
    const contractor = random() < 0.1;
    const parent = contractor ? CONTRACTORS_BASE : `OU=${escapeDnValue(person.office.ou)},${STAFF_BASE}`;
    // One in five is "Surname, Given" (an escaped comma in the DN), as many AD naming policies do.
    const commonName =
      index % 5 === 0
        ? `${person.surname}, ${person.givenName} (${person.account})`
        : `${person.givenName} ${person.surname} (${person.account})`;
    if ((person.userAccountControl & 2) === 0) enabledUsers++;
    await write(
      ldifEntry(`CN=${escapeDnValue(commonName)},${parent}`, [
        ["objectClass", ["top", "person", "organizationalPerson", "user"]],
        ["cn", commonName],
        ["givenName", person.givenName],
        ["sn", person.surname],
        ["displayName", `${person.givenName} ${person.surname}`],
        ["title", person.title],
        ["department", person.department],
        ["mail", person.mail],
        ["userPrincipalName", person.userPrincipalName],
        ["sAMAccountName", person.account],
        ["mobile", person.mobile],
        ["telephoneNumber", person.telephone],
        ["physicalDeliveryOfficeName", person.officeName],
        ["objectCategory", "person"],
        ["userAccountControl", person.userAccountControl],
        // AD's 16-byte objectGUID, which ilobby-sync keeps in its state (from the index: the rest stays seeded).
        ["objectGUID", createHash("md5").update(`user-${index}`).digest()],
      ]),
    );
    if (index % 50 === 0) {
      await write(
        ldifEntry(`CN=WS-${index},OU=Workstations,${STAFF_BASE}`, [
          ["objectClass", ["top", "person", "organizationalPerson", "user", "computer"]],
          ["cn", `WS-${index}`],
          ["sn", `WS-${index}`],
          ["sAMAccountName", `WS-${index}$`],
          ["objectCategory", "computer"],
          ["userAccountControl", 4096],
        ]),
      );
    }
    if (index % 100 === 0) {
      await write(
        ldifEntry(`CN=Contact ${index},OU=Contacts,${STAFF_BASE}`, [
          ["objectClass", ["top", "person", "organizationalPerson", "contact"]],
          ["cn", `Contact ${index}`],
          ["sn", person.surname],
          ["givenName", person.givenName],
          ["mail", `contact.${index}@partner.example.test`],
          ["objectCategory", "person"],
        ]),
      );
    }
  }
  out.end();
  await finished(out);
  return { enabledUsers };
}

function slapdConfig(dir, tls) {
  return `
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include ${join(dir, "ad-lite.schema")}
pidfile ${join(dir, "slapd.pid")}
argsfile ${join(dir, "slapd.args")}
modulepath /usr/lib/ldap
moduleload back_mdb
loglevel none
TLSCertificateFile ${tls.certFile}
TLSCertificateKeyFile ${tls.keyFile}
TLSCACertificateFile ${tls.caFile}
TLSCipherSuite NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3
database mdb
maxsize 4294967296
suffix "${SUFFIX}"
rootdn "CN=admin,${SUFFIX}"
directory ${join(dir, "db")}
index objectClass eq
index objectCategory eq
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
limits users size=unlimited size.pr=unlimited size.prtotal=unlimited time=unlimited
`;
}

/** Builds the database for `userCount` users in `dir` (config, schema, LDIF, slapadd). */
export async function buildDirectory(dir, userCount, tls) {
  mkdirSync(join(dir, "db"), { recursive: true });
  writeFileSync(join(dir, "ad-lite.schema"), AD_LITE_SCHEMA);
  const configFile = join(dir, "slapd.conf");
  writeFileSync(configFile, slapdConfig(dir, tls));
  const servicePasswordHash = (await runQuiet("slappasswd", ["-s", SERVICE_ACCOUNT_PASSWORD])).trim();
  const ldifFile = join(dir, "directory.ldif");
  const started = performance.now();
  const { enabledUsers } = await writeDirectoryLdif(ldifFile, userCount, { servicePasswordHash });
  const generatedMs = performance.now() - started;
  await runQuiet("slapadd", ["-q", "-f", configFile, "-l", ldifFile]);
  return { configFile, enabledUsers, generatedMs, loadedMs: performance.now() - started - generatedMs };
}

/**
 * Starts slapd in the foreground (`-d 0`: it does not fork, so the child's PID is slapd's) on LDAPS only, and
 * waits until the port accepts connections. `stop()` kills that PID.
 */
export async function startSlapd(configFile, port) {
  const url = `ldaps://127.0.0.1:${port}`;
  const child = spawn("slapd", ["-d", "0", "-f", configFile, "-h", `${url}/`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const stop = stopperFor(child);
  const deadline = Date.now() + 15_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`slapd exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`slapd did not listen on ${url} within 15 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, pid: child.pid, stop };
}

async function portOpen(port) {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
