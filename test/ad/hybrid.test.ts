/**
 * Hybrid: the Samba AD DC and the Entra ID emulator in one sync (`directory` as a list), through the built CLI.
 * Sources are read in order and merged by EMAIL (case-insensitive): the first source that has a person wins and
 * the duplicate is reported; a `mapping` inside a source block applies to that source only; a failing source
 * aborts the whole run.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import type { Row } from "../../src/core/columns.ts";
import { runCli } from "../support/cli.ts";
import { ENTRA_SECRET, type EntraWorld, startEntraWorld } from "../support/entra-world.ts";
import { buildSeed, OFFICES_DN } from "./seed.ts";

const dc = inject("sambaDc");
const seed = buildSeed();
const CLIENT = "hybrid-client";
const CLIENT_SECRET = "hybrid-client-secret-value";

let world: EntraWorld;
let dir: string;

const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: dc.serviceAccount.password,
  ILOBBY_SYNC_ENTRA_CLIENT_SECRET: ENTRA_SECRET,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};
const run = (args: string[]) => runCli(["run", ...args], { cwd: dir, env: secrets, timeoutMs: 110_000 });

function writeHybridConfig(entraBlock: Record<string, unknown> = {}): void {
  const entra = world.config(CLIENT).directory;
  const config = {
    ilobby: { clientId: CLIENT, baseUrl: world.ilobby.url, caFile: world.ilobby.caFile },
    directory: [
      { url: dc.ldapsUrl, bindDn: dc.serviceAccount.upn, caFile: dc.caFile, searchBases: [OFFICES_DN] },
      { ...entra, ...entraBlock },
    ],
    stateDir: "state",
  };
  writeFileSync(join(dir, "ilobby-sync.yaml"), stringify(config));
}

/** Enabled people of the offices in AD, by lower-case EMAIL (the seed says who they are). */
function adEmails(): Set<string> {
  return new Set(
    seed
      .peopleUnder(OFFICES_DN)
      .filter((person) => person.enabled)
      .map((person) => (person.attributes.mail?.trim() || person.userPrincipalName).toLowerCase()),
  );
}

beforeAll(async () => {
  world = await startEntraWorld({ ilobbyClients: { [CLIENT]: CLIENT_SECRET } });
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  world.graph.reset();
  world.ilobby.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-hybrid-"));
});

describe("AD + Entra ID in one sync", () => {
  it("uploads both, merged by EMAIL: AD (first) wins a person both have, and the duplicate is reported", async () => {
    writeHybridConfig();
    const result = await run(["--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    const emails = summary.rows.map((row: Row) => row.EMAIL.toLowerCase());
    const ad = adEmails();
    const expected = new Set([...ad, ...world.facts.allStaffEmails]);
    expect(new Set(emails)).toEqual(expected);
    expect(emails).toHaveLength(expected.size);
    // Alice is in both: AD's record (the first source) is uploaded, the Entra one reported as a duplicate.
    const alice = summary.rows.find(
      (row: Row) => row.EMAIL.toLowerCase() === "alice.martin@corp.example.test",
    );
    expect(alice.LASTNAME).toBe("Martin");
    expect(alice.TITLE).toBe("Receptionist");
    const duplicate = summary.skipped.find(
      (skip: { email: string; reason: string }) => skip.email === "Alice.Martin@CORP.example.test",
    );
    expect(duplicate).toMatchObject({ reason: "duplicate-email" });
    expect(duplicate.message).toMatch(/earlier source/);
    // Derek is disabled in AD, so only Entra has him: he comes from Entra.
    const derek = summary.rows.find(
      (row: Row) => row.EMAIL.toLowerCase() === "derek.olsen@corp.example.test",
    );
    expect(derek.LASTNAME).toBe("Olsen (Entra)");
    const upload = await run([]);
    expect(upload.code, upload.stderr).toBe(0);
    const book = world.ilobby.addressBook(CLIENT).filter((entry) => entry.enabled);
    expect(book.map((entry) => entry.EMAIL.toLowerCase()).sort()).toEqual([...expected].sort());
  });

  it("applies a source block's own mapping to that source only", async () => {
    writeHybridConfig({ mapping: { SITE: { value: "Cloud" }, TITLE: "department" } });
    const result = await run(["--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const rows: Row[] = JSON.parse(result.stdout).rows;
    const zoe = rows.find((row) => row.EMAIL === "zoe.lefevre@cloud.example.test");
    expect(zoe).toMatchObject({ SITE: "Cloud", TITLE: "Advisory", FIRSTNAME: "Zoë" });
    const alice = rows.find((row) => row.EMAIL.toLowerCase() === "alice.martin@corp.example.test");
    expect(alice).toMatchObject({ SITE: "TOR-3F", TITLE: "Receptionist" });
  });

  it("aborts the whole run, uploading nothing, when one source fails", async () => {
    writeHybridConfig();
    world.graph.queueFault({ endpoint: "graph", page: 2, fault: { kind: "status", status: 500 } });
    const result = await run([]);
    expect(result.code).toBe(4);
    expect(world.ilobby.requests).toEqual([]);
    // No last upload was recorded (the state directory holds at most the run's lock).
    const state = join(dir, "state");
    const files = existsSync(state) ? readdirSync(state, { recursive: true }).map(String) : [];
    expect(files.filter((file) => !file.includes("lock"))).toEqual([]);
  });
});
