/**
 * A check's result, shared by `doctor` and `init`'s live tests: titled, pass/warn/fail/skip, with what was found
 * and, when something is wrong, what to do. Kept free of heavy imports: commands render these at start-up.
 */
import { type ErrorCategory, EXIT_CODES, isSyncError } from "./errors.ts";

export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface CheckResult {
  /** Stable machine name, e.g. `tls:ldaps://dc1.corp.example.com`. */
  id: string;
  title: string;
  status: CheckStatus;
  /** One line: what was found, or why the check was skipped. */
  summary: string;
  details: string[];
  fix?: string | undefined;
  /** For a failure: the error category, which decides the exit code. */
  category?: ErrorCategory | undefined;
}

export function passed(id: string, title: string, summary: string, details: string[] = []): CheckResult {
  return { id, title, status: "pass", summary, details };
}

export function warned(
  id: string,
  title: string,
  summary: string,
  fix: string,
  details: string[] = [],
): CheckResult {
  return { id, title, status: "warn", summary, details, fix };
}

export function skipped(id: string, title: string, reason: string): CheckResult {
  return { id, title, status: "skip", summary: reason, details: [] };
}

/** A failed check from the error that made it fail: a SyncError's message, cause, fix and category. */
export function failed(id: string, title: string, error: unknown, details: string[] = []): CheckResult {
  if (isSyncError(error)) {
    return {
      id,
      title,
      status: "fail",
      summary: error.message,
      details: error.likelyCause ? [`cause: ${error.likelyCause}`, ...details] : details,
      fix: error.fix,
      category: error.category,
    };
  }
  return {
    id,
    title,
    status: "fail",
    summary: error instanceof Error ? error.message : String(error),
    details,
    category: "internal",
  };
}

/** True when the checks a later one depends on went well enough (a warning does not block). */
export function isUsable(check: CheckResult | undefined): boolean {
  return check !== undefined && (check.status === "pass" || check.status === "warn");
}

/** 0 when nothing failed; otherwise the exit code of the first failure's category. */
export function checksExitCode(checks: readonly CheckResult[]): number {
  const failure = checks.find((check) => check.status === "fail");
  if (!failure) return EXIT_CODES.ok;
  return EXIT_CODES[failure.category ?? "internal"];
}

export function countByStatus(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) counts[check.status]++;
  return counts;
}
