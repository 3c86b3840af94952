/**
 * Host data iLobby acts on, read from the Samba AD DC by the built CLI: phone numbers as people type them, sent
 * in E.164 (the expected numbers are written here by hand from the numbering plans, not computed by the library),
 * and a person whose mail changes, seen as a rename through the objectGUID kept in the state.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attribute, Change, Client } from "ldapts";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { COLUMNS, type Row } from "../../src/core/columns.ts";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { buildSeed, DNS_DOMAIN, HOST_DATA_DN } from "./seed.ts";

const dc = inject("sambaDc");
const CLIENT = "host-data-client";
const CLIENT_SECRET = "host-data-client-secret-value";
const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: dc.serviceAccount.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};

let emulator: Emulator;
let dir: string;

const PHONES = {
  format: "e164",
  defaultCountry: "CA",
  countryBySite: { London: "GB", Sydney: "AU", Paris: "FR" },
};

function writeConfig(phones: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}): void {
  const config = {
    ilobby: { clientId: CLIENT, baseUrl: emulator.url, caFile: emulator.caFile },
    directory: {
      url: dc.ldapsUrl,
      bindDn: dc.serviceAccount.upn,
      caFile: dc.caFile,
      searchBases: [HOST_DATA_DN],
    },
    ...(phones ? { phones } : {}),
    stateDir: "state",
    ...extra,
  };
  writeFileSync(join(dir, "ilobby-sync.yaml"), stringify(config));
}

const run = (args: string[]) => runCli(["run", ...args], { cwd: dir, env: secrets, timeoutMs: 110_000 });

const mail = (localPart: string) => `${localPart}@${DNS_DOMAIN}`;

/** EMAIL -> [MOBILE, DESKPHONE] as iLobby must receive them with phones: { format: e164 }. */
const E164: Record<string, [mobile: string, deskphone: string]> = {
  // (416) 555-0142 x204: the extension is dropped; 416.555.0143: NANP national number.
  [mail("hugo.laurent")]: ["+14165550143", "+14165550142"],
  // 1 (514) 555-0130: the NANP trunk prefix 1 is the country code.
  [mail("mei.chen")]: ["+15145550131", "+15145550130"],
  // 011 61 491 570 157 (NANP international prefix); 0044 20 7946 0321 (00 read as "+").
  [mail("omar.farouk")]: ["+61491570157", "+442079460321"],
  // London: 020 drops its trunk 0 after +44, and so does "+44 (0)20".
  [mail("fiona.walsh")]: ["+442079460958", "+442079460959"],
  // Sydney: 0491 570 156 (mobile) and (02) 5550 1234 drop the trunk 0 after +61.
  [mail("liam.murphy")]: ["+61491570156", "+61255501234"],
  // Paris: 01 99 00 12 34 drops the trunk 0 after +33.
  [mail("camille.roux")]: ["", "+33199001234"],
  // "ask reception" and 555-0199 (no area code) are not numbers: sent empty.
  [mail("ana.souza")]: ["", ""],
  // Berlin has no country of its own: 030 23125 456 read as Canadian is no number.
  [mail("jonas.weber")]: ["", ""],
  [mail("ingrid.berg")]: ["+14165550150", ""],
};

beforeAll(async () => {
  emulator = await startEmulator({ clients: { [CLIENT]: CLIENT_SECRET } });
});
afterAll(async () => {
  await emulator?.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-ad-host-data-"));
});

describe("phone numbers from Samba AD", () => {
  it("sends E.164 with the country of each SITE, and reports every dropped number with its person", async () => {
    writeConfig(PHONES);
    const result = await run(["--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    const sent = Object.fromEntries(
      (summary.rows as Row[]).map((row) => [row.EMAIL, [row.MOBILE, row.DESKPHONE]]),
    );
    expect(sent).toEqual(E164);
    const reported = summary.phones.map(
      (report: { email: string; column: string; raw: string; problem: string; sent: string }) => [
        report.email,
        report.column,
        report.raw,
        report.problem,
        report.sent,
      ],
    );
    expect(reported).toEqual([
      [mail("ana.souza"), "MOBILE", "ask reception", "invalid", ""],
      [mail("ana.souza"), "DESKPHONE", "555-0199", "invalid", ""],
      [mail("fiona.walsh"), "MOBILE", "020 7946 0958", "fixed-line-mobile", "+442079460958"],
      [mail("hugo.laurent"), "DESKPHONE", "(416) 555-0142 x204", "extension-dropped", "+14165550142"],
      [mail("jonas.weber"), "DESKPHONE", "030 23125 456", "invalid", ""],
    ]);
    expect(summary.phonesByProblem).toEqual({
      invalid: 3,
      "fixed-line-mobile": 1,
      "extension-dropped": 1,
    });
    expect(summary.phones[0].ref).toBe(`CN=Ana Souza,${HOST_DATA_DN}`);

    const human = await run(["--dry-run"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain("Phones:    3 invalid, 1 fixed-line MOBILE, 1 extension dropped");
    expect(human.stdout).toContain(
      `fiona.walsh@${DNS_DOMAIN} (CN=Fiona Walsh,${HOST_DATA_DN}): MOBILE "020 7946 0958" is a fixed line, not a mobile: SMS notifications cannot reach it`,
    );
    expect(human.stdout).toContain(
      `MOBILE "ask reception" has no digits: it is not a phone number; sent empty, so iLobby keeps what it has`,
    );
  });

  it("doctor counts the numbers phones would rewrite and the invalid ones", async () => {
    writeConfig(PHONES);
    const result = await runCli(["doctor", "--json"], { cwd: dir, env: secrets, timeoutMs: 110_000 });
    const coverage = JSON.parse(result.stdout).checks.find(
      (check: { id: string }) => check.id === "coverage",
    );
    // 15 numbers in OU=Host Data, none written exactly as E.164; Ana's two and Jonas's one are invalid.
    expect(coverage.details).toContain(
      "phone numbers (phones.format e164): 15 of 15 would be rewritten, 3 invalid, 1 MOBILE on a fixed line",
    );
    expect(coverage.status).toBe("warn");
    expect(coverage.summary).toContain("3 invalid phone numbers");
  });

  it("keeps extensions and invalid numbers when told to, uploads them, and logs every report", async () => {
    writeConfig({ ...PHONES, extensions: "keep", invalid: "keep" }, { log: { file: "sync.log" } });
    const result = await run([]);
    expect(result.code, result.stderr).toBe(0);
    const book = Object.fromEntries(
      emulator
        .addressBook(CLIENT)
        .filter((entry) => entry.enabled)
        .map((entry) => [entry.EMAIL, [entry.MOBILE, entry.DESKPHONE]]),
    );
    expect(book).toEqual({
      ...E164,
      [mail("hugo.laurent")]: ["+14165550143", "+14165550142;ext=204"],
      [mail("ana.souza")]: ["ask reception", "555-0199"],
      [mail("jonas.weber")]: ["", "030 23125 456"],
    });
    const events = readFileSync(join(dir, "sync.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const logged = events.find((event) => event.event === "phone-numbers");
    expect(
      logged.reports.map((report: { email: string; raw: string; sent: string }) => [
        report.email,
        report.raw,
        report.sent,
      ]),
    ).toEqual([
      [mail("ana.souza"), "ask reception", "ask reception"],
      [mail("ana.souza"), "555-0199", "555-0199"],
      [mail("fiona.walsh"), "020 7946 0958", "+442079460958"],
      [mail("jonas.weber"), "030 23125 456", "030 23125 456"],
    ]);
  });
});

/** Sets the person's mail, as an administrator does in AD. */
async function setMail(dn: string, mail: string): Promise<void> {
  const client = new Client({
    url: dc.ldapsUrl,
    tlsOptions: { ca: readFileSync(dc.caFile), minVersion: "TLSv1.2" },
  });
  try {
    await client.bind(dc.adminUpn, dc.adminPassword);
    await client.modify(dn, [
      new Change({ operation: "replace", modification: new Attribute({ type: "mail", values: [mail] }) }),
    ]);
  } finally {
    await client.unbind();
  }
}

describe("renames in Samba AD", () => {
  const person = buildSeed().people.find((candidate) => candidate.sAMAccountName === "iberg");
  if (!person?.attributes.mail) throw new Error("the seed needs Ingrid Berg with a mail");
  const oldMail = person.attributes.mail;
  const newMail = mail("ingrid.lund");

  it("reports a changed mail as renamed old -> new, outside the disable guard, and iLobby gets the new entry", async () => {
    // No disable at all is allowed: a rename must not trip the guard.
    writeConfig(undefined, { safety: { maxDisable: 0, ignoreUpTo: 0 }, log: { file: "sync.log" } });
    const first = await run([]);
    expect(first.code, first.stderr).toBe(0);
    await setMail(person.dn, newMail);
    try {
      const preview = await run(["--dry-run", "--json"]);
      expect(preview.code, preview.stderr).toBe(0);
      const target = JSON.parse(preview.stdout).targets[0];
      expect(target.counts).toMatchObject({ add: 0, rename: 1, disable: 0 });
      expect(target.renamed).toHaveLength(1);
      expect(target.renamed[0].from.EMAIL).toBe(oldMail);
      expect(target.renamed[0].to.EMAIL).toBe(newMail);
      expect(target.renamed[0].stableId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
      );

      const human = await run(["--dry-run"]);
      expect(human.stdout).toContain(`> renamed ${oldMail} -> ${newMail}`);
      expect(human.stdout).toContain("it disables the old entry and creates a new one");

      const second = await run([]);
      expect(second.code, second.stderr).toBe(0);
      const book = emulator.addressBook(CLIENT);
      expect(book.find((entry) => entry.EMAIL === oldMail)?.enabled).toBe(false);
      expect(book.find((entry) => entry.EMAIL === newMail)?.enabled).toBe(true);
      const planned = readFileSync(join(dir, "sync.log"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .filter((event) => event.event === "target-planned");
      expect(planned.at(-1)).toMatchObject({
        renamed: 1,
        disabled: 0,
        renames: [{ from: oldMail, to: newMail }],
      });
    } finally {
      await setMail(person.dn, oldMail);
    }
  });

  it("reads a state file written before ids were kept: an add and a disable, then a rename after one upload", async () => {
    writeConfig(undefined);
    const first = await run(["--dry-run", "--json"]);
    const rows: Row[] = JSON.parse(first.stdout).rows;
    // The state file format of 0.1.0: rows without ids.
    mkdirSync(join(dir, "state"), { recursive: true });
    writeFileSync(
      join(dir, "state", "default.last-upload.json"),
      JSON.stringify({
        version: 1,
        target: "default",
        clientId: CLIENT,
        baseUrl: emulator.url,
        uploadedAt: "2026-12-01T06:00:00.000Z",
        runId: "before-ids",
        columns: COLUMNS,
        rows: rows.map((row) => COLUMNS.map((column) => row[column])),
      }),
    );
    await setMail(person.dn, newMail);
    try {
      const preview = await run(["--dry-run", "--json"]);
      expect(preview.code, preview.stderr).toBe(0);
      expect(preview.stderr).not.toContain("warning");
      const target = JSON.parse(preview.stdout).targets[0];
      expect(target.previous).toBe("found");
      expect(target.counts).toMatchObject({ add: 1, rename: 0, disable: 1 });

      expect((await run([])).code).toBe(0);
      await setMail(person.dn, oldMail);
      const back = JSON.parse((await run(["--dry-run", "--json"])).stdout).targets[0];
      expect(back.counts).toMatchObject({ add: 0, rename: 1, disable: 0 });
      expect(back.renamed[0].to.EMAIL).toBe(oldMail);
    } finally {
      await setMail(person.dn, oldMail);
    }
  });
});
