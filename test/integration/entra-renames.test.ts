/**
 * Renames with Microsoft Entra ID as the source: the user's Graph `id` is the stable id kept in the state, so a
 * changed `mail` is reported as renamed old -> new. The built CLI against the Graph and iLobby emulators.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { ENTRA_SECRET, type EntraWorld, startEntraWorld } from "../support/entra-world.ts";

const ILOBBY_CLIENT = "entra-renames-client";
const ILOBBY_SECRET = "entra-renames-ilobby-secret";
const secrets = { ILOBBY_SYNC_ENTRA_CLIENT_SECRET: ENTRA_SECRET, ILOBBY_SYNC_CLIENT_SECRET: ILOBBY_SECRET };

let world: EntraWorld;
let dir: string;

const run = (args: string[]) => runCli(["run", ...args], { cwd: dir, env: secrets, timeoutMs: 90_000 });

beforeAll(async () => {
  world = await startEntraWorld({ ilobbyClients: { [ILOBBY_CLIENT]: ILOBBY_SECRET } });
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ilobby-entra-renames-"));
});

describe("renames from Entra ID", () => {
  it("reports a user whose mail changed as renamed old -> new, keyed by the Graph id", async () => {
    world.writeConfig(dir, world.config(ILOBBY_CLIENT));
    const first = await run([]);
    expect(first.code, first.stderr).toBe(0);
    const uploaded = new Set(world.ilobby.addressBook(ILOBBY_CLIENT).map((entry) => entry.EMAIL));
    const user = world.facts.tenant.users.find((candidate) => candidate.mail && uploaded.has(candidate.mail));
    if (!user?.mail) throw new Error("the sample tenant needs an uploaded user with a mail");
    const oldMail = user.mail;
    const newMail = `renamed.${oldMail}`;
    user.mail = newMail;
    try {
      const preview = await run(["--dry-run", "--json"]);
      expect(preview.code, preview.stderr).toBe(0);
      const target = JSON.parse(preview.stdout).targets[0];
      expect(target.counts).toMatchObject({ add: 0, rename: 1, disable: 0 });
      expect(target.renamed).toEqual([
        {
          stableId: user.id,
          from: expect.objectContaining({ EMAIL: oldMail }),
          to: expect.objectContaining({ EMAIL: newMail }),
        },
      ]);
    } finally {
      user.mail = oldMail;
    }
  });
});
