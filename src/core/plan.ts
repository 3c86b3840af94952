/** From config and directory entries to the exact rows a run would upload. Pure. */
import type { Row } from "./columns.ts";
import type { Config } from "./config/schema.ts";
import { buildUserFilter } from "./ldap-filter.ts";
import { attributesNeeded, type DirectoryEntry, mapEntries, type MappingResult } from "./mapping.ts";

export interface DirectoryQueryPlan {
  bases: string[];
  filter: string;
  attributes: string[];
}

export interface SyncPlan extends MappingResult {
  query: DirectoryQueryPlan;
  /** Distinct directory objects found (after merging overlapping bases). */
  entriesFound: number;
  rows: Row[];
  recordsPerSite: Record<string, number>;
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
    sites: config.sites,
  });
  const recordsPerSite: Record<string, number> = {};
  for (const record of mapped.records)
    recordsPerSite[record.row.SITE] = (recordsPerSite[record.row.SITE] ?? 0) + 1;
  return {
    ...mapped,
    query,
    entriesFound: mapped.records.length + mapped.skipped.length,
    rows: mapped.records.map((record) => record.row),
    recordsPerSite,
  };
}

export function countByReason<T extends { reason: string }>(items: readonly T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.reason] = (counts[item.reason] ?? 0) + 1;
  return counts;
}
