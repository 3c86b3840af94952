/**
 * The `apply` use case: upload exactly the rows of a reviewed plan, without reading the directory. The disable
 * guard does not apply (a person approved this change), but a plan is refused when it is older than
 * safety.planMaxAge, or when a target's last upload is no longer the one the plan was computed against (its diff
 * would no longer say what the upload changes). An empty upload still needs --allow-empty.
 */

import type { Row } from "../core/columns.ts";
import { toCsv } from "../core/csv.ts";
import { describeDuration } from "../core/duration.ts";
import { SyncError } from "../core/errors.ts";
import { type PlanTarget, parsePlan, type SavedPlan } from "../core/plan-file.ts";
import { createRowTableBuilder, type RowTable } from "../core/row-table.ts";
import type { ResolvedTarget } from "../core/targets.ts";
import type { AddressBookTarget, Clock, PlanStore, RunLog, StateStore } from "./ports.ts";
import { exitCodeFor, handOver, outcomeSummary, type TargetOutcome } from "./run-sync.ts";

export interface ApplyPlanOptions {
  runId: string;
  planPath: string;
  /** `--target`: apply only this target of the plan. */
  target?: string | undefined;
  allowEmpty: boolean;
  /** safety.planMaxAge, as written and in milliseconds. */
  maxAge: { text: string; ms: number };
}

export interface ApplyPlanDependencies {
  state: StateStore;
  /** Created only when an upload will happen. */
  target: (target: ResolvedTarget) => Promise<AddressBookTarget & { close(): Promise<void> }>;
  clock: Clock;
  log: RunLog;
  say: (message: string) => void;
}

/** A plan target paired with the configured target that will receive it. */
export interface ApprovedTarget {
  planned: PlanTarget;
  target: ResolvedTarget;
}

export interface ApplyPlanResult {
  targets: TargetOutcome[];
  exitCode: number;
  durationMs: number;
}

const PLAN_AGAIN =
  "make a new plan with `ilobby-sync run --dry-run --plan <file>`, review it, and apply that one";

/** Reads and verifies a plan file: a damaged, foreign or other-version file is exit 2, an altered one exit 6. */
export async function readPlan(plans: PlanStore, path: string): Promise<SavedPlan> {
  const read = parsePlan(await plans.read(path));
  if (read.ok) return read.plan;
  const { kind, message } = read.problem;
  throw new SyncError(
    kind === "altered" ? "guard" : "config",
    `the plan ${path} cannot be applied: ${message}; nothing was uploaded`,
    {
      cause:
        kind === "altered"
          ? "the file was edited, or damaged, after ilobby-sync saved it"
          : kind === "version"
            ? "it was saved by another version of ilobby-sync"
            : "the file is not a plan saved by ilobby-sync, or it was cut short (disk full, interrupted copy)",
      fix: PLAN_AGAIN,
      data: { reason: kind },
    },
  );
}

function refuse(message: string, cause: string, fix: string, data: Record<string, unknown> = {}): SyncError {
  return new SyncError("guard", `${message}: nothing was uploaded`, { cause, fix, data });
}

/**
 * Everything that can be decided before the upload: the plan's age, its targets against the config, the empty
 * check, and that each target's last upload is still the one the plan was computed against. Throws a SyncError.
 * `apply` runs it before asking for confirmation and again under the state lock, right before uploading.
 */
export async function checkPlan(
  plan: SavedPlan,
  configured: readonly ResolvedTarget[],
  options: ApplyPlanOptions,
  dependencies: Pick<ApplyPlanDependencies, "state" | "clock">,
): Promise<ApprovedTarget[]> {
  const age = dependencies.clock.now() - Date.parse(plan.createdAt);
  if (age > options.maxAge.ms) {
    throw refuse(
      `the plan ${options.planPath} was made ${describeDuration(age)} ago, longer than safety.planMaxAge (${options.maxAge.text})`,
      "the directory and iLobby may have changed since the plan was reviewed",
      PLAN_AGAIN,
      { reason: "expired", createdAt: plan.createdAt },
    );
  }
  const selected = options.target
    ? plan.targets.filter((entry) => entry.name === options.target)
    : plan.targets;
  if (selected.length === 0) {
    throw new SyncError("config", `the plan has no target named "${options.target}"`, {
      fix: `choose one of the plan's targets with --target (${plan.targets.map((entry) => entry.name).join(", ")}), or leave --target out`,
    });
  }
  const approved: ApprovedTarget[] = [];
  for (const planned of selected) {
    const target = configured.find((candidate) => candidate.name === planned.name);
    if (!target) {
      throw new SyncError(
        "config",
        `the plan is for target "${planned.name}", which the config does not list`,
        {
          cause: `the plan was made with the config ${plan.config}`,
          fix: "apply it with that config (--config), or make a new plan with this one",
        },
      );
    }
    if (target.clientId !== planned.clientId || target.connection.baseUrl !== planned.baseUrl) {
      throw new SyncError(
        "config",
        `target ${planned.name}: the plan was made for client ${planned.clientId} at ${planned.baseUrl}, the config now says client ${target.clientId} at ${target.connection.baseUrl}`,
        {
          cause: "the config changed since the plan was made, or the plan comes from another config",
          fix: `apply it with the config it came from (${plan.config}), or make a new plan`,
        },
      );
    }
    if (planned.rows.length === 0 && !options.allowEmpty) {
      throw refuse(
        `target ${planned.name}: the plan's upload is empty, which would disable every host in iLobby`,
        "a search base, group or filter that matched nobody when the plan was made",
        "use --allow-empty only if disabling every host is intended",
        { reason: "empty", target: planned.name },
      );
    }
    const current = (await dependencies.state.lastUploadFingerprint(planned.name)) ?? null;
    if (current !== planned.lastUpload) {
      const now = await dependencies.state.readLastUpload(planned.name);
      const since =
        now.status === "found"
          ? ` (the last upload is now run ${now.upload.runId} at ${now.upload.uploadedAt})`
          : "";
      throw refuse(
        `target ${planned.name}: the last upload is no longer the one this plan was computed against${since}`,
        "another run or upload sent a file to iLobby after the plan was made, so its list of changes is out of date",
        PLAN_AGAIN,
        { reason: "stale", target: planned.name },
      );
    }
    approved.push({ planned, target });
  }
  return approved;
}

/** The plan's rows with their stable ids, as a run saves them. */
function storedRows(planned: PlanTarget): RowTable {
  const table = createRowTableBuilder();
  planned.rows.forEach((row, index) => {
    table.add(row, planned.stableIds[index] ?? undefined);
  });
  return table.finish();
}

/** A saved target as an outcome that has not been uploaded yet: the guard passed when the plan was made. */
function plannedOutcome(planned: PlanTarget): TargetOutcome {
  return {
    target: planned.name,
    clientId: planned.clientId,
    rows: planned.rows.length,
    diff: planned.diff,
    previous: planned.previous,
    guard: { ok: true, limit: undefined },
    status: "planned",
    durationMs: 0,
  };
}

/** What applying would do, per target, for showing the change before the person confirms it. */
export function previewOutcomes(approved: readonly ApprovedTarget[]): TargetOutcome[] {
  return approved.map(({ planned }) => plannedOutcome(planned));
}

/** The rows each approved target uploads. */
export function approvedRows(approved: readonly ApprovedTarget[]): (target: string) => readonly Row[] {
  const rowsByTarget = new Map(approved.map(({ planned }) => [planned.name, planned.rows]));
  return (target) => rowsByTarget.get(target) ?? [];
}

/** Uploads each approved target's rows exactly as planned and saves the state as `run` does. */
export async function applyPlan(
  plan: SavedPlan,
  approved: readonly ApprovedTarget[],
  options: ApplyPlanOptions,
  dependencies: ApplyPlanDependencies,
): Promise<ApplyPlanResult> {
  const { clock, log } = dependencies;
  const started = clock.now();
  log.event("apply-started", {
    plan: options.planPath,
    planRunId: plan.runId,
    targets: approved.map(({ planned }) => planned.name),
  });
  const outcomes: TargetOutcome[] = [];
  for (const { planned, target } of approved) {
    const targetStarted = clock.now();
    const outcome: TargetOutcome = {
      ...plannedOutcome(planned),
      lastUploadFingerprint: planned.lastUpload ?? undefined,
    };
    await handOver(
      outcome,
      target,
      async () => ({ payload: { kind: "text", text: toCsv(planned.rows) }, remove: async () => {} }),
      {
        target: planned.name,
        clientId: planned.clientId,
        baseUrl: planned.baseUrl,
        uploadedAt: new Date(clock.now()).toISOString(),
        runId: options.runId,
        rows: storedRows(planned),
      },
      targetStarted,
      dependencies,
    );
    outcome.durationMs = clock.now() - targetStarted;
    outcomes.push(outcome);
  }
  const exitCode = exitCodeFor(outcomes);
  const durationMs = clock.now() - started;
  log.event("apply-finished", {
    exitCode,
    durationMs,
    planRunId: plan.runId,
    targets: outcomes.map(outcomeSummary),
  });
  return { targets: outcomes, exitCode, durationMs };
}
