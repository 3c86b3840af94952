/**
 * The use cases called directly, with in-memory fakes of every port (test/app/fakes.ts): what `run` and `upload`
 * decide and send, what they save, and what they refuse, without a process, a network or a file.
 */
import { describe, expect, it } from "vitest";
import { deliverToTarget, planSync, runSync } from "../../src/app/run-sync.ts";
import type { Row } from "../../src/core/columns.ts";
import { toCsv } from "../../src/core/csv.ts";
import { SyncError } from "../../src/core/errors.ts";
import { resolveTargets } from "../../src/core/targets.ts";
import { testRow } from "../support/rows.ts";
import {
  BASE_CONFIG,
  configFrom,
  dependencies,
  memorySource,
  memoryState,
  memoryTargets,
  person,
} from "./fakes.ts";

const config = configFrom(BASE_CONFIG);
const options = (overrides: Partial<Parameters<typeof runSync>[1]> = {}) => ({
  runId: "run-1",
  dryRun: false,
  allowEmpty: false,
  force: false,
  safety: config.safety,
  ...overrides,
});
const staff = (count: number, from = 0) =>
  Array.from({ length: count }, (_, index) =>
    person(
      `Person${String(from + index).padStart(3, "0")} Staff`,
      { title: "Host" },
      { stableId: `guid-${from + index}` },
    ),
  );
const emails = (csv: string) =>
  csv
    .trimEnd()
    .split("\r\n")
    .slice(1)
    .map((line) => line.split(",")[4]);

describe("runSync", () => {
  it("maps every page, uploads one CSV sorted by EMAIL and saves it with each record's stable id", async () => {
    const people = staff(7);
    const source = memorySource([people.slice(4), people.slice(0, 4)]);
    const state = memoryState();
    const targets = memoryTargets();
    const result = await runSync(config, options(), dependencies(source, state, targets));

    expect(result.exitCode).toBe(0);
    expect(source.pagesRead).toBe(2);
    expect(targets.sent).toHaveLength(1);
    const csv = targets.sent[0]?.csv as string;
    expect(csv).toBe(toCsv(result.plan.rows.slice()));
    expect(emails(csv)).toEqual([...emails(csv)].sort());
    const saved = state.saved.get("default");
    expect(saved?.rows.map((stored) => stored.stableId)).toEqual(people.map((record) => record.stableId));
    expect(saved?.rows.map((stored) => stored.row.EMAIL)).toEqual(emails(csv));
    expect(csv).not.toContain("guid-"); // stable ids go to the state, never to iLobby
  });

  it("compares the next run with the saved upload: added, updated, disabled and unchanged", async () => {
    const state = memoryState();
    const targets = memoryTargets();
    await runSync(config, options(), dependencies(memorySource([staff(20)]), state, targets));
    const next = staff(20).slice(1); // Person000 left
    next[0] = person("Person001 Staff", { title: "Manager" }, { stableId: "guid-1" });
    next.push(person("Newcomer Staff"));
    const result = await runSync(config, options(), dependencies(memorySource([next]), state, targets));

    const outcome = result.targets[0];
    expect(outcome?.previous).toBe("found");
    expect(outcome?.diff.added.slice().map((row) => row.EMAIL)).toEqual(["newcomer.staff@example.test"]);
    expect(outcome?.diff.disabled.slice().map((row) => row.EMAIL)).toEqual(["person000.staff@example.test"]);
    expect(outcome?.diff.updated).toEqual([
      {
        email: "person001.staff@example.test",
        changes: [{ column: "TITLE", from: "Host", to: "Manager" }],
        clearedButKept: [],
      },
    ]);
    expect(outcome?.diff.unchanged).toBe(18);
    expect(state.saves).toBe(2);
  });

  it("never uploads part of a directory: a page that fails aborts the run, nothing is sent or saved", async () => {
    const state = memoryState();
    const targets = memoryTargets();
    await expect(
      runSync(
        config,
        options(),
        dependencies(memorySource([staff(3), staff(3, 3)], { failAt: 1 }), state, targets),
      ),
    ).rejects.toMatchObject({ category: "directory" });
    expect(targets.opened).toEqual([]);
    expect(state.saves).toBe(0);
  });

  it("stops a target whose run would disable too many hosts, and leaves its state as it was", async () => {
    const state = memoryState();
    const targets = memoryTargets();
    await runSync(config, options(), dependencies(memorySource([staff(100)]), state, targets));
    const before = state.saved.get("default");
    const result = await runSync(config, options(), dependencies(memorySource([staff(60)]), state, targets));
    expect(result.exitCode).toBe(6);
    expect(result.targets[0]).toMatchObject({
      status: "failed",
      guard: { ok: false, reason: "too-many-disabled" },
    });
    expect(targets.sent).toHaveLength(1);
    expect(state.saved.get("default")).toBe(before);

    const forced = await runSync(
      config,
      options({ force: true }),
      dependencies(memorySource([staff(60)]), state, targets),
    );
    expect(forced.exitCode).toBe(0);
    expect(state.saved.get("default")?.rows).toHaveLength(60);
  });

  it("a dry run opens no target and saves nothing, and hands the CSV to --output in pieces", async () => {
    const state = memoryState();
    const targets = memoryTargets();
    const copies: string[] = [];
    const result = await runSync(
      config,
      options({
        dryRun: true,
        saveCsv: async (pieces) => {
          copies.push([...pieces].join(""));
        },
      }),
      dependencies(memorySource([staff(5)]), state, targets),
    );
    expect(result.targets[0]?.status).toBe("planned");
    expect(copies).toEqual([toCsv(result.plan.rows.slice())]);
    expect(targets.opened).toEqual([]);
    expect(state.saves).toBe(0);
  });

  it("splits the rows between targets by SITE; a target that fails does not stop the others", async () => {
    const split = configFrom(`
directory: { url: ldaps://dc1.example.test, bindDn: svc@example.test, searchBases: [DC=example,DC=test] }
ilobby: { baseUrl: https://api.example.test }
mapping: { SITE: l }
targets:
  - { name: east, clientId: east-id, sites: [Toronto] }
  - { name: west, clientId: west-id, sites: [Vancouver] }
`);
    const people = [
      person("Ann East", { l: "Toronto" }),
      person("Bo West", { l: "Vancouver" }),
      person("Cy Nowhere", { l: "Calgary" }),
    ];
    const state = memoryState();
    const targets = memoryTargets({
      refuse: (name) => (name === "west" ? new SyncError("ilobby", "HTTP 500 after 4 attempts") : undefined),
    });
    const result = await runSync(
      split,
      options({ safety: split.safety }),
      dependencies(memorySource([people]), state, targets),
    );
    expect(result.exitCode).toBe(9);
    expect(targets.sent.map((sent) => [sent.target, emails(sent.csv)])).toEqual([
      ["east", ["ann.east@example.test"]],
    ]);
    expect(result.plan.skipped).toEqual([
      expect.objectContaining({ reason: "no-target", email: "cy.nowhere@example.test" }),
    ]);
    expect([...state.saved.keys()]).toEqual(["east"]);
  });
});

describe("planSync", () => {
  it("asks the source for the mapped attributes and the site groups, and keeps one record per EMAIL whatever the page order", async () => {
    const grouped = configFrom(`${BASE_CONFIG}siteGroups: { "CN=Toronto,DC=example,DC=test": Toronto }\n`);
    const twin = (ref: string) => person("Same Person", {}, { ref });
    const pages = [[twin("CN=Zed,DC=example,DC=test")], [twin("CN=Amy,DC=example,DC=test")]];
    for (const order of [pages, [...pages].reverse()]) {
      const source = memorySource(order);
      const plan = await planSync(grouped, source);
      expect(source.requests[0]).toMatchObject({
        attributes: expect.arrayContaining(["givenname", "mail", "sn"]),
        siteGroups: ["CN=Toronto,DC=example,DC=test"],
      });
      expect(plan.rows.length).toBe(1);
      expect(plan.skipped).toEqual([
        expect.objectContaining({ reason: "duplicate-email", ref: "CN=Zed,DC=example,DC=test" }),
      ]);
    }
  });

  it("takes SITE from the source's placement, then its group membership, then the mapping", async () => {
    const grouped = configFrom(
      `${BASE_CONFIG}siteGroups: { "CN=Toronto,DC=example,DC=test": Toronto }\nmapping: { SITE: l }\n`,
    );
    const plan = await planSync(
      grouped,
      memorySource([
        [
          person(
            "Ann Placed",
            { l: "Calgary" },
            { site: "Montreal", groups: ["CN=Toronto,DC=example,DC=test"] },
          ),
          person("Bo Member", { l: "Calgary" }, { groups: ["cn=toronto,dc=example,dc=test"] }),
          person("Cy Office", { l: "Calgary" }),
        ],
      ]),
    );
    expect(plan.rows.slice().map((row) => [row.EMAIL.split("@")[0], row.SITE])).toEqual([
      ["ann.placed", "Montreal"],
      ["bo.member", "Toronto"],
      ["cy.office", "Calgary"],
    ]);
    expect(plan.siteSources).toEqual(["base", "group", "attribute"]);
  });
});

describe("deliverToTarget", () => {
  const [target] = resolveTargets(config);
  if (!target) throw new Error("no target");
  const row = (email: string, title = ""): Row => testRow(email, { TITLE: title, SITE: "" });
  const deliveryOptions = {
    runId: "u-1",
    dryRun: false,
    allowEmpty: false,
    force: false,
    safety: config.safety,
  };

  it("takes rows in any order (a CSV made elsewhere), sends the payload as given and saves the rows sorted", async () => {
    const state = memoryState();
    const targets = memoryTargets();
    const rows = [row("c@x.test"), row("A@x.test"), row("b@x.test")];
    const outcome = await deliverToTarget(
      target,
      rows,
      { kind: "text", text: "the checked bytes" },
      deliveryOptions,
      dependencies(memorySource([]), state, targets),
    );
    expect(outcome.status).toBe("uploaded");
    expect(targets.sent).toEqual([{ target: "default", csv: "the checked bytes" }]);
    expect(state.saved.get("default")?.rows.map((stored) => stored.row.EMAIL)).toEqual([
      "A@x.test",
      "b@x.test",
      "c@x.test",
    ]);
  });

  it("a state found damaged part-way stops the target (nothing sent); --force uploads and writes a fresh state", async () => {
    const state = memoryState();
    const targets = memoryTargets();
    const deps = dependencies(memorySource([]), state, targets);
    const first = Array.from({ length: 30 }, (_, index) => row(`p${index}@x.test`));
    await deliverToTarget(target, first, { kind: "text", text: "1" }, deliveryOptions, deps);
    state.damage("default", "part-way");
    const stopped = await deliverToTarget(
      target,
      first.slice(0, 3),
      { kind: "text", text: "2" },
      deliveryOptions,
      deps,
    );
    expect(stopped).toMatchObject({
      status: "failed",
      previous: "corrupt",
      guard: { reason: "damaged-state" },
    });
    expect(stopped.error?.message).toMatch(/row 2 is damaged/);
    expect(targets.sent).toHaveLength(1);

    const forced = await deliverToTarget(
      target,
      first.slice(0, 3),
      { kind: "text", text: "3" },
      { ...deliveryOptions, force: true },
      deps,
    );
    expect(forced.status).toBe("uploaded");
    expect(state.saved.get("default")?.rows).toHaveLength(3);
  });

  it("a last upload to another client id is not compared with: every row is new", async () => {
    const state = memoryState();
    const warnings: string[] = [];
    const deps = dependencies(memorySource([]), state, memoryTargets(), warnings);
    await deliverToTarget(target, [row("a@x.test")], { kind: "text", text: "1" }, deliveryOptions, deps);
    const other = { ...target, clientId: "client-2" };
    const outcome = await deliverToTarget(
      other,
      [row("a@x.test")],
      { kind: "text", text: "2" },
      { ...deliveryOptions, dryRun: true },
      deps,
    );
    expect(outcome.previous).toBe("missing");
    expect(outcome.diff.added.length).toBe(1);
    expect(warnings).toEqual([expect.stringMatching(/another client id or URL/)]);
  });
});
