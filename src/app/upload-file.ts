/**
 * The `upload` use case: check a CSV made elsewhere in one pass, then hand exactly those bytes (the caller's
 * payload, written as they were read) to the same delivery as `run`: diff, guard, upload, state.
 */
import type { ResolvedTarget } from "../core/targets.ts";
import { type CsvCheck, checkCsv } from "./check-csv.ts";
import type { CsvPayload } from "./ports.ts";
import {
  type DeliveryDependencies,
  type DeliveryOptions,
  deliverToTarget,
  exitCodeFor,
  outcomeSummary,
  type TargetOutcome,
} from "./run-sync.ts";

export interface UploadFileResult {
  check: CsvCheck;
  /** Absent when the file failed its check: nothing was compared or sent. */
  outcome?: TargetOutcome;
}

export async function uploadCsvFile(
  target: ResolvedTarget,
  input: { name: string; bytes: AsyncIterable<Uint8Array>; payload: CsvPayload },
  options: DeliveryOptions & { sites: readonly string[] | undefined },
  dependencies: DeliveryDependencies,
): Promise<UploadFileResult> {
  const { clock, log } = dependencies;
  const started = clock.now();
  log.event("run-started", {
    dryRun: options.dryRun,
    force: options.force,
    file: input.name,
    target: target.name,
  });
  const check = await checkCsv(input.bytes, { sites: options.sites, keepRows: true });
  const { report } = check;
  log.event("file-checked", {
    file: input.name,
    bytes: check.bytes,
    valid: report.valid,
    records: report.records,
    errors: report.errors,
    warnings: report.warnings,
    durationMs: clock.now() - started,
  });
  if (!report.valid) {
    log.event("run-finished", { exitCode: 3, durationMs: clock.now() - started, uploaded: false });
    return { check };
  }
  const outcome = await deliverToTarget(target, check.rows, input.payload, options, dependencies);
  log.event("run-finished", {
    exitCode: exitCodeFor([outcome]),
    durationMs: clock.now() - started,
    targets: [outcomeSummary(outcome)],
  });
  return { check, outcome };
}
