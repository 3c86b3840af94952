/**
 * Plan files: the exact change a run computed, saved so that a person can review it and `apply` exactly it later.
 * A plan holds, per target, the rows as they would be uploaded, the diff, and a fingerprint of the last upload the
 * diff was computed against; plus the run id, the creation time, the host and the config it came from. Its own
 * SHA-256 checksum (over the rest of the file) detects any later edit or truncation. Pure.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { COLUMNS, type Row, rowFromValues } from "./columns.ts";
import type { UploadDiff } from "./diff.ts";
import type { GuardVerdict } from "./guard.ts";
import type { RecordWarning, SkippedRecord } from "./mapping.ts";
import { rowListOf } from "./row-table.ts";

const PLAN_FORMAT = "ilobby-sync-plan";
const PLAN_VERSION = 1;

export interface PlanTarget {
  name: string;
  clientId: string;
  baseUrl: string;
  /** Fingerprint of the last upload the diff was computed against; null when none was recorded. */
  lastUpload: string | null;
  previous: "found" | "missing" | "corrupt";
  /** The guard's verdict when the plan was made (apply does not apply the guard again: a person approved it). */
  guard: GuardVerdict;
  rows: Row[];
  /**
   * Each row's stable id (AD objectGUID, Entra id), in the order of `rows`; null for none. Never in the CSV: `apply`
   * saves them in the state as a run does, so rename detection keeps working after an applied plan.
   */
  stableIds: (string | null)[];
  diff: UploadDiff;
}

export interface SavedPlan {
  runId: string;
  /** ISO 8601. */
  createdAt: string;
  host: string;
  /** The config file the plan came from. */
  config: string;
  /** Why it was saved: `run --dry-run --plan`, or a run the guard stopped. */
  reason: "dry-run" | "guard";
  targets: PlanTarget[];
  skipped: SkippedRecord[];
  warnings: RecordWarning[];
}

const text = z.string();
const rowValues = z.array(text).length(COLUMNS.length);
const rowObject = z.strictObject(
  Object.fromEntries(COLUMNS.map((column) => [column, text])),
) as unknown as z.ZodType<Row>;
const column = z.enum(COLUMNS);

const guardSchema = z.union([
  z.strictObject({ ok: z.literal(true), limit: z.number().optional() }),
  z.strictObject({
    ok: z.literal(false),
    reason: z.enum(["too-many-disabled", "empty", "damaged-state"]),
    limit: z.number().optional(),
    message: text,
  }),
]);

const targetSchema = z.strictObject({
  name: text.min(1),
  clientId: text,
  baseUrl: text,
  lastUpload: text.nullable(),
  previous: z.enum(["found", "missing", "corrupt"]),
  guard: guardSchema,
  rows: z.array(rowValues),
  stableIds: z.array(text.nullable()),
  diff: z.strictObject({
    added: z.array(rowObject),
    updated: z.array(
      z.strictObject({
        email: text,
        changes: z.array(z.strictObject({ column, from: text, to: text })),
        clearedButKept: z.array(column),
      }),
    ),
    // Plans written before renames were detected have none.
    renamed: z.array(z.strictObject({ stableId: text, from: rowObject, to: rowObject })).default([]),
    disabled: z.array(rowObject),
    unchanged: z.number().int().min(0),
    previousCount: z.number().int().min(0),
  }),
});

const planSchema = z.strictObject({
  format: z.literal(PLAN_FORMAT),
  version: z.literal(PLAN_VERSION),
  runId: text.min(1),
  createdAt: z.iso.datetime(),
  host: text,
  config: text,
  reason: z.enum(["dry-run", "guard"]),
  columns: z.tuple(COLUMNS.map((name) => z.literal(name)) as unknown as [z.ZodLiteral<string>]),
  targets: z
    .array(targetSchema)
    .min(1)
    .refine((targets) => targets.every((target) => target.stableIds.length === target.rows.length), {
      error: "every target needs one stable id (or null) per row",
    }),
  skipped: z.array(
    z.strictObject({
      ref: text,
      email: text,
      reason: z.enum([
        "no-email",
        "invalid-email",
        "duplicate-email",
        "unknown-site",
        "missing-site",
        "no-target",
      ]),
      message: text,
    }),
  ),
  warnings: z.array(z.strictObject({ ref: text, email: text, message: text })),
  checksum: text,
});

function sha256(content: string): string {
  return `sha256:${createHash("sha256").update(content, "utf8").digest("hex")}`;
}

/** The file's text: the plan (rows as arrays in COLUMNS order, like the state) and, last, its checksum. */
export function serializePlan(plan: SavedPlan): string {
  const body = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    runId: plan.runId,
    createdAt: plan.createdAt,
    host: plan.host,
    config: plan.config,
    reason: plan.reason,
    columns: COLUMNS,
    targets: plan.targets.map((target) => ({
      ...target,
      rows: target.rows.map((row) => COLUMNS.map((name) => row[name])),
    })),
    skipped: plan.skipped,
    warnings: plan.warnings,
  };
  // The reader hashes JSON.stringify of what it parsed minus the checksum: this same text. The checksum is appended
  // as the last key rather than serialising the plan twice (plans of 100,000s of rows are large).
  const bodyText = JSON.stringify(body);
  return `${bodyText.slice(0, -1)},"checksum":${JSON.stringify(sha256(bodyText))}}\n`;
}

export type PlanReadProblem =
  /** Not JSON, cut short, or not an ilobby-sync plan at all. */
  | { kind: "damaged"; message: string }
  /** A plan of another version of ilobby-sync. */
  | { kind: "version"; message: string }
  /** Well-formed, but its contents no longer match its own checksum. */
  | { kind: "altered"; message: string };

export type PlanRead = { ok: true; plan: SavedPlan } | { ok: false; problem: PlanReadProblem };

export function parsePlan(fileText: string): PlanRead {
  let data: unknown;
  try {
    data = JSON.parse(fileText);
  } catch (error) {
    const truncated = fileText.trim() !== "" && !fileText.trimEnd().endsWith("}");
    return {
      ok: false,
      problem: {
        kind: "damaged",
        message: truncated
          ? "the file is cut short (not complete JSON)"
          : `the file is not JSON (${error instanceof Error ? error.message : String(error)})`,
      },
    };
  }
  const header = data as { format?: unknown; version?: unknown } | null;
  if (typeof header !== "object" || header === null || header.format !== PLAN_FORMAT) {
    return { ok: false, problem: { kind: "damaged", message: "the file is not an ilobby-sync plan" } };
  }
  if (header.version !== PLAN_VERSION) {
    return {
      ok: false,
      problem: {
        kind: "version",
        message: `the plan has format version ${JSON.stringify(header.version)}; this ilobby-sync reads version ${PLAN_VERSION}`,
      },
    };
  }
  const parsed = planSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: {
        kind: "damaged",
        message: `the plan is incomplete or damaged (${issue?.path.join(".") || "top level"}: ${issue?.message})`,
      },
    };
  }
  const { checksum, ...body } = data as { checksum: string };
  if (sha256(JSON.stringify(body)) !== checksum) {
    return {
      ok: false,
      problem: { kind: "altered", message: "the plan's contents no longer match its own checksum" },
    };
  }
  const plan = parsed.data;
  return {
    ok: true,
    plan: {
      runId: plan.runId,
      createdAt: plan.createdAt,
      host: plan.host,
      config: plan.config,
      reason: plan.reason,
      targets: plan.targets.map((target) => ({
        ...target,
        guard: target.guard as GuardVerdict,
        rows: target.rows.map(rowFromValues),
        diff: {
          ...target.diff,
          added: rowListOf(target.diff.added),
          disabled: rowListOf(target.diff.disabled),
        },
      })) as PlanTarget[],
      skipped: plan.skipped,
      warnings: plan.warnings,
    },
  };
}

/** Quotes one argument for the shell a person will paste the command into. */
export function quoteArgument(argument: string, platform: NodeJS.Platform): string {
  if (/^[\w@%+=:,./\\-]+$/.test(argument)) return argument;
  if (platform === "win32") return `"${argument.replaceAll('"', '""')}"`;
  return `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** The exact command that applies a saved plan with the config it came from. */
export function applyCommand(planPath: string, configPath: string, platform: NodeJS.Platform): string {
  return `ilobby-sync --config ${quoteArgument(configPath, platform)} apply ${quoteArgument(planPath, platform)}`;
}
