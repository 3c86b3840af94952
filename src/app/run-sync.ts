/**
 * The `run` use case: read the directory, plan every target's upload, compare with the last upload, apply the
 * disable guard, and only then upload. The plan is complete before anything is sent, so a directory failure can
 * never lead to a partial upload, and a target's state advances only after iLobby confirmed its upload.
 */
import type { Row } from "../core/columns.ts";
import type { Config } from "../core/config/schema.ts";
import { csvPieces } from "../core/csv.ts";
import { createSortedDiff, UnsortedStateError, type UploadDiff } from "../core/diff.ts";
import { asSyncError, type ErrorCategory, EXIT_CODES, isSyncError, SyncError } from "../core/errors.ts";
import { checkGuard, type GuardPolicy, type GuardVerdict } from "../core/guard.ts";
import { createPlanBuilder, readRequestFor, type SyncPlan } from "../core/plan.ts";
import { type RowTable, rowTableFrom } from "../core/row-table.ts";
import type { ResolvedTarget } from "../core/targets.ts";
import {
  type AddressBookTarget,
  type Clock,
  type CsvPayload,
  DamagedStateError,
  type DirectorySource,
  type LastUpload,
  type NewUpload,
  type RunLog,
  type SourceQueryDescription,
  type StateStore,
  type UploadReceipt,
} from "./ports.ts";

export interface RunSyncOptions {
  runId: string;
  dryRun: boolean;
  allowEmpty: boolean;
  force: boolean;
  safety: GuardPolicy;
  /** Called with each target's CSV, in pieces, when the user asked for a copy (--output). */
  saveCsv?:
    | ((csv: Iterable<string>, target: ResolvedTarget, targetCount: number) => Promise<void>)
    | undefined;
  onProgress?: ((entriesSoFar: number) => void) | undefined;
  /** Saves the plan when one is due (run --dry-run --plan, or a target stopped by the guard); sets `plan`. */
  recordPlan?: ((result: RunSyncResult) => Promise<void>) | undefined;
}

export interface RunSyncDependencies {
  /** The source, or one per `directory` block in config order (several sources). */
  directory: DirectorySource | readonly DirectorySource[];
  state: StateStore;
  /** Created only when an upload will happen, so a dry run needs no iLobby secret. */
  target: (target: ResolvedTarget) => Promise<AddressBookTarget & { close(): Promise<void> }>;
  clock: Clock;
  log: RunLog;
  say: (message: string) => void;
  warn: (message: string) => void;
  /**
   * Writes a CSV given in pieces where an upload can send it from (a private temporary file), so the body is never
   * one string in memory. Without it the pieces are joined (tests).
   */
  spoolCsv?: ((csv: Iterable<string>) => Promise<SpooledCsv>) | undefined;
}

/** A CSV ready to send, and how to clean up after it. */
export interface SpooledCsv {
  payload: CsvPayload;
  remove(): Promise<void>;
}

/** What `deliverToTarget` sends: a payload ready to go (`upload`'s checked file), or the pieces of one. */
export type CsvToSend = CsvPayload | { kind: "pieces"; pieces: () => Iterable<string> };

export interface TargetOutcome {
  target: string;
  clientId: string;
  rows: number;
  diff: UploadDiff;
  /** Whether the last upload was known: "missing" on a first run, "corrupt" after a damaged state file. */
  previous: "found" | "missing" | "corrupt";
  guard: GuardVerdict;
  status: "planned" | "uploaded" | "failed";
  upload?: UploadReceipt;
  error?: SyncError;
  /** Set when the change is saved as a plan (guard stop, `run --dry-run --plan`): the file, the apply command. */
  plan?: { path: string; command: string; report?: string };
  durationMs: number;
  /** The StateStore's fingerprint of the last upload the diff was computed against (a saved plan keeps it). */
  lastUploadFingerprint?: string | undefined;
}

export interface RunSyncResult {
  plan: SyncPlan;
  targets: TargetOutcome[];
  exitCode: number;
  durations: { directoryMs: number; totalMs: number };
}

/**
 * Reads the sources in config order, page by page, mapping each page as it arrives: only the rows are kept. A
 * failure of any source ends the run before anything is planned (iLobby would disable everyone it is missing).
 */
export async function planSync(
  config: Config,
  directory: DirectorySource | readonly DirectorySource[],
  onProgress?: (count: number) => void,
): Promise<SyncPlan> {
  const sources = Array.isArray(directory) ? directory : [directory as DirectorySource];
  const builder = createPlanBuilder(config);
  const descriptions: SourceQueryDescription[] = [];
  for (const [index, source] of sources.entries()) {
    const seenBefore = builder.recordsSeen;
    const request = {
      ...readRequestFor(config, index),
      onProgress: onProgress && ((count: number) => onProgress(seenBefore + count)),
    };
    for await (const page of source.read(request)) builder.addPage(page, index);
    const description = source.describe?.(request);
    if (description) descriptions.push(description);
  }
  return builder.finish(combinedDescription(descriptions, sources.length));
}

/** One description of what several sources asked for: each detail named by its source's position and type. */
function combinedDescription(
  descriptions: readonly SourceQueryDescription[],
  sourceCount: number,
): SourceQueryDescription | undefined {
  if (sourceCount === 1 || descriptions.length === 0) return descriptions[0];
  return {
    type: descriptions.map((description) => description.type).join("+"),
    details: descriptions.flatMap((description, index) =>
      description.details.map((detail) => ({
        key: `source${index + 1}.${detail.key}`,
        label: `source ${index + 1} (${description.type}) ${detail.label}`,
        value: detail.value,
      })),
    ),
  };
}

/** One exit code for the whole run: the failure's own code, or "partial" when targets disagree. */
export function exitCodeFor(outcomes: readonly TargetOutcome[]): number {
  const failed = outcomes.filter((outcome) => outcome.status === "failed");
  if (failed.length === 0) return EXIT_CODES.ok;
  const categories = new Set<ErrorCategory>(failed.map((outcome) => outcome.error?.category ?? "internal"));
  if (failed.length === outcomes.length && categories.size === 1)
    return EXIT_CODES[[...categories][0] as ErrorCategory];
  return EXIT_CODES.partial;
}

export async function runSync(
  config: Config,
  options: RunSyncOptions,
  dependencies: RunSyncDependencies,
): Promise<RunSyncResult> {
  const { clock, log, say } = dependencies;
  const started = clock.now();
  log.event("run-started", { dryRun: options.dryRun, force: options.force });

  const plan = await planSync(config, dependencies.directory, options.onProgress);
  const directoryMs = clock.now() - started;
  log.event("directory-read", {
    durationMs: directoryMs,
    found: plan.entriesFound,
    toUpload: plan.rows.length,
    skipped: plan.skipped.length,
  });
  say(`${plan.entriesFound} people found, ${plan.rows.length} to upload, ${plan.skipped.length} skipped`);
  if (plan.phones.length > 0) {
    // Every number that was dropped, lost its extension or cannot take an SMS, with the person and the raw value.
    log.event("phone-numbers", { reports: plan.phones });
  }

  const outcomes: TargetOutcome[] = [];
  for (const { target, rows } of plan.targets) {
    if (options.saveCsv) await options.saveCsv(csvPieces(rows), target, plan.targets.length);
    const csv = { kind: "pieces", pieces: () => csvPieces(rows) } as const;
    outcomes.push(await deliverToTarget(target, rows, csv, options, dependencies));
  }
  const exitCode = exitCodeFor(outcomes);
  const result = { plan, targets: outcomes, exitCode, durations: { directoryMs, totalMs: 0 } };
  await options.recordPlan?.(result);
  const totalMs = clock.now() - started;
  result.durations.totalMs = totalMs;
  log.event("run-finished", {
    exitCode,
    durationMs: totalMs,
    targets: outcomes.map(outcomeSummary),
  });
  return result;
}

/** One target's result as the `*-finished` events of log.file record it. */
export function outcomeSummary(outcome: TargetOutcome) {
  return {
    target: outcome.target,
    status: outcome.status,
    rows: outcome.rows,
    added: outcome.diff.added.length,
    updated: outcome.diff.updated.length,
    renamed: outcome.diff.renamed.length,
    disabled: outcome.diff.disabled.length,
    unchanged: outcome.diff.unchanged,
    ...(outcome.error ? { error: outcome.error.message } : {}),
  };
}

function guardCause(reason: GuardStop, stateLocation: string): string {
  if (reason === "empty")
    return "a search base, group or filter that matches nobody, or an account that cannot read the users";
  if (reason === "too-many-disabled")
    return "an OU or group was renamed, a filter changed, or accounts were disabled in bulk";
  return `the state file in ${stateLocation} was damaged (a crash, a full disk, an edit) or this account cannot read it`;
}

type GuardStop = Extract<GuardVerdict, { ok: false }>["reason"];

const GUARD_FIXES: Record<GuardStop, string> = {
  empty: "check with `ilobby-sync run --dry-run`; use --allow-empty only if disabling every host is intended",
  "too-many-disabled":
    "review the list with `ilobby-sync run --dry-run`; if the change is intended, run once with --force",
  "damaged-state":
    "check the full list with --dry-run (every host shows as added); if it is right, repeat the command once with --force, which uploads it and writes a fresh state",
};

export type DeliveryOptions = Pick<RunSyncOptions, "runId" | "dryRun" | "allowEmpty" | "force" | "safety">;
export type DeliveryDependencies = Omit<RunSyncDependencies, "directory">;

/** The diff against the last upload, read row by row; a state found damaged part-way is reported, not thrown. */
async function diffWithLastUpload(
  known: LastUpload | undefined,
  rows: RowTable,
): Promise<{ diff: UploadDiff; damaged?: string }> {
  const diff = createSortedDiff(rows);
  if (!known) return { diff: diff.finish() };
  try {
    for await (const { row, stableId } of known.rows()) diff.previous(row, stableId);
    return { diff: diff.finish() };
  } catch (error) {
    if (error instanceof UnsortedStateError)
      return {
        diff: createSortedDiff(rows).finish(),
        damaged: `the state file's rows are out of order (${error.message})`,
      };
    if (error instanceof DamagedStateError)
      return { diff: createSortedDiff(rows).finish(), damaged: error.message };
    throw error;
  }
}

/**
 * One target: compare with its last upload, apply the guard, upload, and advance its state only once iLobby has
 * accepted the file. Used by `run` for each target and by `upload` for a CSV made elsewhere.
 *
 * `rows`: what will be uploaded, as a table sorted by EMAIL key (`run`'s plan) or a list in any order (a CSV made
 * elsewhere). `csv`: the bytes to send, or their pieces, spooled only once an upload will really happen.
 */
export async function deliverToTarget(
  target: ResolvedTarget,
  rows: RowTable | readonly Row[],
  csv: CsvToSend,
  options: DeliveryOptions,
  dependencies: DeliveryDependencies,
): Promise<TargetOutcome> {
  const { clock, log, warn, state } = dependencies;
  const started = clock.now();
  // Before the read: should another run upload in between, the plan's fingerprint no longer matches, never wrongly.
  const lastUploadFingerprint = await state.lastUploadFingerprint(target.name);
  const table = "key" in rows ? rows : rowTableFrom(rows);
  const read = await state.readLastUpload(target.name);
  // A state file written for another key describes another address book: it cannot predict this one.
  const sameAddressBook =
    read.status === "found" &&
    read.upload.clientId === target.clientId &&
    read.upload.baseUrl === target.connection.baseUrl;
  const { diff, damaged } = await diffWithLastUpload(sameAddressBook ? read.upload : undefined, table);
  const previous: typeof read = damaged ? { status: "corrupt", problem: damaged } : read;
  if (previous.status === "corrupt") {
    warn(
      `target ${target.name}: ${previous.problem} in ${state.location}` +
        (options.force ? "; --force: treating this as a first run" : ""),
    );
  }
  const known = previous.status === "found" && sameAddressBook ? previous.upload : undefined;
  if (previous.status === "found" && !known) {
    warn(
      `target ${target.name}: the last upload was to another client id or URL; treating this as a first run`,
    );
  }
  // A damaged state cannot say what iLobby holds; treated as a first run, one skipped the guard and disabled 31 of 43.
  const guard: GuardVerdict =
    previous.status === "corrupt" && !options.force
      ? {
          ok: false,
          reason: "damaged-state",
          limit: undefined,
          message: `the last upload cannot be read (${previous.problem}), so the hosts this would disable are unknown`,
        }
      : checkGuard(
          {
            previousCount: diff.previousCount,
            disableCount: diff.disabled.length,
            nextCount: rows.length,
            hasPreviousUpload: known !== undefined,
          },
          options.safety,
          { force: options.force, allowEmpty: options.allowEmpty },
        );
  const outcome: TargetOutcome = {
    target: target.name,
    clientId: target.clientId,
    rows: rows.length,
    diff,
    previous: known ? "found" : previous.status === "corrupt" ? "corrupt" : "missing",
    guard,
    status: "planned",
    durationMs: 0,
    lastUploadFingerprint,
  };
  log.event("target-planned", {
    target: target.name,
    rows: rows.length,
    added: diff.added.length,
    updated: diff.updated.length,
    renamed: diff.renamed.length,
    disabled: diff.disabled.length,
    unchanged: diff.unchanged,
    guard: guard.ok ? "ok" : guard.reason,
    ...(diff.renamed.length > 0
      ? { renames: diff.renamed.map(({ from, to }) => ({ from: from.EMAIL, to: to.EMAIL })) }
      : {}),
  });
  if (options.dryRun) return outcome;

  if (!guard.ok) {
    outcome.status = "failed";
    outcome.error = new SyncError("guard", `target ${target.name}: nothing was uploaded: ${guard.message}`, {
      cause: guardCause(guard.reason, state.location),
      fix: GUARD_FIXES[guard.reason],
      data: { target: target.name, reason: guard.reason, limit: guard.limit, disable: diff.disabled.length },
    });
    log.event("target-failed", { target: target.name, category: "guard", message: outcome.error.message });
    outcome.durationMs = clock.now() - started;
    return outcome;
  }

  const spool = dependencies.spoolCsv ?? joinPieces;
  await handOver(
    outcome,
    target,
    async () => (csv.kind === "pieces" ? spool(csv.pieces()) : { payload: csv, remove: async () => {} }),
    {
      target: target.name,
      clientId: target.clientId,
      baseUrl: target.connection.baseUrl,
      uploadedAt: new Date(clock.now()).toISOString(),
      runId: options.runId,
      rows: table,
    },
    started,
    dependencies,
  );
  outcome.durationMs = clock.now() - started;
  return outcome;
}

/**
 * The upload step of `run`, `upload` and `apply`: hands the CSV to iLobby and records what happened in the outcome
 * and the log. The new last upload is written while iLobby reads the file (the process is idle then) and put in
 * place only once iLobby has accepted it, so uploadedAt is when the file was handed over.
 */
export async function handOver(
  outcome: TargetOutcome,
  target: ResolvedTarget,
  csv: () => Promise<SpooledCsv>,
  next: NewUpload,
  started: number,
  dependencies: Pick<RunSyncDependencies, "target" | "state" | "clock" | "log" | "say">,
): Promise<void> {
  const { clock, log, say, state } = dependencies;
  let client: Awaited<ReturnType<RunSyncDependencies["target"]>> | undefined;
  let spooled: SpooledCsv | undefined;
  try {
    client = await dependencies.target(target);
    spooled = await csv();
    const accepted = client.upload(spooled.payload);
    const [sent, saved] = await Promise.allSettled([
      accepted,
      state.saveLastUpload(next, { onlyAfter: accepted }),
    ]);
    if (sent.status === "rejected") throw sent.reason;
    outcome.upload = sent.value;
    outcome.status = "uploaded";
    say(`target ${target.name}: iLobby accepted ${next.rows.length} records (HTTP ${sent.value.status})`);
    if (saved.status === "rejected")
      throw stateNotSaved(saved.reason, target.name, next.rows.length, state.location);
    log.event("target-uploaded", {
      target: target.name,
      status: sent.value.status,
      durationMs: clock.now() - started,
    });
  } catch (error) {
    outcome.status = "failed";
    outcome.error = asSyncError(error);
    log.event("target-failed", {
      target: target.name,
      category: outcome.error.category,
      message: outcome.error.message,
      ...outcome.error.data,
    });
  } finally {
    await client?.close();
    await spooled?.remove();
  }
}

/** iLobby has the new list but the state does not: say so, or the administrator uploads again or panics. */
function stateNotSaved(error: unknown, target: string, rows: number, location: string): SyncError {
  const reason = error instanceof Error ? error.message : String(error);
  return new SyncError(
    isSyncError(error) ? error.category : "config",
    `target ${target}: iLobby accepted the upload of ${rows} records, but the last-upload state could not be saved: ${reason}`,
    {
      cause:
        "the state directory is not writable (permissions, a full disk, or something other than a file in the way)",
      fix: `nothing needs uploading again. Make ${location} writable; the next run compares with the older state, so it may list changes iLobby already has, and if its guard stops it, check with --dry-run and use --force once`,
      error,
      data: { uploaded: true },
    },
  );
}

async function joinPieces(pieces: Iterable<string>): Promise<SpooledCsv> {
  return { payload: { kind: "text", text: [...pieces].join("") }, remove: async () => {} };
}
