/**
 * From config and source records to the exact rows a run would upload. Pure. Records are mapped page by page as
 * the source yields them, so only the rows (never the source's attribute objects) are held until the plan is made.
 */
import type { Row } from "./columns.ts";
import type { Config } from "./config/schema.ts";
import {
  attributesNeeded,
  compareSkipped,
  createRecordMapper,
  keepOnePerEmail,
  type MappedRecord,
  type MappingResult,
  type RecordWarning,
  type SkippedRecord,
} from "./mapping.ts";
import { AS_IS, normaliseRowPhones, type PhoneReport } from "./phones.ts";
import type { SourceQueryDescription, SourceRecord } from "./source-record.ts";
import { assignToTargets, resolveTargets, type TargetRows } from "./targets.ts";

export interface SyncPlan extends MappingResult {
  /** What the source asked its server for (absent for a source that cannot say). */
  query: SourceQueryDescription | undefined;
  /** Distinct directory objects found (a source merges overlapping searches itself). */
  entriesFound: number;
  /** Every record that passed the checks, sorted by EMAIL. */
  rows: Row[];
  recordsPerSite: Record<string, number>;
  /** The rows each target will receive. */
  targets: TargetRows[];
  /** Numbers that were invalid, lost their extension or are fixed lines in MOBILE (`phones`). */
  phones: PhoneReport[];
}

/** What a run asks every source for: the mapped attributes and the site groups' membership. */
export function readRequestFor(config: Config): { attributes: string[]; siteGroups: string[] } {
  return { attributes: attributesNeeded(config.mapping), siteGroups: Object.keys(config.siteGroups ?? {}) };
}

export interface PlanBuilder {
  /** Maps one page of records from source `sourceIndex` (0 = the first); the records are not kept. */
  addPage(records: readonly SourceRecord[], sourceIndex?: number): void;
  readonly recordsSeen: number;
  finish(query?: SourceQueryDescription): SyncPlan;
}

export function createPlanBuilder(config: Config): PlanBuilder {
  const mapRecord = createRecordMapper({
    mapping: config.mapping,
    siteGroups: config.siteGroups,
    sites: config.sites,
  });
  const phonePolicy = config.phones ?? AS_IS;
  const candidates: MappedRecord[] = [];
  const skipped: SkippedRecord[] = [];
  const warnings: RecordWarning[] = [];
  let recordsSeen = 0;
  return {
    addPage(records, sourceIndex = 0) {
      recordsSeen += records.length;
      for (const record of records) {
        const outcome = mapRecord(record, sourceIndex);
        if (outcome.kind === "skipped") skipped.push(outcome.skipped);
        else {
          candidates.push(outcome.record);
          if (outcome.warnings.length > 0) warnings.push(...outcome.warnings);
        }
      }
    },
    get recordsSeen() {
      return recordsSeen;
    },
    finish(query) {
      const { records: unique, duplicates } = keepOnePerEmail(candidates);
      candidates.length = 0;
      // Phones are normalised once per uploaded person, in EMAIL order, so the reports come in that order too.
      const phoneReports: PhoneReport[] = [];
      const kept = unique.map((record) => {
        const { row, reports } = normaliseRowPhones(record.row, record.ref, phonePolicy);
        for (const report of reports) phoneReports.push(report);
        return row === record.row ? record : { ...record, row };
      });
      const { perTarget, covered: records, uncovered } = assignToTargets(kept, resolveTargets(config));
      const uncoveredRefs = new Set(uncovered.map((skip) => skip.ref));
      const recordsPerSite: Record<string, number> = {};
      for (const record of records)
        recordsPerSite[record.row.SITE] = (recordsPerSite[record.row.SITE] ?? 0) + 1;
      return {
        records,
        skipped: [...skipped, ...duplicates, ...uncovered].sort(compareSkipped),
        warnings,
        query,
        entriesFound: recordsSeen,
        rows: records.map((record) => record.row),
        recordsPerSite,
        targets: perTarget,
        phones:
          uncoveredRefs.size > 0
            ? phoneReports.filter((report) => !uncoveredRefs.has(report.ref))
            : phoneReports,
      };
    },
  };
}

/** A plan from a list of records at once (doctor's coverage, tests). */
export function planFromRecords(config: Config, records: readonly SourceRecord[]): SyncPlan {
  const builder = createPlanBuilder(config);
  builder.addPage(records);
  return builder.finish();
}

export function countByReason<T extends { reason: string }>(items: readonly T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.reason] = (counts[item.reason] ?? 0) + 1;
  return counts;
}
