import { describe, expect, it } from "vitest";
import type { Row } from "../../src/core/columns.ts";
import { diffUploads } from "../../src/core/diff.ts";
import { describeDuration, parseDuration } from "../../src/core/duration.ts";
import {
  applyCommand,
  parsePlan,
  quoteArgument,
  type SavedPlan,
  serializePlan,
} from "../../src/core/plan-file.ts";
import { testRow } from "../support/rows.ts";

const row = (email: string, overrides: Partial<Row> = {}): Row =>
  testRow(email, { FIRSTNAME: "Ann", LASTNAME: "Lee", ...overrides });

const rows = [
  row("ann@x.test", { TITLE: 'Chief "Quotes", Ltd\r\nline two' }),
  row("bo@x.test", { SITE: "Montréal" }),
];

const samplePlan: SavedPlan = {
  runId: "4f0c2a8e-1111-4222-8333-944445555666",
  createdAt: "2026-12-07T10:00:00.000Z",
  host: "sync01",
  config: "/etc/ilobby-sync/ilobby-sync.yaml",
  reason: "guard",
  targets: [
    {
      name: "default",
      clientId: "client-1",
      baseUrl: "https://partnerapi.goilobby.com",
      lastUpload: "sha256:abc",
      previous: "found",
      guard: {
        ok: false,
        reason: "too-many-disabled",
        limit: 5,
        message: "9 of 10 hosts (90%) would be disabled",
      },
      rows,
      stableIds: ["3f2504e0-4f89-11d3-9a0c-0305e82c3301", null],
      diff: diffUploads([row("gone@x.test"), row("ann@x.test", { TITLE: "Old" })], rows),
    },
  ],
  skipped: [{ ref: "CN=X,DC=corp", email: "", reason: "no-email", message: "no EMAIL" }],
  warnings: [],
};

describe("plan files", () => {
  it("round-trip exactly: rows, diff, guard verdict, fingerprint and provenance", () => {
    const read = parsePlan(serializePlan(samplePlan));
    // The diff's row lists are read back as lists of their own: compared as the JSON they are written as.
    const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));
    expect(read.ok).toBe(true);
    expect(asJson(read)).toEqual(asJson({ ok: true, plan: samplePlan }));
  });

  it("keep a first-run plan's missing fingerprint as null and a passed guard without a limit", () => {
    const firstRun: SavedPlan = {
      ...samplePlan,
      reason: "dry-run",
      targets: [
        {
          ...(samplePlan.targets[0] as SavedPlan["targets"][0]),
          lastUpload: null,
          guard: { ok: true, limit: undefined },
        },
      ],
    };
    const read = parsePlan(serializePlan(firstRun));
    expect(read.ok && read.plan.targets[0]?.lastUpload).toBeNull();
    expect(read.ok && read.plan.targets[0]?.guard.ok).toBe(true);
  });

  it("detect any edit through their own checksum, even one that keeps the JSON valid", () => {
    const text = serializePlan(samplePlan);
    for (const edited of [
      text.replace("bo@x.test", "eve@x.test"),
      text.replace('"lastUpload":"sha256:abc"', '"lastUpload":"sha256:abd"'),
      text.replace("2026-12-07T10:00:00.000Z", "2026-12-08T10:00:00.000Z"),
    ]) {
      expect(edited).not.toBe(text);
      expect(parsePlan(edited)).toEqual({ ok: false, problem: expect.objectContaining({ kind: "altered" }) });
    }
    const reformatted = JSON.stringify(JSON.parse(text), null, 2);
    expect(parsePlan(reformatted).ok).toBe(true);
  });

  it("call a truncated, foreign, other-version or malformed file damaged, never throwing", () => {
    const text = serializePlan(samplePlan);
    const problems = [
      text.slice(0, text.length / 2),
      "",
      "not json",
      "[]",
      "null",
      JSON.stringify({ format: "terraform-plan", version: 1 }),
      text.replace('"version":1', '"version":2'),
      text.replace('"rows":[[', '"rows":[[1,'),
      text.replace(/"columns":\[[^\]]*\]/, '"columns":["EMAIL"]'),
      text.replace('"stableIds":["3f2504e0-4f89-11d3-9a0c-0305e82c3301",null]', '"stableIds":[null]'),
    ].map((candidate) => parsePlan(candidate));
    expect(problems.map((read) => (read.ok ? "ok" : read.problem.kind))).toEqual([
      "damaged",
      "damaged",
      "damaged",
      "damaged",
      "damaged",
      "damaged",
      "version",
      "damaged",
      "damaged",
      "damaged",
    ]);
    expect(problems[0]).toMatchObject({ problem: { message: expect.stringMatching(/cut short/) } });
  });

  it("name the exact command, quoted for the shell it will be pasted into", () => {
    expect(applyCommand("/var/lib/ilobby-sync/plans/x.json", "/etc/ilobby.yaml", "linux")).toBe(
      "ilobby-sync --config /etc/ilobby.yaml apply /var/lib/ilobby-sync/plans/x.json",
    );
    expect(quoteArgument("/home/o'neil/my plans/p.json", "linux")).toBe(`'/home/o'\\''neil/my plans/p.json'`);
    expect(quoteArgument("C:\\Users\\Ann Lee\\p.json", "win32")).toBe('"C:\\Users\\Ann Lee\\p.json"');
  });
});

describe("durations", () => {
  it("parse the config's forms and describe ages", () => {
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration(" 7d ")).toBe(604_800_000);
    expect(parseDuration("90s")).toBe(90_000);
    for (const bad of ["24", "1w", "h", "-1h", "1.5h"]) expect(parseDuration(bad)).toBeUndefined();
    expect(describeDuration(45_000)).toBe("45 s");
    expect(describeDuration(25 * 3_600_000)).toBe("25.0 h");
    expect(describeDuration(3 * 86_400_000)).toBe("3.0 days");
  });
});
