/** Renders a run: per target, what changes in iLobby (added, updated with old -> new, disabled) and the outcome. */

import type { RunSyncResult, TargetOutcome } from "../app/run-sync.ts";
import { diffCounts } from "../core/diff.ts";
import { errorJson } from "../core/errors.ts";
import { RENAME_CONSEQUENCE } from "../core/renames.ts";
import { planSummaryJson, renderPlan } from "./render-plan.ts";

const EXAMPLES = 5;

export function renderTarget(
  outcome: TargetOutcome,
  options: { verbose: boolean; dryRun: boolean },
): string[] {
  const { diff } = outcome;
  const limit = options.verbose ? Number.POSITIVE_INFINITY : EXAMPLES;
  const lines = [
    `Target ${outcome.target} (client ${outcome.clientId}): ${outcome.rows} records`,
    `  add ${diff.added.length}, update ${diff.updated.length}${diff.renamed.length > 0 ? `, rename ${diff.renamed.length}` : ""}, disable ${diff.disabled.length}, unchanged ${diff.unchanged}` +
      (outcome.previous === "found" ? ` (compared with the last upload of ${diff.previousCount})` : ""),
  ];
  if (outcome.previous !== "found") {
    lines.push(
      "  no earlier upload is recorded: hosts already in iLobby but not listed here will be disabled",
    );
  }
  const more = (shown: number, total: number) => {
    if (total > shown) lines.push(`    ... ${total - shown} more (--verbose or --json for all)`);
  };
  for (const row of diff.added.slice(0, limit)) {
    lines.push(
      `  + ${row.EMAIL}  ${[row.FIRSTNAME, row.LASTNAME].filter(Boolean).join(" ")}${row.SITE ? `, ${row.SITE}` : ""}`,
    );
  }
  more(Math.min(limit, diff.added.length), diff.added.length);
  for (const update of diff.updated.slice(0, limit)) {
    const changes = update.changes.map((change) => `${change.column} "${change.from}" -> "${change.to}"`);
    const kept = update.clearedButKept.map((column) => `${column} now empty (iLobby keeps the old value)`);
    lines.push(`  ~ ${update.email}: ${[...changes, ...kept].join("; ")}`);
  }
  more(Math.min(limit, diff.updated.length), diff.updated.length);
  for (const rename of diff.renamed.slice(0, limit)) {
    lines.push(`  > renamed ${rename.from.EMAIL} -> ${rename.to.EMAIL}`);
  }
  more(Math.min(limit, diff.renamed.length), diff.renamed.length);
  if (diff.renamed.length > 0) lines.push(`    (renamed: ${RENAME_CONSEQUENCE})`);
  for (const row of diff.disabled.slice(0, limit)) lines.push(`  - ${row.EMAIL}  (will be disabled)`);
  more(Math.min(limit, diff.disabled.length), diff.disabled.length);
  if (!outcome.guard.ok) {
    lines.push(
      `  SAFETY GUARD: ${outcome.guard.message}${options.dryRun ? " (a real run would stop here)" : ""}`,
    );
  }
  if (outcome.status === "uploaded")
    lines.push(`  uploaded. iLobby said: ${outcome.upload?.message || `HTTP ${outcome.upload?.status}`}`);
  if (outcome.status === "failed" && outcome.error) lines.push(`  FAILED: ${outcome.error.message}`);
  if (outcome.plan) {
    lines.push(`  plan saved: ${outcome.plan.path}`);
    if (outcome.plan.report) lines.push(`  its report (HTML): ${outcome.plan.report}`);
    lines.push(`  to upload exactly this change after review: ${outcome.plan.command}`);
  }
  return lines;
}

export function renderRun(result: RunSyncResult, options: { verbose: boolean; dryRun: boolean }): string {
  const lines = [renderPlan(result.plan, { verbose: options.verbose }), ""];
  for (const outcome of result.targets) lines.push(...renderTarget(outcome, options));
  lines.push("");
  if (options.dryRun) lines.push("Dry run: nothing was uploaded.");
  else {
    const failed = result.targets
      .filter((outcome) => outcome.status === "failed")
      .map((outcome) => outcome.target);
    lines.push(
      failed.length === 0
        ? `Done in ${(result.durations.totalMs / 1000).toFixed(1)} s.`
        : `Failed target(s): ${failed.join(", ")}. Their last-sync state was not changed.`,
    );
  }
  return lines.join("\n");
}

export function runJson(result: RunSyncResult, options: { dryRun: boolean; runId: string }) {
  return {
    ok: result.exitCode === 0,
    exitCode: result.exitCode,
    runId: options.runId,
    dryRun: options.dryRun,
    ...planSummaryJson(result.plan),
    durations: result.durations,
    targets: result.targets.map((outcome) => ({
      target: outcome.target,
      clientId: outcome.clientId,
      status: outcome.status,
      rows: outcome.rows,
      previous: outcome.previous,
      counts: diffCounts(outcome.diff),
      added: outcome.diff.added.slice(),
      updated: outcome.diff.updated,
      renamed: outcome.diff.renamed,
      disabled: outcome.diff.disabled.slice(),
      guard: outcome.guard,
      upload: outcome.upload,
      error: outcome.error ? errorJson(outcome.error) : undefined,
      durationMs: outcome.durationMs,
      plan: outcome.plan,
    })),
  };
}
