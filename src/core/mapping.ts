/**
 * Maps directory entries to iLobby rows. Pure: the same entries and settings always give the same rows, in the
 * same order, with the same list of skipped records and why.
 */
import picomatch from "picomatch";
import { COLUMNS, type Column, MAX_NAME_LENGTH, type Row } from "./columns.ts";
import type { ColumnRuleInput, MappingConfig } from "./config/schema.ts";
import { emailKey, isWellFormedEmail } from "./email.ts";
import { checkSite, describeSiteProblem } from "./sites.ts";

/** One object found by a directory source. Attribute names are lower-case (LDAP names are case-insensitive). */
export interface DirectoryEntry {
  dn: string;
  /** A single value may be a plain string (the LDAP adapter keeps them so: it saves memory at 100,000 users). */
  attributes: Readonly<Record<string, string | readonly string[]>>;
  /** Indexes into the configured search bases under which this entry was found. */
  baseIndexes: readonly number[];
  /** The site groups (from `siteGroups`) this entry is a member of, as the DNs written in the config. */
  siteGroups?: readonly string[];
}

export interface SearchBase {
  base: string;
  site?: string | undefined;
}

export interface MappingOptions {
  mapping: MappingConfig;
  searchBases: readonly SearchBase[];
  /** Group DN -> SITE, in config order: the first group the entry belongs to wins. */
  siteGroups?: Readonly<Record<string, string>> | undefined;
  sites?: readonly string[] | undefined;
}

export type SiteSource = "base" | "group" | "attribute" | "default" | "none";

export interface MappedRecord {
  dn: string;
  row: Row;
  siteSource: SiteSource;
}

export type SkipReason =
  | "no-email"
  | "invalid-email"
  | "duplicate-email"
  | "unknown-site"
  | "missing-site"
  | "no-target";

export interface SkippedRecord {
  dn: string;
  email: string;
  reason: SkipReason;
  message: string;
}

export interface RecordWarning {
  dn: string;
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

function firstValue(entry: DirectoryEntry, attributes: readonly string[]): string {
  for (const attribute of attributes) {
    const values = entry.attributes[attribute];
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

function applyRule(entry: DirectoryEntry, rule: ColumnRule): { value: string; fromFallback: boolean } {
  if (rule.value !== undefined) return { value: rule.value, fromFallback: false };
  const raw = firstValue(entry, rule.attributes);
  if (raw === "") return { value: rule.fallback ?? "", fromFallback: rule.fallback !== undefined };
  return { value: rule.translate?.(raw) ?? raw, fromFallback: false };
}

/** The site of the bases (from `searchBases[].site`) under which the directory found this entry. */
function siteFromBases(entry: DirectoryEntry, searchBases: readonly SearchBase[]): string | undefined {
  // With overlapping bases, the most specific (longest) base that names a site wins.
  let best: SearchBase | undefined;
  for (const index of entry.baseIndexes) {
    const base = searchBases[index];
    if (base?.site && (!best || base.base.length > best.base.length)) best = base;
  }
  return best?.site;
}

function siteFromGroups(entry: DirectoryEntry, siteGroups: MappingOptions["siteGroups"]): string | undefined {
  if (!siteGroups || !entry.siteGroups?.length) return undefined;
  const memberOf = new Set(entry.siteGroups.map((group) => group.toLowerCase()));
  return Object.entries(siteGroups).find(([group]) => memberOf.has(group.toLowerCase()))?.[1];
}

/** The same object found under several (overlapping) bases is one record. */
export function mergeEntriesByDn(entries: readonly DirectoryEntry[]): DirectoryEntry[] {
  const byDn = new Map<string, DirectoryEntry>();
  for (const entry of entries) {
    const key = entry.dn.toLowerCase();
    const existing = byDn.get(key);
    if (existing) {
      byDn.set(key, {
        ...existing,
        baseIndexes: [...new Set([...existing.baseIndexes, ...entry.baseIndexes])].sort((a, b) => a - b),
        siteGroups: [...new Set([...(existing.siteGroups ?? []), ...(entry.siteGroups ?? [])])],
      });
    } else {
      byDn.set(key, entry);
    }
  }
  return [...byDn.values()];
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function mapEntries(entries: readonly DirectoryEntry[], options: MappingOptions): MappingResult {
  const rules = Object.fromEntries(
    COLUMNS.map((column) => [column, compileRule(options.mapping[column])]),
  ) as Record<Column, ColumnRule>;
  const skipped: SkippedRecord[] = [];
  const warnings: RecordWarning[] = [];
  const candidates: MappedRecord[] = [];

  for (const entry of mergeEntriesByDn(entries)) {
    const row = {} as Row;
    let siteFromFallback = false;
    for (const column of COLUMNS) {
      const { value, fromFallback } = applyRule(entry, rules[column]);
      row[column] = value;
      if (column === "SITE") siteFromFallback = fromFallback;
    }

    // SITE precedence: the search base's site, then a site group, then the SITE mapping, then its default.
    let siteSource: SiteSource = "none";
    const baseSite = siteFromBases(entry, options.searchBases);
    const groupSite = baseSite === undefined ? siteFromGroups(entry, options.siteGroups) : undefined;
    if (baseSite !== undefined) {
      row.SITE = baseSite;
      siteSource = "base";
    } else if (groupSite !== undefined) {
      row.SITE = groupSite;
      siteSource = "group";
    } else if (row.SITE !== "") {
      siteSource = siteFromFallback ? "default" : "attribute";
    }

    const skip = (reason: SkipReason, message: string) =>
      skipped.push({ dn: entry.dn, email: row.EMAIL, reason, message });
    if (row.EMAIL === "") {
      skip("no-email", "no EMAIL: none of the EMAIL attributes has a value");
      continue;
    }
    if (!isWellFormedEmail(row.EMAIL)) {
      skip("invalid-email", `EMAIL "${row.EMAIL}" is not a well-formed address`);
      continue;
    }
    const site = checkSite(row.SITE, options.sites);
    if (!site.ok) {
      skip(site.reason === "missing" ? "missing-site" : "unknown-site", describeSiteProblem(row.SITE, site));
      continue;
    }
    for (const column of ["FIRSTNAME", "LASTNAME"] as const) {
      if (row[column].length > MAX_NAME_LENGTH) {
        warnings.push({
          dn: entry.dn,
          email: row.EMAIL,
          message: `${column} is longer than ${MAX_NAME_LENGTH} characters; iLobby may not sync it`,
        });
      }
    }
    candidates.push({ dn: entry.dn, row, siteSource });
  }

  // Duplicate EMAILs (iLobby's match key, case-insensitive): the entry whose DN sorts first is kept, the
  // others are reported. Deterministic whatever order the directory returns entries in. The keys are computed
  // once per record, not once per comparison (a 100,000-person sort makes millions of comparisons).
  const keyed = candidates.map((candidate) => ({
    candidate,
    email: emailKey(candidate.row.EMAIL),
    dn: candidate.dn.toLowerCase(),
  }));
  keyed.sort((a, b) => compareText(a.email, b.email) || compareText(a.dn, b.dn));
  const records: MappedRecord[] = [];
  let keptEmail: string | undefined;
  for (const { candidate, email } of keyed) {
    const kept = records.at(-1);
    if (kept && keptEmail === email) {
      skipped.push({
        dn: candidate.dn,
        email: candidate.row.EMAIL,
        reason: "duplicate-email",
        message: `EMAIL "${candidate.row.EMAIL}" is also used by ${kept.dn}, which is kept (its DN sorts first)`,
      });
      continue;
    }
    records.push(candidate);
    keptEmail = email;
  }
  skipped.sort((a, b) => compareText(a.dn.toLowerCase(), b.dn.toLowerCase()));
  return { records, skipped, warnings };
}
