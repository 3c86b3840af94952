/**
 * Reviewed changes against a real AD-compatible directory: the built CLI, the Samba AD DC of the global setup and
 * the iLobby emulator. Accounts disabled in AD shrink the directory, the guard stops the run and saves a plan, the
 * accounts come back, and `apply --yes` still uploads exactly the reviewed plan, byte for byte.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Attribute, Change, Client } from "ldapts";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { buildSeed, OFFICES_DN, TORONTO_DN } from "./seed.ts";

const dc = inject("sambaDc");
const seed = buildSeed();
const CLIENT = "ad-plans-client";
const CLIENT_SECRET = "ad-plans-client-secret-value";

let emulator: Emulator;
let dir: string;

const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: dc.serviceAccount.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};
const mailOf = (person: { attributes: { mail?: string } }) => person.attributes.mail?.trim().toLowerCase();
/** The state's rows: lower-case EMAIL -> the stable id (objectGUID) stored after the row's eight values. */
function storedGuids(): Map<string, string | undefined> {
  const [, ...lines] = readFileSync(join(dir, "state", "default.last-upload.json"), "utf8")
    .trimEnd()
    .split("\n");
  return new Map(
    lines
      .map((line) => JSON.parse(line) as string[])
      .map((values) => [values[4]?.toLowerCase() as string, values[8]]),
  );
}
const cli = (args: string[]) => runCli(args, { cwd: dir, env: secrets, timeoutMs: 110_000 });
const uploads = () => emulator.requests.filter((request) => request.endpoint === "upload");
const enabledEmails = () =>
  emulator
    .addressBook(CLIENT)
    .filter((entry) => entry.enabled)
    .map((entry) => entry.EMAIL.toLowerCase());

async function setAccountControl(changes: { dn: string; value: number }[]): Promise<void> {
  const client = new Client({
    url: dc.ldapsUrl,
    tlsOptions: { ca: readFileSync(dc.caFile), minVersion: "TLSv1.2" },
  });
  try {
    await client.bind(dc.adminUpn, dc.adminPassword);
    for (const { dn, value } of changes) {
      await client.modify(dn, [
        new Change({
          operation: "replace",
          modification: new Attribute({ type: "userAccountControl", values: [String(value)] }),
        }),
      ]);
    }
  } finally {
    await client.unbind();
  }
}

beforeAll(async () => {
  emulator = await startEmulator({ clients: { [CLIENT]: CLIENT_SECRET } });
  dir = mkdtempSync(join(tmpdir(), "ilobby-ad-plans-"));
  writeFileSync(
    join(dir, "ilobby-sync.yaml"),
    stringify({
      ilobby: { clientId: CLIENT, baseUrl: emulator.url, caFile: emulator.caFile },
      directory: {
        url: dc.ldapsUrl,
        bindDn: dc.serviceAccount.upn,
        caFile: dc.caFile,
        searchBases: [OFFICES_DN],
      },
      stateDir: "state",
      // The offices hold a dozen people: any disable above one of them stops the run.
      safety: { maxDisable: "10%", ignoreUpTo: 0 },
    }),
  );
});
afterAll(async () => {
  await emulator?.stop();
});

describe("reviewed changes against Samba AD", () => {
  it("a shrunk directory trips the guard and saves a plan; apply uploads exactly it after AD changed back", async () => {
    const first = await cli(["run"]);
    expect(first.code, first.stderr).toBe(0);
    const everyone = enabledEmails();
    const guidsBefore = storedGuids();
    expect([...guidsBefore.values()].every((guid) => guid && /^[0-9a-f-]{36}$/.test(guid))).toBe(true);
    const leaving = seed
      .peopleUnder(TORONTO_DN)
      .filter((person) => person.enabled && person.attributes.mail && !person.cn.includes(","))
      // Only addresses nobody else in the offices shares: a duplicate would take over the address.
      .filter(
        (person) =>
          seed.peopleUnder(OFFICES_DN).filter((other) => mailOf(other) === mailOf(person)).length === 1,
      );
    expect(leaving.length).toBeGreaterThan(1);
    const leavingEmails = leaving.map(mailOf);

    await setAccountControl(leaving.map((person) => ({ dn: person.dn, value: 546 })));
    let stopped: Awaited<ReturnType<typeof cli>>;
    try {
      stopped = await cli(["--json", "run", "--output", "planned.csv"]);
    } finally {
      // The directory changes again: everyone is back before the plan is applied.
      await setAccountControl(leaving.map((person) => ({ dn: person.dn, value: person.userAccountControl })));
    }
    expect(stopped.code, stopped.stderr).toBe(6);
    const target = JSON.parse(stopped.stdout).targets[0];
    expect(target.disabled.map((row: { EMAIL: string }) => row.EMAIL.toLowerCase()).sort()).toEqual(
      [...leavingEmails].sort(),
    );
    expect(uploads()).toHaveLength(1);

    const applied = await cli(["apply", target.plan.path, "--yes"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(uploads()).toHaveLength(2);
    const sent = uploads()[1]?.csvSha256;
    expect(sent).toBe(
      createHash("sha256")
        .update(readFileSync(join(dir, "planned.csv")))
        .digest("hex"),
    );
    expect(enabledEmails().sort()).toEqual(everyone.filter((email) => !leavingEmails.includes(email)).sort());
    // The state is saved as a run saves it: each row keeps its person's objectGUID (for rename detection).
    const guidsAfter = storedGuids();
    expect(guidsAfter.size).toBe(everyone.length - leavingEmails.length);
    for (const [email, guid] of guidsAfter) expect(guid).toBe(guidsBefore.get(email));

    // The same plan again: its last upload is gone (apply itself uploaded since), so it is refused.
    const again = await cli(["apply", target.plan.path, "--yes"]);
    expect(again.code).toBe(6);
    expect(again.stderr).toMatch(/no longer the one this plan was computed against/);
    expect(uploads()).toHaveLength(2);

    // A new run reads AD as it is now: the returning people are added back.
    const next = JSON.parse((await cli(["--json", "run", "--dry-run"])).stdout).targets[0];
    expect(next.added.map((row: { EMAIL: string }) => row.EMAIL.toLowerCase()).sort()).toEqual(
      [...leavingEmails].sort(),
    );
  });
});
