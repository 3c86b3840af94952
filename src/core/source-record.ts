/** The record a directory source yields: defined in the core so mapping can read it; the port re-exports it. */

/** One object as a source found it, before mapping. */
export interface SourceRecord {
  /** Unique within its source and shown to people: an LDAP DN, an Entra object id. Tie-breaker for duplicates. */
  ref: string;
  /** Survives renames: AD objectGUID as a GUID string, Entra `id`. Absent when the source has none. */
  stableId?: string;
  /** Lower-case attribute name -> value(s). */
  attributes: Readonly<Record<string, string | readonly string[]>>;
  /** SITE decided by the source's own placement rules (LDAP searchBases[].site); wins over siteGroups and mapping. */
  site?: string;
  /** The `siteGroups` keys (as written in the config) this record is a member of. */
  groups?: readonly string[];
}

/** What a source will ask its server for, shown by `run --dry-run --verbose` and in `--json` as `query`. */
export interface SourceQueryDescription {
  type: string;
  details: readonly { key: string; label: string; value: string }[];
}
