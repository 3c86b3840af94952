/**
 * Maps source records to iLobby rows. Pure: the same records and settings always give the same rows, in the same
 * order, with the same list of skipped records and why, whatever order the source returned them in.
 */
import picomatch from "picomatch";
import { COLUMNS, MAX_NAME_LENGTH, type Row } from "./columns.ts";
import type { ColumnRuleInput, MappingConfig } from "./config/schema.ts";
import { applyRowRules } from "./csv-rules.ts";
import { emailKey, isWellFormedEmail } from "./email.ts";
import { checkSite, describeSiteProblem } from "./sites.ts";
import type { SourceRecord } from "./source-record.ts";

export interface MappingOptions {
  mapping: MappingConfig;
  /** Group key -> SITE, in config order: the first group the record belongs to wins. */
  siteGroups?: Readonly<Record<string, string>> | undefined;
  sites?: readonly string[] | undefined;
}

/** Where a row's SITE came from: the source's placement (LDAP searchBases[].site), a site group, the mapping. */
export type SiteSource = "base" | "group" | "attribute" | "default" | "none";

export interface MappedRecord {
  ref: string;
  stableId?: string | undefined;
  row: Row;
  siteSource: SiteSource;
  /** Which source found it (0 = the first): with several sources, the first one that has a person wins. */
  sourceIndex: number;
}

export type SkipReason =
  | "no-email"
  | "invalid-email"
  | "field-too-long"
  | "duplicate-email"
  | "unknown-site"
  | "missing-site"
  | "no-target";

export interface SkippedRecord {
  ref: string;
  email: string;
  reason: SkipReason;
  message: string;
}

export interface RecordWarning {
  ref: string;
  email: string;
  message: string;
}

export interface MappingResult {
  records: MappedRecord[];
  skipped: SkippedRecord[];
  warnings: RecordWarning[];
}

interface ColumnRule {
  attributes: string[];
  value?: string;
  translate?: (value: string) => string | undefined;
  fallback?: string;
}

function compileRule(rule: ColumnRuleInput): ColumnRule {
  if (typeof rule === "string") return { attributes: [rule.toLowerCase()] };
  if (Array.isArray(rule)) return { attributes: rule.map((name) => name.toLowerCase()) };
  if ("value" in rule) return { attributes: [], value: rule.value.trim() };
  const attributes = (Array.isArray(rule.attribute) ? rule.attribute : [rule.attribute]).map((name) =>
    name.toLowerCase(),
  );
  const compiled: ColumnRule = { attributes };
  if (rule.map) {
    const table = Object.entries(rule.map).map(
      ([pattern, target]) => [picomatch(pattern, { nocase: true, dot: true }), target] as const,
    );
    compiled.translate = (value) => table.find(([matches]) => matches(value))?.[1];
  }
  if (rule.default !== undefined) compiled.fallback = rule.default.trim();
  return compiled;
}

/** The attributes a mapping needs from the directory: nothing more is requested. */
export function attributesNeeded(mapping: MappingConfig): string[] {
  const names = new Set<string>();
  for (const column of COLUMNS) {
    for (const attribute of compileRule(mapping[column]).attributes) names.add(attribute);
  }
  return [...names].sort();
}

function firstValue(record: SourceRecord, attributes: readonly string[]): string {
  for (const attribute of attributes) {
    const values = record.attributes[attribute];
    if (typeof values === "string") {
      const trimmed = values.trim();
      if (trimmed !== "") return trimmed;
      continue;
    }
    for (const value of values ?? []) {
      const trimmed = value.trim();
      if (trimmed !== "") return trimmed;
    }
  }
  return "";
}

function applyRule(record: SourceRecord, rule: ColumnRule): { value: string; fromFallback: boolean } {
  if (rule.value !== undefined) return { value: rule.value, fromFallback: false };
  const raw = firstValue(record, rule.attributes);
  if (raw === "") return { value: rule.fallback ?? "", fromFallback: rule.fallback !== undefined };
  return { value: rule.translate?.(raw) ?? raw, fromFallback: false };
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type RecordOutcome =
  | { kind: "record"; record: MappedRecord; warnings: RecordWarning[] }
  | { kind: "skipped"; skipped: SkippedRecord };

/** Compiles the mapping once; the returned function maps one record as it arrives from the source. */
export function createRecordMapper(
  options: MappingOptions,
): (record: SourceRecord, sourceIndex?: number) => RecordOutcome {
  const rules = COLUMNS.map((column) => [column, compileRule(options.mapping[column])] as const);
  // Group keys compare case-insensitively (DNs); the first group in config order wins.
  const siteGroups = Object.entries(options.siteGroups ?? {}).map(
    ([group, site]) => [group.toLowerCase(), site] as const,
  );
  const siteOfGroups = (groups: readonly string[] | undefined): string | undefined => {
    if (!groups?.length || siteGroups.length === 0) return undefined;
    const memberOf = new Set(groups.map((group) => group.toLowerCase()));
    return siteGroups.find(([group]) => memberOf.has(group))?.[1];
  };

  return (record, sourceIndex = 0) => {
    const row = {} as Row;
    let siteFromFallback = false;
    for (const [column, rule] of rules) {
      const { value, fromFallback } = applyRule(record, rule);
      row[column] = value;
      if (column === "SITE") siteFromFallback = fromFallback;
    }

    // SITE precedence: the source's placement, then a site group, then the SITE mapping, then its default.
    let siteSource: SiteSource = "none";
    const groupSite = record.site === undefined ? siteOfGroups(record.groups) : undefined;
    if (record.site !== undefined) {
      row.SITE = record.site;
      siteSource = "base";
    } else if (groupSite !== undefined) {
      row.SITE = groupSite;
      siteSource = "group";
    } else if (row.SITE !== "") {
      siteSource = siteFromFallback ? "default" : "attribute";
    }

    const skip = (reason: SkipReason, message: string): RecordOutcome => ({
      kind: "skipped",
      skipped: { ref: record.ref, email: row.EMAIL, reason, message },
    });
    // The rules a CSV file is held to (core/csv-rules.ts), at the one place a directory record becomes a row.
    const checked = applyRowRules(row);
    if (checked.invalid)
      return skip(
        checked.invalid.column === "EMAIL" ? "invalid-email" : "field-too-long",
        checked.invalid.message,
      );
    if (row.EMAIL === "") return skip("no-email", "no EMAIL: none of the EMAIL attributes has a value");
    if (!isWellFormedEmail(row.EMAIL))
      return skip("invalid-email", `EMAIL "${row.EMAIL}" is not a well-formed address`);
    const site = checkSite(row.SITE, options.sites);
    if (!site.ok) {
      return skip(
        site.reason === "missing" ? "missing-site" : "unknown-site",
        describeSiteProblem(row.SITE, site),
      );
    }
    const warnings: RecordWarning[] = checked.removed.map((message) => ({
      ref: record.ref,
      email: row.EMAIL,
      message,
    }));
    for (const column of ["FIRSTNAME", "LASTNAME"] as const) {
      if (row[column].length > MAX_NAME_LENGTH) {
        warnings.push({
          ref: record.ref,
          email: row.EMAIL,
          message: `${column} is longer than ${MAX_NAME_LENGTH} characters; iLobby may not sync it`,
        });
      }
    }
    return {
      kind: "record",
      record: { ref: record.ref, stableId: record.stableId, row, siteSource, sourceIndex },
      warnings,
    };
  };
}

/**
 * Duplicate EMAILs (iLobby's match key, case-insensitive): the record of the first source is kept, and within a
 * source the one whose ref (DN) sorts first; the others are reported. Deterministic whatever order the sources
 * return records in. Returns the kept records sorted by EMAIL key. The keys are computed once per record, not once
 * per comparison (a 100,000-person sort makes millions of comparisons).
 */
function keepOnePerEmail(candidates: readonly MappedRecord[]): {
  records: MappedRecord[];
  duplicates: SkippedRecord[];
} {
  const keyed = candidates.map((candidate) => ({
    candidate,
    email: emailKey(candidate.row.EMAIL),
    ref: candidate.ref.toLowerCase(),
  }));
  keyed.sort(
    (a, b) =>
      compareText(a.email, b.email) ||
      a.candidate.sourceIndex - b.candidate.sourceIndex ||
      compareText(a.ref, b.ref),
  );
  const records: MappedRecord[] = [];
  const duplicates: SkippedRecord[] = [];
  let keptEmail: string | undefined;
  for (const { candidate, email } of keyed) {
    const kept = records.at(-1);
    if (kept && keptEmail === email) {
      duplicates.push(
        duplicateEmail(
          candidate.ref,
          candidate.row.EMAIL,
          kept.ref,
          kept.sourceIndex < candidate.sourceIndex,
        ),
      );
      continue;
    }
    records.push(candidate);
    keptEmail = email;
  }
  return { records, duplicates };
}

/** The report of a record left out because a record kept before it has the same EMAIL. */
export function duplicateEmail(
  ref: string,
  email: string,
  keptRef: string,
  keptFromEarlierSource: boolean,
): SkippedRecord {
  const why = keptFromEarlierSource ? "it comes from an earlier source" : "its DN sorts first";
  return {
    ref,
    email,
    reason: "duplicate-email",
    message: `EMAIL "${email}" is also used by ${keptRef}, which is kept (${why})`,
  };
}

export function compareSkipped(a: { ref: string }, b: { ref: string }): number {
  return compareText(a.ref.toLowerCase(), b.ref.toLowerCase());
}

/** Maps a whole list of records at once (doctor's coverage, tests); a run maps page by page (core/plan.ts). */
export function mapRecords(records: readonly SourceRecord[], options: MappingOptions): MappingResult {
  const mapRecord = createRecordMapper(options);
  const skipped: SkippedRecord[] = [];
  const warnings: RecordWarning[] = [];
  const candidates: MappedRecord[] = [];
  for (const record of records) {
    const outcome = mapRecord(record);
    if (outcome.kind === "skipped") skipped.push(outcome.skipped);
    else {
      candidates.push(outcome.record);
      warnings.push(...outcome.warnings);
    }
  }
  const { records: kept, duplicates } = keepOnePerEmail(candidates);
  skipped.push(...duplicates);
  skipped.sort(compareSkipped);
  return { records: kept, skipped, warnings };
}
