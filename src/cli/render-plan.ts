/** Human and JSON renderings of a sync plan: what a run found, skipped and would upload. */
import { COLUMNS } from "../core/columns.ts";
import { countByReason, type SyncPlan } from "../core/plan.ts";

const EXAMPLES = 5;

export function planSummaryJson(plan: SyncPlan) {
  return {
    query: plan.query,
    found: plan.entriesFound,
    toUpload: plan.rows.length,
    recordsPerSite: plan.recordsPerSite,
    skippedByReason: countByReason(plan.skipped),
    skipped: plan.skipped,
    warnings: plan.warnings,
  };
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
    lines.push(`LDAP filter: ${plan.query.filter}`);
    lines.push(`Search bases: ${plan.query.bases.join(" | ")}`);
    lines.push(`Attributes: ${plan.query.attributes.join(", ")}`);
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
  for (const skip of shownSkips) lines.push(`  - ${skip.dn}: ${skip.message}`);
  if (shownSkips.length < plan.skipped.length) {
    lines.push(`  ... ${plan.skipped.length - shownSkips.length} more (use --verbose or --json for all)`);
  }
  for (const warning of plan.warnings.slice(0, options.verbose ? undefined : EXAMPLES)) {
    lines.push(`Warning:   ${warning.email}: ${warning.message}`);
  }
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
    const body = plan.records
      .slice(0, count)
      .map((record) =>
        options.verbose
          ? [...COLUMNS.map((c) => record.row[c]), record.siteSource]
          : COLUMNS.map((c) => record.row[c]),
      );
    lines.push(...table([header, ...body]).map((line) => `  ${line}`));
  }
  return lines.join("\n");
}
