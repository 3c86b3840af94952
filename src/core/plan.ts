/**
 * From config and source records to the exact rows a run would upload. Pure. Records are mapped page by page as
 * the source yields them and kept only as compact rows (core/row-table.ts): the source's attribute objects of the
 * whole directory are never alive together, nor a row object per person.
 */
import type { Config } from "./config/schema.ts";
import { emailKey } from "./email.ts";
import {
  attributesNeeded,
  compareSkipped,
  compareText,
  createRecordMapper,
  duplicateEmail,
  type RecordWarning,
  type SiteSource,
  type SkippedRecord,
} from "./mapping.ts";
import { AS_IS, normaliseRowPhones, type PhoneReport } from "./phones.ts";
import { encodeRow, type RowTable, sortedRowTable } from "./row-table.ts";
import { siteGroupKeysFor } from "./site-groups.ts";
import type { SourceQueryDescription, SourceRecord } from "./source-record.ts";
import { type ResolvedTarget, resolveTargets } from "./targets.ts";
import { TextArena } from "./text-arena.ts";

export interface TargetShare {
  target: ResolvedTarget;
  rows: RowTable;
}

export interface SyncPlan {
  /** What the source asked its server for (absent for a source that cannot say). */
  query: SourceQueryDescription | undefined;
  /** Distinct directory objects found (a source merges overlapping searches itself). */
  entriesFound: number;
  /** Every record that passed the checks, sorted by EMAIL key. */
  rows: RowTable;
  /** Where each row's SITE came from, by the row's index in `rows`. */
  siteSources: readonly SiteSource[];
  skipped: SkippedRecord[];
  warnings: RecordWarning[];
  recordsPerSite: Record<string, number>;
  /** The rows each target will receive. */
  targets: TargetShare[];
  /** Numbers that were invalid, lost their extension or are fixed lines in MOBILE (`phones`), in EMAIL order. */
  phones: PhoneReport[];
}

/**
 * What a run asks a source for (`sourceIndex` in `config.sources`, 0 = the first): the attributes its mapping reads
 * and the membership of the site groups that are its own (group DNs for LDAP, object ids for Entra).
 */
export function readRequestFor(
  config: Config,
  sourceIndex = 0,
): { attributes: string[]; siteGroups: string[] } {
  const source = config.sources[sourceIndex];
  if (source === undefined) throw new RangeError(`no source ${sourceIndex} in the config`);
  return {
    attributes: attributesNeeded(source.mapping),
    siteGroups: siteGroupKeysFor(source.block.type, Object.keys(config.siteGroups ?? {})),
  };
}

export interface PlanBuilder {
  /** Maps one page of records from source `sourceIndex` (0 = the first); the records are not kept. */
  addPage(records: readonly SourceRecord[], sourceIndex?: number): void;
  readonly recordsSeen: number;
  finish(query?: SourceQueryDescription): SyncPlan;
}

/**
 * Builds the plan from pages of records. Each mapped record is kept as its EMAIL key, SITE and source in parallel
 * arrays, and its row's JSON text, ref and stable id as UTF-8 in an arena outside the garbage-collected heap.
 */
export function createPlanBuilder(config: Config): PlanBuilder {
  // One mapper per source: a `mapping` inside a source block applies to that source only.
  const mappers = config.sources.map((source) =>
    createRecordMapper({ mapping: source.mapping, siteGroups: config.siteGroups, sites: config.sites }),
  );
  const phonePolicy = config.phones ?? AS_IS;
  const keys: string[] = [];
  /** Three texts per candidate: the row's JSON, its ref, its stable id ("" for none). */
  const texts = new TextArena();
  const encodedOf = (candidate: number) => texts.get(3 * candidate);
  const refOf = (candidate: number) => texts.get(3 * candidate + 1);
  const stableIdOf = (candidate: number) => texts.get(3 * candidate + 2) || undefined;
  const sites: string[] = [];
  const siteSources: SiteSource[] = [];
  const sourceIndexes: number[] = [];
  const skipped: SkippedRecord[] = [];
  const warnings: RecordWarning[] = [];
  /** Phone findings with the candidate they belong to, so they can follow it through duplicates and targets. */
  const phoneReports: { candidate: number; report: PhoneReport }[] = [];
  let recordsSeen = 0;

  return {
    addPage(records, sourceIndex = 0) {
      recordsSeen += records.length;
      const mapRecord = mappers[sourceIndex];
      if (mapRecord === undefined) throw new RangeError(`no source ${sourceIndex} in the config`);
      for (const record of records) {
        const outcome = mapRecord(record, sourceIndex);
        if (outcome.kind === "skipped") {
          skipped.push(outcome.skipped);
          continue;
        }
        const mapped = outcome.record;
        const candidate = keys.length;
        const { row, reports } = normaliseRowPhones(mapped.row, mapped.ref, phonePolicy);
        for (const report of reports) phoneReports.push({ candidate, report });
        keys.push(emailKey(row.EMAIL));
        texts.add(encodeRow(row));
        texts.add(mapped.ref);
        texts.add(mapped.stableId ?? "");
        sites.push(row.SITE);
        siteSources.push(mapped.siteSource);
        sourceIndexes.push(mapped.sourceIndex);
        for (const warning of outcome.warnings) warnings.push(warning);
      }
    },
    get recordsSeen() {
      return recordsSeen;
    },
    finish(query) {
      // Duplicate EMAILs (iLobby's match key): the first source's record is kept, then the one whose ref (DN)
      // sorts first; deterministic whatever order the pages came in.
      const lowerRefs = new Map<number, string>();
      const lowerRef = (index: number) => {
        let ref = lowerRefs.get(index);
        if (ref === undefined) {
          ref = refOf(index).toLowerCase();
          lowerRefs.set(index, ref);
        }
        return ref;
      };
      const order = keys.map((_key, index) => index);
      order.sort(
        (a, b) =>
          compareText(keys[a] as string, keys[b] as string) ||
          (sourceIndexes[a] as number) - (sourceIndexes[b] as number) ||
          compareText(lowerRef(a), lowerRef(b)),
      );
      const targets = resolveTargets(config);
      const kept: number[] = [];
      const perTarget = targets.map(() => [] as number[]);
      for (const candidate of order) {
        const previous = kept.at(-1);
        if (previous !== undefined && keys[previous] === keys[candidate]) {
          skipped.push(
            duplicateEmail(
              refOf(candidate),
              (JSON.parse(encodedOf(candidate)) as string[])[4] as string,
              refOf(previous),
              (sourceIndexes[previous] as number) < (sourceIndexes[candidate] as number),
            ),
          );
          continue;
        }
        // Split between targets by SITE; a record no target covers is reported, never guessed.
        const site = sites[candidate] as string;
        let covered = false;
        targets.forEach((target, index) => {
          if (!target.sites || target.sites.includes(site)) {
            (perTarget[index] as number[]).push(kept.length);
            covered = true;
          }
        });
        if (!covered) {
          skipped.push({
            ref: refOf(candidate),
            email: (JSON.parse(encodedOf(candidate)) as string[])[4] as string,
            reason: "no-target",
            message: `SITE "${site}" is not covered by any target's sites`,
          });
          continue;
        }
        kept.push(candidate);
      }
      const keptKeys = kept.map((index) => keys[index] as string);
      const rows = sortedRowTable({
        length: kept.length,
        key: (index) => keptKeys[index] as string,
        encoded: (index) => encodedOf(kept[index] as number),
        stableId: (index) => stableIdOf(kept[index] as number),
      });
      const recordsPerSite: Record<string, number> = {};
      for (const index of kept)
        recordsPerSite[sites[index] as string] = (recordsPerSite[sites[index] as string] ?? 0) + 1;
      const keptSet = new Set(kept);
      const phones = phoneReports
        .filter(({ candidate }) => keptSet.has(candidate))
        .sort(
          (a, b) =>
            compareText(keys[a.candidate] as string, keys[b.candidate] as string) ||
            a.candidate - b.candidate,
        )
        .map(({ report }) => report);
      const plan: SyncPlan = {
        query,
        entriesFound: recordsSeen,
        rows,
        siteSources: kept.map((index) => siteSources[index] as SiteSource),
        skipped: skipped.sort(compareSkipped),
        warnings,
        recordsPerSite,
        targets: targets.map((target, index) => ({
          target,
          rows: target.sites ? rows.subset(perTarget[index] as number[]) : rows,
        })),
        phones,
      };
      for (const column of [keys, sites, siteSources, sourceIndexes]) column.length = 0;
      return plan;
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
