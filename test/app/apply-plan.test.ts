/**
 * The `apply` use case and plan saving, against in-memory fakes of the ports: a state store that fingerprints
 * what it holds, a plan store, and an address book that records what it was sent.
 */
import { describe, expect, it } from "vitest";
import { applyPlan, checkPlan } from "../../src/app/apply-plan.ts";
import type {
  AddressBookTarget,
  CsvPayload,
  NewUpload,
  StateStore,
  UploadHeader,
} from "../../src/app/ports.ts";
import { recordPlan } from "../../src/app/review.ts";
import { exitCodeFor, type RunSyncResult, type TargetOutcome } from "../../src/app/run-sync.ts";
import type { Row } from "../../src/core/columns.ts";
import { toCsv } from "../../src/core/csv.ts";
import { diffUploads } from "../../src/core/diff.ts";
import { SyncError } from "../../src/core/errors.ts";
import { parsePlan, type SavedPlan } from "../../src/core/plan-file.ts";
import { createRowTableBuilder } from "../../src/core/row-table.ts";
import type { ResolvedTarget } from "../../src/core/targets.ts";
import { testRow } from "../support/rows.ts";
import { memoryPlans } from "./fakes.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-12-07T10:00:00.000Z");

const row = (email: string, site = "Toronto"): Row => testRow(email, { SITE: site });

function target(name: string, clientId = `client-${name}`): ResolvedTarget {
  return {
    name,
    clientId,
    secretName: "client-secret",
    connection: {
      baseUrl: "https://ilobby.test",
      tokenPath: "/t",
      uploadPath: "/u",
      timeoutSeconds: 5,
      retry: { attempts: 1, maxSeconds: 1, initialDelayMs: 1 },
    } as ResolvedTarget["connection"],
    sites: undefined,
  };
}

/** A last upload as the fake keeps it: the header and the rows in EMAIL order. */
type StoredUpload = UploadHeader & { rows: Row[]; stableIds?: (string | undefined)[] };

function memoryState(
  initial: StoredUpload[] = [],
  failSave?: Error,
): StateStore & {
  saved: StoredUpload[];
  saveLastUpload(upload: NewUpload | StoredUpload, options?: { onlyAfter?: Promise<unknown> }): Promise<void>;
} {
  const uploads = new Map(initial.map((upload) => [upload.target, upload]));
  const saved: StoredUpload[] = [];
  return {
    location: "memory",
    saved,
    async readLastUpload(name) {
      const upload = uploads.get(name);
      if (!upload) return { status: "missing" };
      const { rows, ...header } = upload;
      return {
        status: "found",
        upload: {
          ...header,
          async *rows() {
            for (const row of [...rows].sort((a, b) =>
              a.EMAIL.toLowerCase() < b.EMAIL.toLowerCase() ? -1 : 1,
            ))
              yield { row };
          },
        },
      };
    },
    async lastUploadFingerprint(name) {
      const upload = uploads.get(name);
      return upload ? `fp:${upload.runId}:${JSON.stringify(upload.rows)}` : undefined;
    },
    async saveLastUpload(upload, options) {
      // As the file store: the new state takes the old one's place only once iLobby has accepted the upload.
      await options?.onlyAfter;
      if (failSave) throw failSave;
      const { rows } = upload;
      const stored = Array.isArray(rows)
        ? { ...upload, rows }
        : {
            ...upload,
            rows: rows.slice(),
            stableIds: Array.from({ length: rows.length }, (_, index) => rows.stableId(index)),
          };
      uploads.set(upload.target, stored);
      saved.push(stored);
    },
    async lock() {
      return async () => {};
    },
  };
}

function memoryBook(fail?: (name: string) => Error | undefined) {
  const sent: { target: string; csv: string }[] = [];
  return {
    sent,
    factory: async (resolved: ResolvedTarget): Promise<AddressBookTarget & { close(): Promise<void> }> => ({
      async upload(payload: CsvPayload) {
        const failure = fail?.(resolved.name);
        if (failure) throw failure;
        sent.push({
          target: resolved.name,
          csv: payload.kind === "text" ? payload.text : `file:${payload.path}`,
        });
        return { status: 200, message: "ok" };
      },
      async close() {},
    }),
  };
}

const clockAt = (now: number) => ({ now: () => now });
const silent = { event() {} };

const previous: StoredUpload = {
  target: "default",
  clientId: "client-default",
  baseUrl: "https://ilobby.test",
  uploadedAt: "2026-12-06T10:00:00.000Z",
  runId: "earlier-run",
  rows: [row("a@x.test"), row("b@x.test"), row("gone@x.test")],
};

async function planFor(
  state: StateStore,
  rows: Row[],
  overrides: Partial<SavedPlan> = {},
): Promise<SavedPlan> {
  return {
    runId: "plan-run",
    createdAt: new Date(T0).toISOString(),
    host: "sync01",
    config: "/etc/ilobby-sync.yaml",
    reason: "guard",
    targets: [
      {
        name: "default",
        clientId: "client-default",
        baseUrl: "https://ilobby.test",
        lastUpload: (await state.lastUploadFingerprint("default")) ?? null,
        previous: "found",
        guard: { ok: false, reason: "too-many-disabled", limit: 0, message: "too many" },
        rows,
        stableIds: rows.map((_, index) => (index === 0 ? null : `guid-${index}`)),
        diff: diffUploads(previous.rows, rows),
      },
    ],
    skipped: [],
    warnings: [],
    ...overrides,
  };
}

const options = (extra: Partial<Parameters<typeof checkPlan>[2]> = {}) => ({
  runId: "apply-run",
  planPath: "/plans/p.json",
  allowEmpty: false,
  maxAge: { text: "24h", ms: 24 * HOUR },
  ...extra,
});

async function refusal(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(error)}`);
  return error;
}

describe("apply", () => {
  it("uploads exactly the plan's rows as CSV, ignores the guard, and saves the state as a run does", async () => {
    const state = memoryState([previous]);
    const rows = [row("a@x.test")];
    const plan = await planFor(state, rows);
    const approved = await checkPlan(plan, [target("default")], options(), {
      state,
      clock: clockAt(T0 + HOUR),
    });
    const book = memoryBook();
    const result = await applyPlan(plan, approved, options(), {
      state,
      target: book.factory,
      clock: clockAt(T0 + HOUR),
      log: silent,
      say: () => {},
    });
    expect(result.exitCode).toBe(0);
    expect(book.sent).toEqual([{ target: "default", csv: toCsv(rows) }]);
    expect(state.saved).toEqual([
      {
        target: "default",
        clientId: "client-default",
        baseUrl: "https://ilobby.test",
        uploadedAt: new Date(T0 + HOUR).toISOString(),
        runId: "apply-run",
        rows,
        // The plan's stable ids go to the state with their rows (none for a row without one).
        stableIds: [undefined],
      },
    ]);
    expect(result.targets[0]).toMatchObject({
      status: "uploaded",
      diff: { disabled: expect.objectContaining({ length: 2 }) },
    });
    expect(result.targets[0]?.diff.disabled.slice()).toEqual([row("b@x.test"), row("gone@x.test")]);
  });

  it("refuses a plan older than safety.planMaxAge", async () => {
    const state = memoryState([previous]);
    const plan = await planFor(state, [row("a@x.test")]);
    const error = await refusal(
      checkPlan(plan, [target("default")], options(), { state, clock: clockAt(T0 + 25 * HOUR) }),
    );
    expect(error.category).toBe("guard");
    expect(error.message).toBe(
      "the plan /plans/p.json was made 25.0 h ago, longer than safety.planMaxAge (24h): nothing was uploaded",
    );
    expect(error.fix).toMatch(/make a new plan/);
  });

  it("refuses once another upload changed the last upload, naming it", async () => {
    const state = memoryState([previous]);
    const plan = await planFor(state, [row("a@x.test")]);
    await state.saveLastUpload({ ...previous, runId: "forced-run", uploadedAt: "2026-12-07T10:30:00.000Z" });
    const error = await refusal(
      checkPlan(plan, [target("default")], options(), { state, clock: clockAt(T0) }),
    );
    expect(error.category).toBe("guard");
    expect(error.message).toMatch(
      /no longer the one this plan was computed against \(the last upload is now run forced-run/,
    );
  });

  it("refuses a first-run plan once a first upload happened", async () => {
    const state = memoryState();
    const plan = await planFor(state, [row("a@x.test")]);
    expect(plan.targets[0]?.lastUpload).toBeNull();
    await checkPlan(plan, [target("default")], options(), { state, clock: clockAt(T0) });
    await state.saveLastUpload(previous);
    expect(
      (await refusal(checkPlan(plan, [target("default")], options(), { state, clock: clockAt(T0) })))
        .category,
    ).toBe("guard");
  });

  it("refuses an empty upload without allowEmpty, a target the config lacks, and another client id", async () => {
    const state = memoryState([previous]);
    const empty = await planFor(state, []);
    const clock = clockAt(T0);
    expect(
      (await refusal(checkPlan(empty, [target("default")], options(), { state, clock }))).message,
    ).toMatch(/the plan's upload is empty/);
    await expect(
      checkPlan(empty, [target("default")], options({ allowEmpty: true }), { state, clock }),
    ).resolves.toHaveLength(1);
    const plan = await planFor(state, [row("a@x.test")]);
    const missing = await refusal(checkPlan(plan, [target("eu")], options(), { state, clock }));
    expect([missing.category, missing.message]).toEqual([
      "config",
      'the plan is for target "default", which the config does not list',
    ]);
    const moved = await refusal(
      checkPlan(plan, [target("default", "other-client")], options(), { state, clock }),
    );
    expect(moved.message).toMatch(
      /the plan was made for client client-default .* the config now says client other-client/,
    );
    const unknown = await refusal(
      checkPlan(plan, [target("default")], options({ target: "eu" }), { state, clock }),
    );
    expect(unknown.message).toBe('the plan has no target named "eu"');
  });

  it("with several targets: a failed upload leaves that target's state alone and the others go on (exit 9)", async () => {
    const state = memoryState();
    const base = await planFor(state, [row("a@x.test")]);
    const second = { ...(base.targets[0] as SavedPlan["targets"][0]), name: "eu", clientId: "client-eu" };
    const plan = { ...base, targets: [...base.targets, second] };
    const approved = await checkPlan(plan, [target("default"), target("eu")], options(), {
      state,
      clock: clockAt(T0),
    });
    const book = memoryBook((name) =>
      name === "default" ? new SyncError("ilobby", "iLobby refused the upload (HTTP 500)") : undefined,
    );
    const result = await applyPlan(plan, approved, options(), {
      state,
      target: book.factory,
      clock: clockAt(T0),
      log: silent,
      say: () => {},
    });
    expect(result.targets.map((outcome) => outcome.status)).toEqual(["failed", "uploaded"]);
    expect(result.exitCode).toBe(9);
    expect(state.saved.map((upload) => upload.target)).toEqual(["eu"]);
  });
});

describe("saving plans", () => {
  function runResult(outcomes: TargetOutcome[]): RunSyncResult {
    return {
      plan: {
        targets: outcomes.map((outcome) => {
          const rows = createRowTableBuilder();
          rows.add(row("b@x.test"), "guid-b");
          rows.add(row("a@x.test"));
          return { target: target(outcome.target), rows: rows.finish() };
        }),
        skipped: [],
        warnings: [],
      } as unknown as RunSyncResult["plan"],
      targets: outcomes,
      exitCode: exitCodeFor(outcomes),
      durations: { directoryMs: 0, totalMs: 0 },
    };
  }

  const outcome = (
    name: string,
    status: TargetOutcome["status"],
    category?: "guard" | "ilobby",
  ): TargetOutcome => ({
    target: name,
    clientId: `client-${name}`,
    rows: 1,
    diff: diffUploads([row("a@x.test"), row("b@x.test")], [row("a@x.test")]),
    previous: "found",
    guard:
      category === "guard"
        ? { ok: false, reason: "too-many-disabled", limit: 0, message: "too many" }
        : { ok: true, limit: 0 },
    status,
    durationMs: 0,
    lastUploadFingerprint: `fp-${name}`,
    ...(category ? { error: new SyncError(category, `target ${name}: stopped`) } : {}),
  });

  it("a run stopped by the guard saves only the stopped targets, sets their plan and the fix", async () => {
    const plans = memoryPlans();
    const result = runResult([
      outcome("us", "uploaded"),
      outcome("eu", "failed", "guard"),
      outcome("ca", "failed", "ilobby"),
    ]);
    const path = await recordPlan(
      result,
      { runId: "run-1", dryRun: false, configPath: "/etc/my config.yaml", host: "sync01", platform: "linux" },
      { plans, clock: clockAt(T0), log: silent },
    );
    expect(path).toBe("/state/plans/run-1.json");
    const read = parsePlan(plans.files.get(path as string) as string);
    if (!read.ok) throw new Error(read.problem.message);
    expect(read.plan).toMatchObject({
      runId: "run-1",
      createdAt: "2026-12-07T10:00:00.000Z",
      reason: "guard",
      host: "sync01",
    });
    expect(read.plan.targets.map((entry) => [entry.name, entry.lastUpload])).toEqual([["eu", "fp-eu"]]);
    expect(read.plan.targets[0]?.rows.map((entry) => entry.EMAIL)).toEqual(["a@x.test", "b@x.test"]);
    expect(read.plan.targets[0]?.stableIds).toEqual([null, "guid-b"]);
    const command = "ilobby-sync --config '/etc/my config.yaml' apply /state/plans/run-1.json";
    expect(result.targets.map((entry) => entry.plan?.command)).toEqual([undefined, command, undefined]);
    expect(result.targets[1]?.error?.fix).toContain(
      `review this change in /state/plans/run-1.html, then upload exactly it with: ${command}`,
    );
    expect(result.targets[1]?.plan?.report).toBe("/state/plans/run-1.html");
    // The report holds only the stopped target: the one that uploaded is no part of the plan.
    const report = plans.files.get("/state/plans/run-1.html") as string;
    expect(report).toContain("Target eu");
    expect(report).not.toContain("Target us");
  });

  it("a dry run saves every target only when --plan names a file; a clean run saves nothing", async () => {
    const plans = memoryPlans();
    const meta = { runId: "run-2", configPath: "/c.yaml", host: "h", platform: "linux" as const };
    const deps = { plans, clock: clockAt(T0), log: silent };
    expect(
      await recordPlan(runResult([outcome("us", "planned")]), { ...meta, dryRun: true }, deps),
    ).toBeUndefined();
    expect(
      await recordPlan(runResult([outcome("us", "uploaded")]), { ...meta, dryRun: false }, deps),
    ).toBeUndefined();
    const both = runResult([outcome("us", "planned"), outcome("eu", "planned")]);
    expect(await recordPlan(both, { ...meta, dryRun: true, planPath: "/tmp/p.json" }, deps)).toBe(
      "/tmp/p.json",
    );
    const read = parsePlan(plans.files.get("/tmp/p.json") as string);
    expect(read.ok && read.plan.targets.map((entry) => entry.name)).toEqual(["us", "eu"]);
    expect([...plans.files.keys()]).toEqual(["/tmp/p.json"]);
  });

  it("says that iLobby accepted the upload when the state cannot be saved afterwards, as run does", async () => {
    const state = memoryState([previous], new SyncError("config", "cannot write the state file: EACCES"));
    const plan = await planFor(state, [row("a@x.test"), row("b@x.test")]);
    const approved = await checkPlan(plan, [target("default")], options(), { state, clock: clockAt(T0) });
    const book = memoryBook();
    const result = await applyPlan(plan, approved, options(), {
      state,
      target: book.factory,
      clock: clockAt(T0),
      log: silent,
      say: () => {},
    });
    const [outcome] = result.targets;
    expect(book.sent).toHaveLength(1);
    expect(outcome?.status).toBe("failed");
    expect(outcome?.upload?.status).toBe(200);
    expect(outcome?.error?.message).toContain("iLobby accepted the upload of 2 records");
    expect(outcome?.error?.fix).toContain("nothing needs uploading again");
    expect(outcome?.error?.data).toMatchObject({ uploaded: true });
  });
});
