/**
 * Every expected failure is a SyncError: what happened, the likely cause, and the fix, with a category that
 * decides the process exit code. Anything else that escapes is a bug and is reported as one.
 */

export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  config: 2,
  data: 3,
  directory: 4,
  ilobby: 5,
  guard: 6,
  locked: 7,
  secret: 8,
  partial: 9,
} as const;

export type ErrorCategory = Exclude<keyof typeof EXIT_CODES, "ok" | "partial">;

/** One line per exit code, for `--help` and the README. */
export const EXIT_CODE_MEANINGS: Record<keyof typeof EXIT_CODES, string> = {
  ok: "success (with --dry-run: the plan was computed; validate: the file is valid)",
  internal: "internal error: a bug in ilobby-sync (please report it with the --verbose output)",
  config: "usage or configuration error (bad option, invalid or missing config file, damaged plan file)",
  data: "invalid data: the CSV or directory data failed validation, nothing was uploaded",
  directory: "directory failure: could not connect, bind or search Active Directory; nothing was uploaded",
  ilobby: "iLobby API failure: token or upload refused, unreachable, redirected or not answered by iLobby",
  guard:
    "safety guard stopped the upload (too many hosts, an empty result, a damaged state, or a plan refused by apply)",
  locked: "another ilobby-sync run holds the lock for this state directory",
  secret: "a secret is missing or the keychain cannot be reached",
  partial: "some targets synced and others failed (see the summary)",
};

export interface SyncErrorDetails {
  /** The likely cause, in words an administrator can act on. */
  cause?: string;
  /** What to do next. */
  fix?: string;
  /** The underlying error, shown with --verbose. */
  error?: unknown;
  /** Extra machine-readable facts for --json output. */
  data?: Record<string, unknown>;
}

export class SyncError extends Error {
  readonly category: ErrorCategory;
  readonly likelyCause: string | undefined;
  readonly fix: string | undefined;
  readonly data: Record<string, unknown> | undefined;

  constructor(category: ErrorCategory, message: string, details: SyncErrorDetails = {}) {
    super(message, details.error === undefined ? undefined : { cause: details.error });
    this.name = "SyncError";
    this.category = category;
    this.likelyCause = details.cause;
    this.fix = details.fix;
    this.data = details.data;
  }

  get exitCode(): number {
    return EXIT_CODES[this.category];
  }
}

export function isSyncError(error: unknown): error is SyncError {
  return error instanceof SyncError;
}

/** A failure in --json: with its data, e.g. the status and body of an answer that was not iLobby's. */
export function errorJson(error: SyncError) {
  return {
    category: error.category,
    message: error.message,
    cause: error.likelyCause,
    fix: error.fix,
    ...error.data,
  };
}

/** The error itself if it is a SyncError, else an "internal" one carrying its message and the original. */
export function asSyncError(error: unknown): SyncError {
  return isSyncError(error)
    ? error
    : new SyncError("internal", error instanceof Error ? error.message : String(error), { error });
}

/** Reads `code` from Node system errors and library errors without trusting their shape. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" || typeof code === "number" ? String(code) : undefined;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
