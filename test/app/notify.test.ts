/** The app layer of notifications with fake channels: retries, timeouts, the overall deadline, `on`, warnings. */
import { describe, expect, it } from "vitest";
import {
  type DeliveryLimits,
  deliver,
  type NotificationChannel,
  notifyOutcome,
  PermanentDeliveryError,
  type PingChannel,
  runWarnings,
  targetReport,
} from "../../src/app/notify.ts";
import type { TargetOutcome } from "../../src/app/run-sync.ts";
import { notifySchema } from "../../src/core/notify/config.ts";
import type { SyncReport } from "../../src/core/notify/report.ts";
import { testRow } from "../support/rows.ts";

const FAST: DeliveryLimits = { attemptTimeoutMs: 50, retries: 2, totalMs: 1000, retryDelayMs: () => 5 };
const never = () => new AbortController().signal;

function report(exitCode: number, warnings = 0): SyncReport {
  return {
    command: "run",
    host: "h",
    version: "1",
    runId: "r",
    exitCode,
    dryRun: false,
    targets: [],
    warnings: Array.from({ length: warnings }, () => ({
      kind: "skipped" as const,
      message: "1 record(s) skipped",
    })),
  };
}

function recordingChannel(name: string, sent: string[]): NotificationChannel {
  return { name, send: async (sentReport) => void sent.push(`${name}:${sentReport.exitCode}`) };
}

function recordingPing(sent: string[]): PingChannel {
  return { name: "ping", ping: async (kind) => void sent.push(`ping:${kind}`) };
}

describe("deliver", () => {
  it("retries twice, then reports the last error", async () => {
    let calls = 0;
    const result = await deliver(
      "c",
      async () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
      never(),
      FAST,
    );
    expect(result).toEqual({ channel: "c", ok: false, attempts: 3, error: "boom 3" });
  });

  it("succeeds on a retry", async () => {
    let calls = 0;
    const result = await deliver(
      "c",
      async () => {
        if (++calls < 2) throw new Error("once");
      },
      never(),
      FAST,
    );
    expect(result).toEqual({ channel: "c", ok: true, attempts: 2 });
  });

  it("does not retry a permanent failure (a 4xx, a refused login)", async () => {
    const result = await deliver(
      "c",
      async () => {
        throw new PermanentDeliveryError("HTTP 404");
      },
      never(),
      FAST,
    );
    expect(result).toMatchObject({ ok: false, attempts: 1, error: "HTTP 404" });
  });

  it("gives each attempt its timeout, even to a channel that ignores its signal", async () => {
    const result = await deliver("c", () => new Promise(() => {}), never(), FAST);
    expect(result).toMatchObject({ ok: false, attempts: 3, error: "no answer within 0.05 s" });
  });

  it("stops every channel at the overall deadline", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("all notifications together may take at most 0.1 s")), 100);
    const started = Date.now();
    const result = await deliver("c", () => new Promise(() => {}), controller.signal, {
      ...FAST,
      attemptTimeoutMs: 10_000,
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({
      ok: false,
      attempts: 1,
      error: "all notifications together may take at most 0.1 s",
    });
  });
});

describe("notifyOutcome", () => {
  const notify = notifySchema.parse({ on: ["guard"] });

  it("sends to the channels only for events in `on`; the ping hears every event", async () => {
    const sent: string[] = [];
    const channels = { ping: recordingPing(sent), others: [recordingChannel("hook", sent)] };
    await notifyOutcome(report(6), notify, channels, never(), "body", FAST);
    await notifyOutcome(report(4), notify, channels, never(), "body", FAST);
    await notifyOutcome(report(0, 1), notify, channels, never(), "body", FAST);
    await notifyOutcome(report(0), notify, channels, never(), "body", FAST);
    expect(sent).toEqual(["ping:fail", "hook:6", "ping:fail", "ping:success", "ping:success"]);
  });

  it("never throws: a failing channel is a result", async () => {
    const failing: NotificationChannel = { name: "bad", send: async () => Promise.reject(new Error("down")) };
    const results = await notifyOutcome(report(6), notify, { others: [failing] }, never(), "", FAST);
    expect(results).toEqual([{ channel: "bad", ok: false, attempts: 3, error: "down" }]);
  });
});

describe("from a run to the report", () => {
  it("a target stopped by the guard carries its plan command (agreement B) and at most 10 examples", () => {
    const row = (email: string) => testRow(email, { FIRSTNAME: "", LASTNAME: "", SITE: "" });
    const disabled = Array.from({ length: 25 }, (_, index) => row(`gone${index}@example.test`));
    const outcome = {
      target: "default",
      clientId: "c",
      rows: 5,
      diff: { added: [], updated: [], renamed: [], disabled, unchanged: 5, previousCount: 30 },
      previous: "found",
      guard: { ok: false, reason: "max-disable", limit: 3, message: "25 would be disabled" },
      status: "failed",
      plan: { path: "/plans/p.json", command: "ilobby-sync apply /plans/p.json" },
      durationMs: 1,
    } as unknown as TargetOutcome;
    const target = targetReport(outcome, 2);
    expect(target.plan).toEqual({ path: "/plans/p.json", command: "ilobby-sync apply /plans/p.json" });
    expect(target.counts).toEqual({ added: 0, updated: 0, disabled: 25, unchanged: 5, skipped: 2 });
    expect(target.examples.disabled).toHaveLength(10);
  });

  it("warns of skipped records, long names and certificates expiring within 30 days", () => {
    const now = Date.parse("2026-12-07T00:00:00Z");
    const warnings = runWarnings(
      {
        skipped: [
          { ref: "CN=a", email: "", reason: "no-email", message: "" },
          { ref: "CN=b", email: "b@x.test", reason: "unknown-site", message: "" },
        ],
        warnings: [{ ref: "CN=c", email: "c@x.test", message: "FIRSTNAME is longer than 50 characters" }],
      },
      [
        { endpoint: "directory ldaps://dc1:636", validTo: "2026-12-20T00:00:00.000Z" },
        { endpoint: "iLobby https://partnerapi.goilobby.com", validTo: "2027-06-01T00:00:00.000Z" },
      ],
      now,
    );
    expect(warnings).toEqual([
      {
        kind: "skipped",
        message: "2 record(s) skipped (no-email 1, unknown-site 1)",
        examples: ["CN=a", "b@x.test"],
      },
      {
        kind: "long-name",
        message: expect.stringMatching(/^1 name\(s\) longer than iLobby's 50 characters/),
        examples: ["c@x.test"],
      },
      {
        kind: "certificate",
        message: expect.stringMatching(
          /^the certificate of directory ldaps:\/\/dc1:636 expires in 13 day\(s\)/,
        ),
      },
    ]);
  });
});
