/**
 * Host data iLobby acts on, read from the Samba AD DC by the built CLI: phone numbers as people type them, sent
 * in E.164. The expected numbers are written here by hand from the numbering plans, not computed by the library.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import type { Row } from "../../src/core/columns.ts";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { DNS_DOMAIN, HOST_DATA_DN } from "./seed.ts";

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

function writeConfig(phones: Record<string, unknown>, extra: Record<string, unknown> = {}): void {
  const config = {
    ilobby: { clientId: CLIENT, baseUrl: emulator.url, caFile: emulator.caFile },
    directory: {
      url: dc.ldapsUrl,
      bindDn: dc.serviceAccount.upn,
      caFile: dc.caFile,
      searchBases: [HOST_DATA_DN],
    },
    phones,
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
