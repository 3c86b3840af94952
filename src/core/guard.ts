/**
 * The disable guard: iLobby disables every host missing from an upload, so a run that would disable too many is
 * stopped before anything is sent. Peers do the same (Entra Connect stops at 500 deletions by default).
 */

export interface GuardPolicy {
  /** A count ("25" / 25) or a percentage of the last upload ("10%"). */
  maxDisable: number | string;
  /** The guard never trips when this many or fewer would be disabled. */
  ignoreUpTo: number;
}

export interface GuardInput {
  previousCount: number;
  disableCount: number;
  nextCount: number;
  hasPreviousUpload: boolean;
}

export type GuardVerdict =
  | { ok: true; limit: number | undefined }
  | {
      ok: false;
      /** "damaged-state" is decided by the use case, which knows the state could not be read. */
      reason: "too-many-disabled" | "empty" | "damaged-state";
      limit: number | undefined;
      message: string;
    };

/** Parses "10%" or "25" (or 25) into a limit for a given previous size. */
export function disableLimit(maxDisable: number | string, previousCount: number): number {
  if (typeof maxDisable === "number") return maxDisable;
  const text = maxDisable.trim();
  if (text.endsWith("%")) return Math.floor((Number(text.slice(0, -1)) / 100) * previousCount);
  return Number(text);
}

export function checkGuard(
  input: GuardInput,
  policy: GuardPolicy,
  overrides: { force: boolean; allowEmpty: boolean },
): GuardVerdict {
  if (input.nextCount === 0 && !overrides.allowEmpty) {
    return {
      ok: false,
      reason: "empty",
      limit: undefined,
      message: "the result is empty: uploading it would disable every host in iLobby",
    };
  }
  if (!input.hasPreviousUpload) return { ok: true, limit: undefined };
  const limit = Math.max(disableLimit(policy.maxDisable, input.previousCount), policy.ignoreUpTo);
  if (input.disableCount <= limit || overrides.force) return { ok: true, limit };
  const percent =
    input.previousCount > 0 ? Math.round((input.disableCount / input.previousCount) * 100) : 100;
  return {
    ok: false,
    reason: "too-many-disabled",
    limit,
    message: `${input.disableCount} of ${input.previousCount} hosts (${percent}%) would be disabled, more than the limit of ${limit} (safety.maxDisable: ${policy.maxDisable})`,
  };
}
