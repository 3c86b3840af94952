/**
 * ilobby-sync against a real AD-compatible directory: the built CLI as a process, the Samba AD DC of the global
 * setup over LDAPS/StartTLS, and the local iLobby emulator. Expected results come from the seed's own description
 * of the directory, not from ilobby-sync's code.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attribute, Change, Client } from "ldapts";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import type { Row } from "../../src/core/columns.ts";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import {
  ALL_BULK_DN,
  BULK_DN,
  BULK_USER_COUNT,
  buildSeed,
  CYCLE_A_DN,
  ILOBBY_HOSTS_DN,
  OFFICES_DN,
  type SeedPerson,
  TORONTO_DN,
  TORONTO_STAFF_DN,
} from "./seed.ts";
import { OLD_TLS_PRIORITY, sambaDcControl } from "./testbed.ts";

const dc = inject("sambaDc");
const seed = buildSeed();
const CLIENT = "ad-client";
const CLIENT_SECRET = "ad-client-secret-value";

let emulator: Emulator;
let dir: string;

interface Selection {
  bases: string[];
  groups?: string[];
  nestedGroups?: boolean;
  includeDisabled?: boolean;
  filter?: string;
}

/** What the seed says a selection contains, mapped with the default mapping (no `sites`). */
function expectedRows(selection: Selection): Row[] {
  const byDn = new Map<string, SeedPerson>();
  for (const base of selection.bases)
    for (const person of seed.peopleUnder(base)) byDn.set(person.dn, person);
  let people = [...byDn.values()].filter((person) => person.enabled || selection.includeDisabled);
  if (selection.groups) {
    const members = new Set(
      selection.groups.flatMap((group) =>
        selection.nestedGroups === false
          ? seed.people.filter((person) => person.memberOf.includes(group))
          : seed.membersOfGroupNested(group),
      ),
    );
    people = people.filter((person) => members.has(person));
  }
  if (selection.filter === "(title=*)")
    people = people.filter((person) => person.attributes.title !== undefined);
  const value = (person: SeedPerson, attribute: keyof SeedPerson["attributes"]) =>
    person.attributes[attribute]?.trim() ?? "";
  const kept = new Map<string, Row>();
  for (const person of people.sort((a, b) => (a.dn.toLowerCase() < b.dn.toLowerCase() ? -1 : 1))) {
    const email = value(person, "mail") || person.userPrincipalName;
    if (kept.has(email.toLowerCase())) continue;
    kept.set(email.toLowerCase(), {
      FIRSTNAME: value(person, "givenName"),
      LASTNAME: value(person, "sn"),
      TITLE: value(person, "title"),
      DIVISION: value(person, "department"),
      EMAIL: email,
      MOBILE: value(person, "mobile"),
      DESKPHONE: value(person, "telephoneNumber"),
      SITE: value(person, "physicalDeliveryOfficeName"),
    });
  }
  return [...kept].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

function writeConfig(selection: Selection, directory: Record<string, unknown> = {}): void {
  const config = {
    ilobby: { clientId: CLIENT, baseUrl: emulator.url, caFile: emulator.caFile },
    directory: {
      url: dc.ldapsUrl,
      bindDn: dc.serviceAccount.upn,
      caFile: dc.caFile,
      searchBases: selection.bases,
      ...(selection.groups ? { groups: selection.groups } : {}),
      ...(selection.nestedGroups === false ? { nestedGroups: false } : {}),
      ...(selection.includeDisabled ? { includeDisabled: true } : {}),
      ...(selection.filter ? { filter: selection.filter } : {}),
      ...directory,
    },
    stateDir: "state",
  };
  writeFileSync(join(dir, "ilobby-sync.yaml"), stringify(config));
}

const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: dc.serviceAccount.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};
const run = (args: string[], env: Record<string, string> = {}) =>
  runCli(["run", ...args], { cwd: dir, env: { ...secrets, ...env }, timeoutMs: 110_000 });
async function dryRunRows(): Promise<Row[]> {
  const result = await run(["--dry-run", "--json"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout).rows;
}
const enabledBook = () =>
  emulator
    .addressBook(CLIENT)
    .filter((entry) => entry.enabled)
    .map(({ enabled: _enabled, ...row }) => row);

async function asAdmin<T>(action: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({
    url: dc.ldapsUrl,
    tlsOptions: { ca: readFileSync(dc.caFile), minVersion: "TLSv1.2" },
  });
  try {
    await client.bind(dc.adminUpn, dc.adminPassword);
    return await action(client);
  } finally {
    await client.unbind();
  }
}

beforeAll(async () => {
  emulator = await startEmulator({ clients: { [CLIENT]: CLIENT_SECRET } });
});
afterAll(async () => {
  await emulator?.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-ad-"));
});

describe("selection against Samba AD", () => {
  it("uploads exactly the enabled people under the offices, with accents and escaped DNs intact", async () => {
    const expected = expectedRows({ bases: [OFFICES_DN] });
    expect(expected.some((row) => row.FIRSTNAME === "Jérôme")).toBe(true);
    writeConfig({ bases: [OFFICES_DN] });
    const result = await run([]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(enabledBook()).toEqual(expected);
  });

  it("keeps each uploaded person's objectGUID, as Windows writes it, in the state and never in the CSV", async () => {
    writeConfig({ bases: [TORONTO_DN] });
    expect((await run(["--output", "sent.csv"])).code).toBe(0);
    const [header, ...lines] = readFileSync(join(dir, "state", "default.last-upload.json"), "utf8")
      .trimEnd()
      .split("\n");
    expect(JSON.parse(header as string).rows).toBe(lines.length);
    const stored = new Map(
      lines
        .map((line) => JSON.parse(line) as string[])
        .map((values) => [values[4]?.toLowerCase(), values[8]]),
    );
    // What AD itself says, read with the administrator's account: the GUID's first three groups are little-endian.
    const guids = await asAdmin(async (client) => {
      const { searchEntries } = await client.search(TORONTO_DN, {
        filter: "(objectClass=user)",
        attributes: ["mail", "userPrincipalName", "objectGUID"],
        explicitBufferAttributes: ["objectGUID"],
      });
      return searchEntries.map((entry) => {
        const bytes = entry.objectGUID as Buffer;
        const hex = bytes.toString("hex");
        const swap = (part: string) => part.match(/../g)?.reverse().join("") ?? "";
        const guid = `${swap(hex.slice(0, 8))}-${swap(hex.slice(8, 12))}-${swap(hex.slice(12, 16))}-${hex.slice(16, 20)}-${hex.slice(20)}`;
        // EMAIL is mail, or userPrincipalName without one (the default mapping).
        // ldapts lists an absent attribute as [], whose text is "".
        return [(String(entry.mail) || String(entry.userPrincipalName)).toLowerCase(), guid] as const;
      });
    });
    expect(stored.size).toBeGreaterThan(0);
    expect([...stored.keys()].filter((email) => !guids.some(([known]) => known === email))).toEqual([]);
    for (const [email, guid] of guids) if (stored.has(email)) expect(stored.get(email)).toBe(guid);
    expect(
      [...stored.values()].every((guid) =>
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(guid ?? ""),
      ),
    ).toBe(true);
    const csv = readFileSync(join(dir, "sent.csv"), "utf8");
    for (const guid of stored.values()) expect(csv).not.toContain(guid);
  });

  it("binds as a DN, a UPN and DOMAIN\\user", async () => {
    for (const bindDn of [dc.serviceAccount.dn, dc.serviceAccount.upn, dc.serviceAccount.downLevel]) {
      writeConfig({ bases: [TORONTO_DN] }, { bindDn });
      expect(await dryRunRows()).toEqual(expectedRows({ bases: [TORONTO_DN] }));
    }
  });

  it("works over StartTLS on port 389", async () => {
    writeConfig({ bases: [TORONTO_DN] }, { url: dc.ldapUrl, startTls: true });
    expect(await dryRunRows()).toEqual(expectedRows({ bases: [TORONTO_DN] }));
  });

  it("selects nested-group, direct-group, cyclic-group, enabled-only, disabled-included and filtered sets", async () => {
    const selections: Selection[] = [
      { bases: [OFFICES_DN], groups: [ILOBBY_HOSTS_DN] },
      { bases: [OFFICES_DN], groups: [ILOBBY_HOSTS_DN], nestedGroups: false },
      { bases: [OFFICES_DN], groups: [TORONTO_STAFF_DN] },
      { bases: [OFFICES_DN], groups: [CYCLE_A_DN] },
      { bases: [OFFICES_DN], includeDisabled: true },
      { bases: [OFFICES_DN], filter: "(title=*)" },
    ];
    for (const selection of selections) {
      writeConfig(selection);
      expect(await dryRunRows(), JSON.stringify(selection)).toEqual(expectedRows(selection));
    }
    expect(expectedRows(selections[0] as Selection).length).toBeGreaterThan(
      expectedRows(selections[1] as Selection).length,
    );
  });

  it("pages past 1,000 and reads a group of more than 1,500 members completely", async () => {
    writeConfig({ bases: [BULK_DN] }, { pageSize: 200 });
    const everyone = await dryRunRows();
    expect(everyone).toEqual(expectedRows({ bases: [BULK_DN] }));
    expect(everyone.length).toBeGreaterThan(1000);
    expect(seed.membersOfGroupNested(ALL_BULK_DN)).toHaveLength(BULK_USER_COUNT);
    writeConfig({ bases: [BULK_DN], groups: [ALL_BULK_DN] });
    expect(await dryRunRows()).toHaveLength(everyone.length);
  });

  it("uploads a person found under two overlapping bases once", async () => {
    writeConfig({ bases: [OFFICES_DN, TORONTO_DN] });
    expect(await dryRunRows()).toEqual(expectedRows({ bases: [OFFICES_DN] }));
  });

  it("disables people whose accounts are disabled or moved out of scope in AD on the next run", async () => {
    writeConfig({ bases: [OFFICES_DN] });
    expect((await run([])).code).toBe(0);
    const [toDisable, toMove] = seed
      .peopleUnder(TORONTO_DN)
      .filter((person) => person.enabled && person.attributes.mail && !person.cn.includes(","));
    if (!toDisable || !toMove) throw new Error("the seed needs two plain Toronto people");
    const movedDn = `CN=${toMove.cn},${BULK_DN}`;
    await asAdmin(async (client) => {
      await client.modify(toDisable.dn, [
        new Change({
          operation: "replace",
          modification: new Attribute({ type: "userAccountControl", values: ["546"] }),
        }),
      ]);
      await client.modifyDN(toMove.dn, movedDn);
    });
    try {
      const result = await run(["--json"]);
      expect(result.code).toBe(0);
      const target = JSON.parse(result.stdout).targets[0];
      const disabled = target.disabled.map((row: Row) => row.EMAIL.toLowerCase()).sort();
      expect(disabled).toEqual(
        [toDisable.attributes.mail, toMove.attributes.mail].map((mail) => mail?.trim().toLowerCase()).sort(),
      );
      const book = emulator.addressBook(CLIENT);
      for (const email of disabled)
        expect(book.find((entry) => entry.EMAIL.toLowerCase() === email)?.enabled).toBe(false);
    } finally {
      await asAdmin(async (client) => {
        await client.modify(toDisable.dn, [
          new Change({
            operation: "replace",
            modification: new Attribute({
              type: "userAccountControl",
              values: [String(toDisable.userAccountControl)],
            }),
          }),
        ]);
        await client.modifyDN(movedDn, toMove.dn);
      });
    }
  });
});

describe("failures against Samba AD", () => {
  it("a wrong password and a disabled service account: exit 4 with AD's reason", async () => {
    writeConfig({ bases: [TORONTO_DN] });
    const wrong = await run(["--dry-run"], { ILOBBY_SYNC_BIND_PASSWORD: "not-the-password" });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/bind password is wrong/);
    writeConfig({ bases: [TORONTO_DN] }, { bindDn: dc.disabledServiceAccount.upn });
    const disabled = await run(["--dry-run"], {
      ILOBBY_SYNC_BIND_PASSWORD: dc.disabledServiceAccount.password,
    });
    expect(disabled.code).toBe(4);
    expect(disabled.stderr).toMatch(/bind account is disabled/);
  });

  it("refuses a certificate from another CA and a host name not in the certificate", async () => {
    writeConfig({ bases: [TORONTO_DN] }, { caFile: dc.otherCaFile });
    const otherCa = await run(["--dry-run"]);
    expect(otherCa.code).toBe(4);
    expect(otherCa.stderr).toMatch(/certificate is not trusted/);
    writeConfig({ bases: [TORONTO_DN] }, { url: dc.mismatchUrl });
    const mismatch = await run(["--dry-run"]);
    expect(mismatch.code).toBe(4);
    expect(mismatch.stderr).toMatch(/does not match the host name/);
  });

  it("fails over from a dead first URL to the live DC", async () => {
    writeConfig({ bases: [TORONTO_DN] }, { url: ["ldaps://localhost:1", dc.ldapsUrl] });
    expect(await dryRunRows()).toEqual(expectedRows({ bases: [TORONTO_DN] }));
  });

  it("a search base that does not exist: exit 4 naming it", async () => {
    writeConfig({ bases: [`OU=Torronto,${OFFICES_DN}`] });
    const result = await run(["--dry-run"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/does not exist/);
  });

  it("refuses a DC that offers only TLS 1.0/1.1", async () => {
    const control = sambaDcControl(dc.controlUrl);
    await control.restart({ tlsPriority: OLD_TLS_PRIORITY });
    try {
      writeConfig({ bases: [TORONTO_DN] });
      const result = await run(["--dry-run"]);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/does not offer TLS 1.2 or newer/);
    } finally {
      await control.restart({});
    }
  });

  it("a DC killed in the middle of a paged search leaves the run failed and nothing uploaded", async () => {
    const control = sambaDcControl(dc.controlUrl);
    writeConfig({ bases: [BULK_DN], groups: [ALL_BULK_DN] }, { pageSize: 5 });
    try {
      let killed: Promise<void> | undefined;
      // Kill once the run has bound and is paging: --verbose logs the bind on stderr.
      const result = await runCli(["run", "--verbose"], {
        cwd: dir,
        env: secrets,
        timeoutMs: 110_000,
        onStderr: (text) => {
          if (!killed && text.includes("bound as")) killed = control.kill();
        },
      });
      await killed;
      expect(killed).toBeDefined();
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/failed part-way|cannot connect/);
      expect(emulator.requests).toEqual([]);
    } finally {
      await control.restart({});
    }
  });
});
