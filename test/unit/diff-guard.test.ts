import { describe, expect, it } from "vitest";
import { diffUploads } from "../../src/core/diff.ts";
import { checkGuard, disableLimit } from "../../src/core/guard.ts";
import { testRow } from "../support/rows.ts";

const row = testRow;

describe("diffUploads", () => {
  it("classifies added, updated (old -> new), disabled and unchanged, matching emails case-insensitively", () => {
    const previous = [
      row("keep@x.test"),
      row("Change@x.test", { TITLE: "Old", MOBILE: "1" }),
      row("gone@x.test"),
    ];
    const next = [row("keep@x.test"), row("change@x.test", { TITLE: "New" }), row("new@x.test")];
    const diff = diffUploads(previous, next);
    expect(diff.added.slice().map((r) => r.EMAIL)).toEqual(["new@x.test"]);
    expect(diff.disabled.slice().map((r) => r.EMAIL)).toEqual(["gone@x.test"]);
    expect(diff.unchanged).toBe(1);
    expect(diff.updated).toEqual([
      {
        email: "change@x.test",
        changes: [
          { column: "TITLE", from: "Old", to: "New" },
          { column: "EMAIL", from: "Change@x.test", to: "change@x.test" },
        ],
        clearedButKept: ["MOBILE"],
      },
    ]);
  });
});

describe("checkGuard", () => {
  const policy = { maxDisable: "10%", ignoreUpTo: 5 };
  const none = { force: false, allowEmpty: false };

  it("parses counts and percentages", () => {
    expect(disableLimit("10%", 250)).toBe(25);
    expect(disableLimit("25", 1000)).toBe(25);
    expect(disableLimit(7, 1000)).toBe(7);
  });

  it("trips above the limit, not at it", () => {
    const input = { previousCount: 200, nextCount: 180, hasPreviousUpload: true };
    expect(checkGuard({ ...input, disableCount: 20 }, policy, none).ok).toBe(true);
    const verdict = checkGuard({ ...input, disableCount: 21 }, policy, none);
    expect(verdict).toMatchObject({ ok: false, reason: "too-many-disabled", limit: 20 });
    if (!verdict.ok) expect(verdict.message).toContain("21 of 200 hosts (11%)");
  });

  it("ignores small changes (5 or fewer) and a shrink of 50% trips it", () => {
    expect(
      checkGuard({ previousCount: 10, nextCount: 5, disableCount: 5, hasPreviousUpload: true }, policy, none)
        .ok,
    ).toBe(true);
    expect(
      checkGuard(
        { previousCount: 1000, nextCount: 500, disableCount: 500, hasPreviousUpload: true },
        policy,
        none,
      ).ok,
    ).toBe(false);
  });

  it("is lifted by --force, and an empty result needs --allow-empty", () => {
    const shrink = { previousCount: 1000, nextCount: 500, disableCount: 500, hasPreviousUpload: true };
    expect(checkGuard(shrink, policy, { force: true, allowEmpty: false }).ok).toBe(true);
    const empty = { previousCount: 0, nextCount: 0, disableCount: 0, hasPreviousUpload: false };
    expect(checkGuard(empty, policy, none)).toMatchObject({ ok: false, reason: "empty" });
    expect(checkGuard(empty, policy, { force: true, allowEmpty: false }).ok).toBe(false);
    expect(checkGuard(empty, policy, { force: false, allowEmpty: true }).ok).toBe(true);
  });

  it("cannot judge a first run", () => {
    expect(
      checkGuard({ previousCount: 0, nextCount: 3, disableCount: 0, hasPreviousUpload: false }, policy, none)
        .ok,
    ).toBe(true);
  });
});
