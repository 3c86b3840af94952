/**
 * Reviewed changes end to end: the built CLI as a process, the sample LDAPS directory and the iLobby emulator.
 * A shrunk directory trips the guard and saves a plan; `apply` uploads exactly that plan (byte-for-byte, without
 * reading the directory), and refuses stale, expired, altered, damaged or unconfirmed plans without uploading.
 */
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Emulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { expectedRows, SAMPLE_GROUPS, SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleConfig, type SampleWorld, startSampleWorld } from "../support/sample-world.ts";
import { runCliOnTerminal } from "../support/terminal.ts";

const CLIENT = "plans-client";
const CLIENT_SECRET = "plans-client-secret-value";
const WEST = "plans-west-client";
const WEST_SECRET = "plans-west-client-secret-value";

let world: SampleWorld;
let emulator: Emulator;
let dir: string;

function writeConfig(change: (config: SampleConfig) => void = () => {}): string {
  const config = world.config(CLIENT);
  change(config);
  return world.writeConfig(dir, config);
}
const narrowScope = (config: SampleConfig) => {
  config.directory.groups = [SAMPLE_GROUPS.hosts];
};

const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: dir, env: { ...secrets, ...env } });
const uploads = () => emulator.requests.filter((request) => request.endpoint === "upload");
const sha256 = (content: Buffer | string) => createHash("sha256").update(content).digest("hex");
const everyone = expectedRows();
const narrowed = expectedRows({ groups: [SAMPLE_GROUPS.hosts] });

/** A first full upload, then a narrowed scope that the guard stops: returns the stopped run's JSON. */
async function stoppedRun(extraArgs: string[] = []) {
  writeConfig();
  expect((await cli(["run"])).code).toBe(0);
  writeConfig(narrowScope);
  const stopped = await cli(["--json", "run", ...extraArgs]);
  expect(stopped.code, stopped.stderr).toBe(6);
  return JSON.parse(stopped.stdout);
}

/** `run --dry-run --plan plan.json` against the current config; returns the plan's path. */
async function dryRunPlan(): Promise<string> {
  const result = await cli(["run", "--dry-run", "--plan", "plan.json"]);
  expect(result.code, result.stderr).toBe(0);
  return join(dir, "plan.json");
}

beforeAll(async () => {
  world = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET, [WEST]: WEST_SECRET } });
  ({ emulator } = world);
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-plans-"));
});

describe("a run stopped by the guard", () => {
  it("saves its plan (0600, no secret in it) and prints the exact command that applies it", async () => {
    const stopped = await stoppedRun();
    const { plan } = stopped.targets[0];
    expect(plan.path).toBe(join(dir, "state", "plans", `${stopped.runId}.json`));
    expect(plan.command).toBe(`ilobby-sync --config ${join(dir, "ilobby-sync.yaml")} apply ${plan.path}`);
    expect(statSync(plan.path).mode & 0o777).toBe(0o600);
    // Its change in readable form, beside it: what the reviewer reads before approving.
    expect(plan.report).toBe(plan.path.replace(/\.json$/, ".html"));
    expect(statSync(plan.report).mode & 0o777).toBe(0o600);
    const report = readFileSync(plan.report, "utf8");
    for (const row of everyone.filter((person) => !narrowed.some((kept) => kept.EMAIL === person.EMAIL)))
      expect(report).toContain(row.EMAIL);
    const text = readFileSync(plan.path, "utf8");
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toContain(SERVICE_ACCOUNT.password);
    expect(uploads()).toHaveLength(1);

    const human = await cli(["run"]);
    expect(human.code).toBe(6);
    expect(human.stdout).toMatch(/plan saved: .*\.json/);
    expect(human.stdout).toMatch(/its report \(HTML\): .*\.html/);
    expect(human.stdout).toMatch(
      /to upload exactly this change after review: ilobby-sync --config \S+ apply \S+/,
    );
    expect(human.stderr).toMatch(
      /fix: {3}review the list .*; or review this change in \S+\.html, then upload exactly it with: ilobby-sync --config/,
    );
  });

  it("`apply --yes` uploads exactly that plan, byte for byte, even after the directory changed again", async () => {
    writeConfig();
    expect((await cli(["run"])).code).toBe(0);
    writeConfig(narrowScope);
    const stopped = await cli(["run", "--output", "planned.csv"]);
    expect(stopped.code).toBe(6);
    const command = /to upload exactly this change after review: ilobby-sync (.+)$/m.exec(
      stopped.stdout,
    )?.[1];
    if (!command) throw new Error(`no apply command in: ${stopped.stdout}`);
    // The directory changes again and cannot even be reached: apply must not read it.
    writeConfig((config) => {
      config.directory.groups = [SAMPLE_GROUPS.vancouverHosts];
      config.directory.url = "ldaps://127.0.0.1:1";
      config.log = { file: "sync.log" };
    });
    emulator.reset();
    // Nor does it need the bind password: only the client secret.
    const applied = await runCli([...command.split(" "), "--yes", "--json"], {
      cwd: dir,
      env: { ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET },
    });
    expect(applied.code, applied.stderr).toBe(0);
    const document = JSON.parse(applied.stdout);
    expect(document.targets[0]).toMatchObject({
      status: "uploaded",
      counts: { add: 0, disable: everyone.length - narrowed.length },
    });
    expect(uploads()).toHaveLength(1);
    expect(uploads()[0]?.csvSha256).toBe(sha256(readFileSync(join(dir, "planned.csv"))));
    expect(world.enabledBook(CLIENT)).toEqual(narrowed);

    // The state advanced as a run's does: the plan's scope is now the last upload.
    writeConfig(narrowScope);
    const after = JSON.parse((await cli(["--json", "run", "--dry-run"])).stdout);
    expect(after.targets[0].counts).toEqual({
      add: 0,
      update: 0,
      rename: 0,
      disable: 0,
      unchanged: narrowed.length,
    });
    // log.file got the apply's events, under its own run id.
    const events = readFileSync(join(dir, "sync.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.map((event) => event.event)).toEqual([
      "apply-started",
      "target-uploaded",
      "apply-finished",
    ]);
    expect(new Set(events.map((event) => event.runId))).toEqual(new Set([document.runId]));
    expect(events[0].planRunId).toBe(document.plan.runId);
  });

  it("deletes saved plans older than safety.planMaxAge on the next run", async () => {
    const stopped = await stoppedRun();
    const old = stopped.targets[0].plan.path as string;
    const oldReport = stopped.targets[0].plan.report as string;
    const recent = join(dir, "state", "plans", "00000000-0000-4000-8000-000000000000.json");
    writeFileSync(recent, "{}");
    const twoDaysAgo = (Date.now() - 2 * 86_400_000) / 1000;
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    utimesSync(oldReport, twoDaysAgo, twoDaysAgo);
    const notMine = join(dir, "state", "plans", "notes.json");
    writeFileSync(notMine, "{}");
    utimesSync(notMine, twoDaysAgo, twoDaysAgo);
    expect((await cli(["run", "--dry-run"])).code).toBe(0);
    expect(readdirSync(join(dir, "state", "plans")).sort()).toEqual(
      ["00000000-0000-4000-8000-000000000000.json", "notes.json"].sort(),
    );
  });
});

describe("apply refuses, uploading nothing", () => {
  it("a plan made before another upload", async () => {
    writeConfig();
    expect((await cli(["run"])).code).toBe(0);
    writeConfig(narrowScope);
    const plan = await dryRunPlan();
    expect((await cli(["run", "--force"])).code).toBe(0);
    emulator.reset();
    const result = await cli(["apply", plan, "--yes"]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/the last upload is no longer the one this plan was computed against/);
    expect(result.stderr).toMatch(/fix: {3}make a new plan/);
    expect(emulator.requests).toEqual([]);
  });

  it("a plan older than safety.planMaxAge", async () => {
    writeConfig((config) => {
      config.safety = { planMaxAge: "1s" };
    });
    const plan = await dryRunPlan();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const result = await cli(["apply", plan, "--yes"]);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(
      /was made \d+ s ago, longer than safety.planMaxAge \(1s\): nothing was uploaded/,
    );
    expect(emulator.requests).toEqual([]);
  });

  it("an altered, truncated, foreign or unreadable plan: a clear error, never a crash", async () => {
    writeConfig();
    const plan = await dryRunPlan();
    const original = readFileSync(plan, "utf8");
    const cases: [name: string, content: string | undefined, code: number, message: RegExp][] = [
      [
        "altered",
        original.replace(everyone[0]?.EMAIL as string, "intruder@evil.test"),
        6,
        /no longer match its own checksum/,
      ],
      ["truncated", original.slice(0, Math.floor(original.length / 2)), 2, /cut short/],
      ["foreign", JSON.stringify({ terraform_version: "1.9.0" }), 2, /not an ilobby-sync plan/],
      ["version", original.replace('"version":1', '"version":99'), 2, /format version 99/],
      ["empty", "", 2, /not JSON/],
      ["a folder", undefined, 2, /it is a folder|not a regular file/],
    ];
    for (const [name, content, code, message] of cases) {
      const path = join(dir, `${name}.json`);
      if (content === undefined) mkdirSync(path);
      else writeFileSync(path, content);
      const result = await cli(["apply", path, "--yes"]);
      expect(result.code, `${name}: ${result.stderr}`).toBe(code);
      expect(result.stderr, name).toMatch(message);
      expect(result.stderr, name).not.toMatch(/internal error|at .*\.cjs/);
    }
    const missing = await cli(["apply", join(dir, "missing.json"), "--yes"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/there is no such file/);
    expect(emulator.requests).toEqual([]);
  });

  it("without --yes when no one is at a terminal", async () => {
    writeConfig();
    const plan = await dryRunPlan();
    const result = await cli(["apply", plan], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/apply needs --yes when no one is at a terminal/);
    expect(emulator.requests).toEqual([]);
  });

  it("an empty plan without --allow-empty", async () => {
    writeConfig((config) => {
      config.directory.filter = "(title=Astronaut)";
    });
    const plan = await dryRunPlan();
    const refused = await cli(["apply", plan, "--yes"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/the plan's upload is empty/);
    expect(emulator.requests).toEqual([]);
    const allowed = await cli(["apply", plan, "--yes", "--allow-empty"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(uploads()[0]?.rows).toBe(0);
  });
});

describe("apply at a terminal", () => {
  it("shows the change and uploads once the person types yes; anything else uploads nothing", async () => {
    writeConfig();
    expect((await cli(["run"])).code).toBe(0);
    writeConfig(narrowScope);
    const plan = await dryRunPlan();
    emulator.reset();
    const declined = await runCliOnTerminal(["apply", plan], [['Type "yes" to confirm', "no\r"]], {
      cwd: dir,
      env: secrets,
    });
    expect(declined.code).toBe(6);
    expect(declined.terminal).toMatch(/not confirmed: nothing was uploaded/);
    expect(emulator.requests).toEqual([]);

    const confirmed = await runCliOnTerminal(["apply", plan], [['Type "yes" to confirm', "yes\r"]], {
      cwd: dir,
      env: secrets,
    });
    expect(confirmed.code, confirmed.terminal).toBe(0);
    expect(confirmed.terminal).toMatch(/add 0, update \d+, disable \d+/);
    expect(confirmed.terminal).toMatch(/- \S+@example\.test {2}\(will be disabled\)/);
    expect(uploads()).toHaveLength(1);
    expect(world.enabledBook(CLIENT)).toEqual(narrowed);
  });
});

describe("apply with several targets", () => {
  it("--target applies one target of the plan; the other stays applicable until its own last upload changes", async () => {
    writeConfig((config) => {
      delete config.ilobby.clientId;
      config.targets = [
        { name: "east", clientId: CLIENT, sites: ["Toronto", "Montreal"] },
        { name: "west", clientId: WEST, sites: ["Vancouver"] },
      ];
    });
    const plan = await dryRunPlan();
    const env = {
      ILOBBY_SYNC_CLIENT_SECRET_EAST: CLIENT_SECRET,
      ILOBBY_SYNC_CLIENT_SECRET_WEST: WEST_SECRET,
    };
    const west = await cli(["--json", "apply", plan, "--yes", "--target", "west"], env);
    expect(west.code, west.stderr).toBe(0);
    expect(JSON.parse(west.stdout).targets.map((target: { target: string }) => target.target)).toEqual([
      "west",
    ]);
    expect(uploads().map((request) => request.clientId)).toEqual([WEST]);
    expect(new Set(world.enabledBook(WEST).map((row) => row.SITE))).toEqual(new Set(["Vancouver"]));
    expect(world.enabledBook(CLIENT)).toEqual([]);

    // The whole plan now includes a target whose last upload changed: nothing at all is uploaded.
    const both = await cli(["apply", plan, "--yes"], env);
    expect(both.code).toBe(6);
    expect(both.stderr).toMatch(/target west: the last upload is no longer the one/);
    expect(uploads()).toHaveLength(1);

    const east = await cli(["apply", plan, "--yes", "--target", "east"], env);
    expect(east.code, east.stderr).toBe(0);
    expect(uploads().map((request) => request.clientId)).toEqual([WEST, CLIENT]);
    expect(new Set(world.enabledBook(CLIENT).map((row) => row.SITE))).toEqual(
      new Set(["Toronto", "Montreal"]),
    );
  });
});
