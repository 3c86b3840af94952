/** From config and directory entries to the exact rows a run would upload. Pure. */
import type { Row } from "./columns.ts";
import type { Config } from "./config/schema.ts";
import { buildUserFilter } from "./ldap-filter.ts";
import {
  attributesNeeded,
  compareText,
  type DirectoryEntry,
  type MappingResult,
  mapEntries,
} from "./mapping.ts";
import { AS_IS, normaliseRowPhones, type PhoneReport } from "./phones.ts";
import { assignToTargets, resolveTargets, type TargetRows } from "./targets.ts";

export interface DirectoryQueryPlan {
  bases: string[];
  filter: string;
  attributes: string[];
  /** Groups whose (nested) members must be known, for `siteGroups`. */
  membershipGroups: string[];
  nestedGroups: boolean;
}

export interface SyncPlan extends MappingResult {
  query: DirectoryQueryPlan;
  /** Distinct directory objects found (after merging overlapping bases). */
  entriesFound: number;
  /** Every record that passed the checks, sorted by EMAIL. */
  rows: Row[];
  recordsPerSite: Record<string, number>;
  /** The rows each target will receive. */
  targets: TargetRows[];
  /** Numbers that were invalid, lost their extension or are fixed lines in MOBILE (`phones`). */
  phones: PhoneReport[];
}

export function buildQuery(config: Config): DirectoryQueryPlan {
  const { directory } = config;
  return {
    bases: directory.searchBases.map((searchBase) => searchBase.base),
    filter: buildUserFilter({
      groups: directory.groups,
      nestedGroups: directory.nestedGroups,
      includeDisabled: directory.includeDisabled,
      filter: directory.filter,
    }),
    attributes: attributesNeeded(config.mapping),
    membershipGroups: Object.keys(config.siteGroups ?? {}),
    nestedGroups: directory.nestedGroups,
  };
}

export function planFromEntries(
  config: Config,
  query: DirectoryQueryPlan,
  entries: readonly DirectoryEntry[],
): SyncPlan {
  const mapped = mapEntries(entries, {
    mapping: config.mapping,
    searchBases: config.directory.searchBases,
    siteGroups: config.siteGroups,
    sites: config.sites,
  });
  const policy = config.phones ?? AS_IS;
  const phoneReports: PhoneReport[] = [];
  const normalised = mapped.records.map((record) => {
    const { row, reports } = normaliseRowPhones(record.row, record.dn, policy);
    for (const report of reports) phoneReports.push(report);
    return row === record.row ? record : { ...record, row };
  });
  const { perTarget, uncovered } = assignToTargets(normalised, resolveTargets(config));
  const uncoveredDns = new Set(uncovered.map((skip) => skip.dn));
  const records = normalised.filter((record) => !uncoveredDns.has(record.dn));
  const recordsPerSite: Record<string, number> = {};
  for (const record of records) recordsPerSite[record.row.SITE] = (recordsPerSite[record.row.SITE] ?? 0) + 1;
  return {
    records,
    skipped: [...mapped.skipped, ...uncovered].sort((a, b) =>
      compareText(a.dn.toLowerCase(), b.dn.toLowerCase()),
    ),
    warnings: mapped.warnings,
    query,
    entriesFound: mapped.records.length + mapped.skipped.length,
    rows: records.map((record) => record.row),
    recordsPerSite,
    targets: perTarget,
    phones: phoneReports.filter((report) => !uncoveredDns.has(report.ref)),
  };
}

export function countByReason<T extends { reason: string }>(items: readonly T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.reason] = (counts[item.reason] ?? 0) + 1;
  return counts;
}
