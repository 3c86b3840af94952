import { describe, expect, it } from "vitest";
import { renderChangeReport } from "../../src/core/change-report.ts";
import { diffUploads } from "../../src/core/diff.ts";
import { checkGuard } from "../../src/core/guard.ts";
import { parsePlan, type SavedPlan, serializePlan } from "../../src/core/plan-file.ts";
import { pairRenames } from "../../src/core/renames.ts";
import { testRow } from "../support/rows.ts";

const row = testRow;

const GUID_ANN = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const GUID_BO = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const GUID_CY = "16fd2706-8baf-433b-82eb-8c7fada847da";

describe("pairRenames", () => {
  it("pairs a disabled and an added row with the same id, comparing ids case-insensitively", () => {
    expect(pairRenames([GUID_ANN, GUID_BO], [GUID_CY, GUID_ANN.toUpperCase()])).toEqual([[0, 1]]);
  });

  it("leaves rows without an id (old state files) and ids on several rows unpaired", () => {
    expect(pairRenames([undefined, GUID_BO], [GUID_ANN, GUID_BO, GUID_BO])).toEqual([]);
    expect(pairRenames([GUID_ANN, GUID_ANN], [GUID_ANN])).toEqual([]);
    expect(pairRenames([], [GUID_ANN])).toEqual([]);
  });
});

describe("diffUploads with stable ids", () => {
  const previous = [row("ann.lee@x.test"), row("bo@x.test"), row("gone@x.test")];
  const next = [row("ann.chan@x.test"), row("bo@x.test", { TITLE: "Lead" }), row("new@x.test")];

  it("reports the same id under another EMAIL as renamed, not as added and disabled", () => {
    const diff = diffUploads(previous, next, {
      previous: [GUID_ANN, GUID_BO, GUID_CY],
      next: [GUID_ANN, GUID_BO, "00000000-0000-0000-0000-000000000001"],
    });
    expect(diff.renamed).toEqual([
      { stableId: GUID_ANN, from: row("ann.lee@x.test"), to: row("ann.chan@x.test") },
    ]);
    expect(diff.added.slice().map((r) => r.EMAIL)).toEqual(["new@x.test"]);
    expect(diff.disabled.slice().map((r) => r.EMAIL)).toEqual(["gone@x.test"]);
    expect(diff.updated.map((update) => update.email)).toEqual(["bo@x.test"]);
    expect(diff.previousCount).toBe(3);
  });

  it("without ids (a state file written before they were kept) sees an add and a disable", () => {
    const diff = diffUploads(previous, next, {
      previous: [undefined, undefined, undefined],
      next: [GUID_ANN],
    });
    expect(diff.renamed).toEqual([]);
    expect(diff.added.slice().map((r) => r.EMAIL)).toEqual(["ann.chan@x.test", "new@x.test"]);
    expect(diff.disabled.slice().map((r) => r.EMAIL)).toEqual(["ann.lee@x.test", "gone@x.test"]);
    expect(diffUploads(previous, next).renamed).toEqual([]);
  });

  it("renames do not count toward safety.maxDisable", () => {
    // A new mail domain for 30 of 100 people: without ids, 30 disables would trip a 10% guard.
    const before = Array.from({ length: 100 }, (_, index) => row(`p${index}@old.test`));
    const after = before.map((person, index) => (index < 30 ? row(`p${index}@new.test`) : person));
    const guids = before.map((_, index) => `guid-${index}`);
    const diff = diffUploads(before, after, { previous: guids, next: guids });
    expect(diff.renamed).toHaveLength(30);
    expect(diff.disabled.slice()).toEqual([]);
    const verdict = checkGuard(
      { previousCount: 100, disableCount: diff.disabled.length, nextCount: 100, hasPreviousUpload: true },
      { maxDisable: "10%", ignoreUpTo: 5 },
      { force: false, allowEmpty: false },
    );
    expect(verdict.ok).toBe(true);
  });
});

describe("renames in plan files and the HTML change report", () => {
  const previous = [row("ann.lee@x.test"), row("<b>old</b>@x.test")];
  const next = [row("ann.chan@x.test", { LASTNAME: "Chan" }), row("<b>old</b>@x.test")];
  const diff = diffUploads(previous, next, { previous: [GUID_ANN, GUID_BO], next: [GUID_ANN, GUID_BO] });

  it("a plan keeps its renames, and a plan written before renames reads with none", () => {
    const plan: SavedPlan = {
      runId: "4f0c2a8e-1111-4222-8333-944445555666",
      createdAt: "2026-12-07T10:00:00.000Z",
      host: "sync01",
      config: "/etc/ilobby-sync/ilobby-sync.yaml",
      reason: "dry-run",
      targets: [
        {
          name: "default",
          clientId: "client-1",
          baseUrl: "https://partnerapi.goilobby.com",
          lastUpload: "sha256:abc",
          previous: "found",
          guard: { ok: true, limit: 5 },
          rows: next,
          stableIds: [GUID_ANN, GUID_BO],
          diff,
        },
      ],
      skipped: [],
      warnings: [],
    };
    expect(diff.renamed).toHaveLength(1);
    // The diff's row lists are read back as lists of their own: compared as the JSON they are written as.
    const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));
    expect(asJson(parsePlan(serializePlan(plan)))).toEqual(asJson({ ok: true, plan }));
    const { renamed: _renamed, ...olderDiff } = diff;
    const older = { ...plan, targets: [{ ...plan.targets[0], diff: olderDiff }] } as unknown as SavedPlan;
    const read = parsePlan(serializePlan(older));
    expect(read.ok && read.plan.targets[0]?.diff.renamed).toEqual([]);
  });

  it("the report lists each rename old -> new with what iLobby does about it", () => {
    const html = renderChangeReport({
      command: "run --dry-run",
      runId: "r1",
      createdAt: "2026-12-07T10:00:00.000Z",
      host: "sync01",
      dryRun: true,
      targets: [
        {
          name: "default",
          clientId: "c",
          rows: next,
          diff,
          previous: "found",
          guard: { ok: true, limit: 5 },
          status: "planned",
        },
      ],
      skipped: [],
      warnings: [],
    });
    expect(html).toMatch(/<dt>renamed<\/dt><dd>1<\/dd>/);
    expect(html).toMatch(/<td class="old">ann\.lee@x\.test<\/td><td class="new">ann\.chan@x\.test<\/td>/);
    expect(html).toContain("it disables the old entry and creates a new one");
  });
});
