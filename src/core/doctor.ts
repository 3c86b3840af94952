/**
 * What `doctor` concludes from what it found: whether a TLS endpoint is healthy (trust, host name, expiry) and how
 * well the directory's attributes cover what iLobby needs. Pure: judging needs no network.
 */
import { type CheckResult, failed, passed, warned } from "./checks.ts";
import type { Config } from "./config/schema.ts";
import { isSyncError } from "./errors.ts";
import { mapRecords } from "./mapping.ts";
import { countPhoneChanges, type PhoneSampleCounts } from "./phones.ts";
import { planFromRecords } from "./plan.ts";
import type { SourceRecord } from "./source-record.ts";

// ---- TLS ----

/** A certificate as presented by a server, leaf first. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  subjectAltNames?: string | undefined;
}

export interface TlsFacts {
  protocol: string;
  chain: CertificateFacts[];
  /** Why the real client would refuse the chain (unknown CA, expired, ...); undefined = trusted. */
  trustProblem?: unknown;
  /** Why the host name does not match the certificate; undefined = it matches. */
  hostnameProblem?: unknown;
}

/** Warn this long before a certificate expires: renewals need a change window. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export function daysUntil(date: string, now: number): number {
  return Math.floor((Date.parse(date) - now) / DAY_MS);
}

/** `renewal`: what to do about a certificate that expires soon, which depends on who owns the server. */
export function assessTls(
  id: string,
  title: string,
  facts: TlsFacts,
  now: number,
  renewal: string,
): CheckResult {
  const leaf = facts.chain[0];
  const details = facts.chain.map(
    (certificate, index) =>
      `${index === 0 ? "certificate" : "issued by  "} ${certificate.subject}, valid until ${certificate.validTo}` +
      (index === 0 && certificate.subjectAltNames ? ` (names: ${certificate.subjectAltNames})` : ""),
  );
  const problem = facts.trustProblem ?? facts.hostnameProblem;
  if (problem) {
    const result = failed(id, title, problem, details);
    // Both can be wrong at once; say so, or the second surfaces only after the first is fixed.
    if (facts.trustProblem && facts.hostnameProblem && isSyncError(facts.hostnameProblem)) {
      result.details.push(`also: ${facts.hostnameProblem.message}`);
    }
    return result;
  }
  if (!leaf) return failed(id, title, new Error("the server presented no certificate"));
  const days = daysUntil(leaf.validTo, now);
  const summary = `${facts.protocol}, certificate trusted and matching the host name, issued by ${leaf.issuer}, expires in ${days} days`;
  if (days < EXPIRY_WARNING_DAYS) {
    return warned(id, title, summary, renewal, details);
  }
  return passed(id, title, summary, details);
}

// ---- Directory contents ----

const SAMPLE_SIZE = 3;

/** "Amelia Hartley <amelia.hartley@example.test>" for the first few entries, as the mapping would name them. */
export function samplePeople(
  config: Config,
  records: readonly SourceRecord[],
  count = SAMPLE_SIZE,
): string[] {
  return records.slice(0, count).map((record) => {
    const { records: mapped } = mapRecords([record], {
      mapping: config.mapping,
      siteGroups: undefined,
      sites: undefined,
    });
    const row = mapped[0]?.row;
    if (!row) return `${record.ref} (no EMAIL)`;
    const name = [row.FIRSTNAME, row.LASTNAME].filter(Boolean).join(" ");
    return name ? `${name} <${row.EMAIL}>` : row.EMAIL;
  });
}

export interface AttributeCoverage {
  /** Distinct user objects found. */
  users: number;
  /** Left out of every upload: no usable EMAIL. */
  withoutEmail: number;
  /** Uploaded once: another user has the same EMAIL. */
  duplicateEmails: number;
  /** Of the users with an EMAIL: */
  withEmail: number;
  withoutSite: number;
  withoutMobile: number;
  withoutDeskphone: number;
  /** SITE values not among `sites`, with how many users carry each (only when `sites` is set). */
  sitesOutside: { site: string; users: number }[];
  /** What a run would upload, after every check. */
  uploadable: number;
  /** What `phones` would do to the numbers found; absent when numbers are sent as they are. */
  phones?: PhoneSampleCounts;
}

export function attributeCoverage(config: Config, records: readonly SourceRecord[]): AttributeCoverage {
  // SITE is judged here, not by mapRecords, so the values outside `sites` can be listed.
  const mapped = mapRecords(records, {
    mapping: config.mapping,
    siteGroups: config.siteGroups,
    sites: undefined,
  });
  const rows = mapped.records.map((record) => record.row);
  const outside = new Map<string, number>();
  for (const row of rows) {
    if (config.sites && row.SITE !== "" && !config.sites.includes(row.SITE))
      outside.set(row.SITE, (outside.get(row.SITE) ?? 0) + 1);
  }
  const reasons = mapped.skipped.map((skip) => skip.reason);
  return {
    users: rows.length + mapped.skipped.length,
    withoutEmail: reasons.filter((reason) => reason === "no-email" || reason === "invalid-email").length,
    duplicateEmails: reasons.filter((reason) => reason === "duplicate-email").length,
    withEmail: rows.length,
    withoutSite: rows.filter((row) => row.SITE === "").length,
    withoutMobile: rows.filter((row) => row.MOBILE === "").length,
    withoutDeskphone: rows.filter((row) => row.DESKPHONE === "").length,
    sitesOutside: [...outside]
      .map(([site, users]) => ({ site, users }))
      .sort((a, b) => b.users - a.users || (a.site < b.site ? -1 : 1)),
    uploadable: planFromRecords(config, records).rows.length,
    ...(config.phones && config.phones.format !== "asIs"
      ? { phones: countPhoneChanges(rows, config.phones) }
      : {}),
  };
}

export function assessCoverage(
  id: string,
  title: string,
  config: Config,
  coverage: AttributeCoverage,
): CheckResult {
  const details = [
    `${coverage.users} users found; a run would upload ${coverage.uploadable}`,
    `${coverage.withoutEmail} without a usable EMAIL (left out), ${coverage.duplicateEmails} sharing another user's EMAIL (uploaded once)`,
    `of the ${coverage.withEmail} with an EMAIL: ${coverage.withoutSite} without SITE, ${coverage.withoutMobile} without MOBILE, ${coverage.withoutDeskphone} without DESKPHONE`,
  ];
  if (coverage.sitesOutside.length > 0) {
    details.push(
      `SITE values outside \`sites\` (left out): ${coverage.sitesOutside
        .map((entry) => `"${entry.site}" (${entry.users})`)
        .join(", ")}`,
    );
  }
  const { phones } = coverage;
  if (phones) {
    details.push(
      `phone numbers (phones.format ${config.phones?.format}): ${phones.changed} of ${phones.numbers} would be rewritten, ${phones.invalid} invalid, ${phones.fixedLineMobiles} MOBILE on a fixed line`,
    );
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  if (phones && phones.invalid > 0) {
    problems.push(`${phones.invalid} invalid phone numbers`);
    fixes.push(
      "correct the numbers in AD or set phones.defaultCountry / countryBySite (`run --dry-run --verbose` lists each one)",
    );
  }
  if (coverage.withoutEmail > 0) {
    problems.push(`${coverage.withoutEmail} without EMAIL`);
    fixes.push("fill in mail (or userPrincipalName) in AD, or map EMAIL to another attribute");
  }
  if (coverage.duplicateEmails > 0) {
    problems.push(`${coverage.duplicateEmails} with a duplicate EMAIL`);
    fixes.push("give each person their own address (of a duplicate, the entry whose DN sorts first is kept)");
  }
  const siteMissingMatters = config.sites !== undefined && coverage.withoutSite > 0;
  if (siteMissingMatters) problems.push(`${coverage.withoutSite} without SITE`);
  if (coverage.sitesOutside.length > 0) {
    const users = coverage.sitesOutside.reduce((sum, entry) => sum + entry.users, 0);
    problems.push(`${users} with a SITE outside \`sites\``);
  }
  if (siteMissingMatters || coverage.sitesOutside.length > 0) {
    fixes.push(
      "translate the office values with mapping.SITE.map (globs allowed) or give a default, set searchBases[].site, or add the site to `sites`",
    );
  }
  const summary = `${coverage.uploadable} of ${coverage.users} users would be uploaded`;
  if (coverage.uploadable === 0) {
    return {
      id,
      title,
      status: "fail",
      summary: `${summary}: a run would stop, as an empty upload would disable every host`,
      details,
      fix:
        fixes.length > 0
          ? fixes.join("; ")
          : "check directory.searchBases, directory.groups and directory.filter",
      category: "guard",
    };
  }
  if (problems.length === 0) return passed(id, title, summary, details);
  return warned(id, title, `${summary} (${problems.join(", ")})`, fixes.join("; "), details);
}
