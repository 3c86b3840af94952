/**
 * The `run` use case: read the directory, plan the upload, and (unless it is a dry run) upload it. The plan is
 * computed completely before anything is sent, so a directory failure can never lead to a partial upload.
 */
import type { Config } from "../core/config/schema.ts";
import { toCsv } from "../core/csv.ts";
import { SyncError } from "../core/errors.ts";
import { buildQuery, planFromEntries, type SyncPlan } from "../core/plan.ts";
import type { AddressBookTarget, DirectorySource, UploadReceipt } from "./ports.ts";

export interface RunSyncOptions {
  dryRun: boolean;
  allowEmpty: boolean;
  /** Called with the CSV when the user asked for a copy (--output). */
  saveCsv?: ((csv: string) => Promise<void>) | undefined;
  onProgress?: ((entriesSoFar: number) => void) | undefined;
}

export interface RunSyncDependencies {
  directory: DirectorySource;
  /** Created only when an upload will happen, so a dry run needs no iLobby secret. */
  target: () => Promise<AddressBookTarget>;
  log: (message: string) => void;
}

export interface RunSyncResult {
  plan: SyncPlan;
  csv: string;
  upload?: UploadReceipt;
}

export async function planSync(
  config: Config,
  directory: DirectorySource,
  onProgress?: (count: number) => void,
) {
  const query = buildQuery(config);
  const entries = await directory.fetchEntries(query, onProgress);
  return planFromEntries(config, query, entries);
}

export async function runSync(
  config: Config,
  options: RunSyncOptions,
  dependencies: RunSyncDependencies,
): Promise<RunSyncResult> {
  const { log } = dependencies;
  log(`searching ${config.directory.searchBases.length} base(s)`);
  const plan = await planSync(config, dependencies.directory, options.onProgress);
  const csv = toCsv(plan.rows);
  log(`${plan.entriesFound} people found, ${plan.rows.length} to upload, ${plan.skipped.length} skipped`);
  if (options.saveCsv) await options.saveCsv(csv);
  if (options.dryRun) return { plan, csv };

  if (plan.rows.length === 0 && !options.allowEmpty) {
    throw new SyncError("guard", "the directory returned no one to upload; nothing was uploaded", {
      cause:
        plan.entriesFound > 0
          ? "every person found was skipped (see the skipped list with --dry-run)"
          : "a search base, group or filter that matches nobody, or an account that cannot read the users",
      fix: "check with `ilobby-sync run --dry-run`; an empty upload would disable every host, use --allow-empty only if that is intended",
      data: { entriesFound: plan.entriesFound, skipped: plan.skipped.length },
    });
  }
  const target = await dependencies.target();
  const upload = await target.upload({ kind: "text", text: csv });
  log(`iLobby accepted the upload (HTTP ${upload.status})`);
  return { plan, csv, upload };
}
