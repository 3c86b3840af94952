/** How `validate` and `upload` print a CSV's verdict: one line per problem (file:line column: severity: message). */
import type { CsvValidationReport } from "../core/csv-validation.ts";

/** The file's own text reaches these messages (a SITE, an EMAIL): its control characters must not reach the terminal. */
const escapeControls = (text: string) =>
  text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    /[\x00-\x08\x0A-\x1F\x7F\x9B]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );

export function renderValidationReport(path: string, report: CsvValidationReport): string {
  const lines = report.problems.map(
    (problem) =>
      `${path}:${problem.line}${problem.column ? ` ${problem.column}` : ""}: ${problem.severity}: ${escapeControls(problem.message)}`,
  );
  if (report.problemsOmitted > 0) lines.push(`... and ${report.problemsOmitted} more problem(s)`);
  const sites = Object.entries(report.recordsPerSite)
    .map(([site, count]) => `${escapeControls(site) || "(no SITE)"} ${count}`)
    .join(", ");
  lines.push(
    `${report.valid ? "valid" : "INVALID"}: ${report.records} record(s), ${report.errors} error(s), ${report.warnings} warning(s)${sites ? ` (${sites})` : ""}`,
  );
  return lines.join("\n");
}
