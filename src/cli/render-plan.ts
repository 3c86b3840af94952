/** Human and JSON renderings of a sync plan: what a run found, skipped and would upload. */
import { COLUMNS } from "../core/columns.ts";
import { PHONE_PROBLEM_LABELS, type PhoneProblem, type PhoneReport } from "../core/phones.ts";
import { countByReason, type SyncPlan } from "../core/plan.ts";

const EXAMPLES = 5;

/** The source's query as one JSON object: `{ type: "ldap", filter, searchBases, attributes }`. */
function queryJson(plan: SyncPlan) {
  if (!plan.query) return undefined;
  return {
    type: plan.query.type,
    ...Object.fromEntries(plan.query.details.map((detail) => [detail.key, detail.value])),
  };
}

export function planSummaryJson(plan: SyncPlan) {
  return {
    query: queryJson(plan),
    found: plan.entriesFound,
    toUpload: plan.rows.length,
    recordsPerSite: plan.recordsPerSite,
    skippedByReason: countByReason(plan.skipped),
    skipped: plan.skipped,
    warnings: plan.warnings,
    phonesByProblem: phoneCounts(plan.phones),
    phones: plan.phones,
  };
}

/** Counts per problem, in the order of PHONE_PROBLEM_LABELS (the most serious first). */
function phoneCounts(reports: readonly PhoneReport[]): Partial<Record<PhoneProblem, number>> {
  const counts: Partial<Record<PhoneProblem, number>> = {};
  for (const problem of Object.keys(PHONE_PROBLEM_LABELS) as PhoneProblem[]) {
    const count = reports.filter((report) => report.problem === problem).length;
    if (count > 0) counts[problem] = count;
  }
  return counts;
}

/** "MOBILE "020 7946 0958" is a fixed line..." for one person; the raw value is quoted as JSON (it is untrusted). */
function describePhoneReport(report: PhoneReport): string {
  return `${report.email} (${report.ref}): ${report.column} ${JSON.stringify(report.raw)} ${report.message}`;
}

function renderPhones(reports: readonly PhoneReport[], verbose: boolean): string[] {
  if (reports.length === 0) return [];
  const counts = Object.entries(phoneCounts(reports))
    .map(([problem, count]) => `${count} ${PHONE_PROBLEM_LABELS[problem as PhoneProblem]}`)
    .join(", ");
  const shown = verbose ? reports : reports.slice(0, EXAMPLES);
  const lines = [`Phones:    ${counts}`, ...shown.map((report) => `  ! ${describePhoneReport(report)}`)];
  if (shown.length < reports.length) {
    lines.push(`  ... ${reports.length - shown.length} more (use --verbose or --json for all)`);
  }
  return lines;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.min(28, Math.max(...rows.map((row) => (row[column] ?? "").length)))) ??
    [];
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return cell.length > width ? `${cell.slice(0, width - 1)}…` : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd(),
  );
}

export function renderPlan(plan: SyncPlan, options: { verbose: boolean; firstRows?: number }): string {
  const lines: string[] = [];
  if (options.verbose) {
    for (const detail of plan.query?.details ?? []) lines.push(`${detail.label}: ${detail.value}`);
  }
  const perSite = Object.entries(plan.recordsPerSite)
    .map(([site, count]) => `${site || "(no SITE)"} ${count}`)
    .join(", ");
  lines.push(`Found:     ${plan.entriesFound} people`);
  lines.push(`To upload: ${plan.rows.length}${perSite ? ` (${perSite})` : ""}`);
  const reasons = Object.entries(countByReason(plan.skipped))
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  lines.push(`Skipped:   ${plan.skipped.length}${reasons ? ` (${reasons})` : ""}`);
  const shownSkips = options.verbose ? plan.skipped : plan.skipped.slice(0, EXAMPLES);
  for (const skip of shownSkips) lines.push(`  - ${skip.ref}: ${skip.message}`);
  if (shownSkips.length < plan.skipped.length) {
    lines.push(`  ... ${plan.skipped.length - shownSkips.length} more (use --verbose or --json for all)`);
  }
  for (const warning of plan.warnings.slice(0, options.verbose ? undefined : EXAMPLES)) {
    lines.push(`Warning:   ${warning.email}: ${warning.message}`);
  }
  lines.push(...renderPhones(plan.phones, options.verbose));
  // --verbose lists every record with the rule its SITE came from; otherwise the first few show the shape.
  const count = options.verbose ? plan.rows.length : (options.firstRows ?? EXAMPLES);
  if (plan.rows.length > 0 && count > 0) {
    lines.push(
      "",
      options.verbose
        ? `All ${plan.rows.length} rows:`
        : `First ${Math.min(count, plan.rows.length)} of ${plan.rows.length} rows:`,
    );
    const header = options.verbose ? [...COLUMNS, "(SITE from)"] : [...COLUMNS];
    const body = plan.rows
      .slice(0, count)
      .map((row, index) =>
        options.verbose
          ? [...COLUMNS.map((c) => row[c]), plan.siteSources[index] ?? "none"]
          : COLUMNS.map((c) => row[c]),
      );
    lines.push(...table([header, ...body]).map((line) => `  ${line}`));
  }
  return lines.join("\n");
}
