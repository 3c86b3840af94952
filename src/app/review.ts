/**
 * Reviewed changes: saving a run's change as a plan (for `apply`), and the data of the HTML change report.
 * `run --dry-run --plan <file>` saves every target; a run the guard stopped saves the stopped targets under
 * <stateDir>/plans/<runId>.json, so the administrator can review that exact change and approve it.
 */

import { type ChangeReport, type ReportTarget, renderChangeReport } from "../core/change-report.ts";
import type { Row } from "../core/columns.ts";
import { SyncError } from "../core/errors.ts";
import type { RecordWarning, SkippedRecord } from "../core/mapping.ts";
import { applyCommand, type PlanTarget, type SavedPlan, serializePlan } from "../core/plan-file.ts";
import type { RowTable } from "../core/row-table.ts";
import type { Clock, PlanStore, RunLog } from "./ports.ts";
import type { RunSyncResult, TargetOutcome } from "./run-sync.ts";

export interface PlanRecordingOptions {
  runId: string;
  dryRun: boolean;
  /** `run --dry-run --plan <file>`. */
  planPath?: string | undefined;
  /** The config file, named in the plan and in the apply command. */
  configPath: string;
  host: string;
  platform: NodeJS.Platform;
}

export interface PlanRecordingDependencies {
  plans: PlanStore;
  clock: Clock;
  log: RunLog;
}

function planTarget(outcome: TargetOutcome, rows: RowTable | undefined, baseUrl: string): PlanTarget {
  const stableIds: (string | null)[] = [];
  for (let index = 0; index < (rows?.length ?? 0); index++) stableIds.push(rows?.stableId(index) ?? null);
  return {
    name: outcome.target,
    clientId: outcome.clientId,
    baseUrl,
    lastUpload: outcome.lastUploadFingerprint ?? null,
    previous: outcome.previous,
    guard: outcome.guard,
    rows: rows?.slice() ?? [],
    stableIds,
    diff: outcome.diff,
  };
}

const stoppedByGuard = (outcome: TargetOutcome) =>
  outcome.status === "failed" && outcome.error?.category === "guard";

/**
 * Saves the plan a run calls for, if any, and sets `plan` on the targets it covers. Returns its path.
 * Targets that uploaded are left out: their last upload just changed, so a plan for them could never apply.
 */
export async function recordPlan(
  result: RunSyncResult,
  options: PlanRecordingOptions,
  dependencies: PlanRecordingDependencies,
): Promise<string | undefined> {
  const outcomes = options.dryRun
    ? options.planPath
      ? result.targets
      : []
    : result.targets.filter(stoppedByGuard);
  if (outcomes.length === 0) return undefined;
  const path =
    options.dryRun && options.planPath ? options.planPath : dependencies.plans.pathFor(options.runId);
  const targetsByName = new Map(result.plan.targets.map((entry) => [entry.target.name, entry]));
  const plan: SavedPlan = {
    runId: options.runId,
    createdAt: new Date(dependencies.clock.now()).toISOString(),
    host: options.host,
    config: options.configPath,
    reason: options.dryRun ? "dry-run" : "guard",
    targets: outcomes.map((outcome) => {
      const entry = targetsByName.get(outcome.target);
      return planTarget(outcome, entry?.rows, entry?.target.connection.baseUrl ?? "");
    }),
    skipped: result.plan.skipped,
    warnings: result.plan.warnings,
  };
  await dependencies.plans.write(path, serializePlan(plan));
  const command = applyCommand(path, options.configPath, options.platform);
  for (const outcome of outcomes) outcome.plan = { path, command };
  // A stopped run also leaves its change in readable form beside the plan: what the reviewer reads and approves.
  const report = options.dryRun ? undefined : dependencies.plans.reportPathFor(options.runId);
  if (report) {
    const rowsOf = (name: string) => targetsByName.get(name)?.rows.slice() ?? [];
    const meta = {
      command: "run",
      runId: options.runId,
      createdAt: plan.createdAt,
      host: options.host,
      dryRun: false,
    };
    await dependencies.plans.write(
      report,
      renderChangeReport(changeReport(outcomes, rowsOf, meta, result.plan)),
    );
  }
  for (const outcome of outcomes) {
    if (report) outcome.plan = { path, command, report };
    const { error } = outcome;
    if (error) {
      const review = report ? `review this change in ${report}` : "review this change";
      outcome.error = new SyncError(error.category, error.message, {
        cause: error.likelyCause,
        fix: `${error.fix ? `${error.fix}; or ` : ""}${review}, then upload exactly it with: ${command}`,
        data: { ...error.data, plan: path, ...(report ? { report } : {}) },
      });
    }
  }
  dependencies.log.event("plan-saved", {
    path,
    reason: plan.reason,
    targets: outcomes.map((outcome) => outcome.target),
  });
  return path;
}

/** What a report says about the command that made it. */
export type ReportMeta = Omit<ChangeReport, "targets" | "skipped" | "warnings">;

/** The report's data: each outcome with the rows it uploads (or would upload), and what was left out. */
export function changeReport(
  outcomes: readonly TargetOutcome[],
  rowsOf: (target: string) => readonly Row[],
  meta: ReportMeta,
  records: { skipped: readonly SkippedRecord[]; warnings: readonly RecordWarning[] } = {
    skipped: [],
    warnings: [],
  },
): ChangeReport {
  return {
    ...meta,
    targets: outcomes.map(
      (outcome): ReportTarget => ({
        name: outcome.target,
        clientId: outcome.clientId,
        rows: rowsOf(outcome.target),
        diff: outcome.diff,
        previous: outcome.previous,
        guard: outcome.guard,
        status: outcome.status,
        error: outcome.error?.message,
        plan: outcome.plan,
      }),
    ),
    skipped: records.skipped,
    warnings: records.warnings,
  };
}

/** The rows of each target of a run. */
export function runRows(result: RunSyncResult): (target: string) => readonly Row[] {
  const rowsByTarget = new Map(result.plan.targets.map((entry) => [entry.target.name, entry.rows]));
  return (target) => rowsByTarget.get(target)?.slice() ?? [];
}
