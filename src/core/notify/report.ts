/**
 * What a notification says about one sync, as plain data: the outcome and counts of each target, the warnings,
 * and the error. The CLI fills it from a run's result; the renderers in messages.ts turn it into each format.
 */
import { EXIT_CODES } from "../errors.ts";
import type { NotifyEvent } from "./config.ts";

/** A notification shows at most this many EMAILs per change kind (`details: examples`). */
export const EXAMPLES_PER_KIND = 10;

export interface ReportedError {
  category: string;
  message: string;
  cause?: string | undefined;
  fix?: string | undefined;
}

export interface TargetCounts {
  added: number;
  updated: number;
  /** People whose EMAIL changed (the same source id): iLobby disables the old entry and creates a new one. */
  renamed?: number | undefined;
  disabled: number;
  unchanged: number;
  /** Records of the run left out (no EMAIL, unknown SITE, ...): a skipped record reaches no target. */
  skipped: number;
}

export interface TargetReport {
  target: string;
  status: "planned" | "uploaded" | "failed";
  counts: TargetCounts;
  /** The first EMAILs of each change kind (at most EXAMPLES_PER_KIND). */
  examples: { added: string[]; updated: string[]; disabled: string[] };
  error?: ReportedError | undefined;
  /** Where the guard saved the stopped change, and the exact command that applies it after review. */
  plan?: { path: string; command: string } | undefined;
}

export type WarningKind = "skipped" | "long-name" | "certificate";

export interface RunWarning {
  kind: WarningKind;
  /** Free of personal data: counts, reasons, a server's URL and date. */
  message: string;
  /** The EMAILs concerned (at most EXAMPLES_PER_KIND), shown only with `details: examples`. */
  examples?: string[] | undefined;
}

export interface SyncReport {
  /** The command that synced: run, upload, apply (or "notify test"). */
  command: string;
  host: string;
  version: string;
  runId: string;
  exitCode: number;
  dryRun: boolean;
  /** The failure that stopped the whole command (a directory error, a missing secret, ...). */
  error?: ReportedError | undefined;
  targets: TargetReport[];
  warnings: RunWarning[];
  /** The HTML change report this run wrote, attached to e-mails. */
  reportFile?: string | undefined;
  /** A `notify test` message: says so everywhere. */
  test?: boolean;
}

/** failure: any exit code but 0 and 6; guard: 6; warning: 0 with warnings; success: 0 without. */
export function eventFor(exitCode: number, warningCount: number): NotifyEvent {
  if (exitCode === EXIT_CODES.guard) return "guard";
  if (exitCode !== EXIT_CODES.ok) return "failure";
  return warningCount > 0 ? "warning" : "success";
}

export function reportEvent(report: SyncReport): NotifyEvent {
  return eventFor(report.exitCode, report.warnings.length);
}
