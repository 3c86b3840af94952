import type { Command } from "commander";
import { streamCsvFile } from "../../adapters/files/csv-file.ts";
import { type Row, rowFromValues } from "../../core/columns.ts";
import { type CsvValidationReport, createCsvValidator } from "../../core/csv-validation.ts";
import { EXIT_CODES, SyncError } from "../../core/errors.ts";
import { acceptedSites } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";

/**
 * Validates a CSV in one streaming pass. With `keepRows`, the records are kept as rows too (for `upload`'s diff
 * against the last upload), so the file is parsed once.
 */
export async function validateCsvFile(
  path: string,
  sites: readonly string[] | undefined,
  options: { keepRows?: boolean } = {},
): Promise<{ report: CsvValidationReport; rows: Row[] }> {
  const validator = createCsvValidator({ sites });
  const rows: Row[] = [];
  await streamCsvFile(path, {
    header: (fields, line) => validator.header(fields, line),
    record: (values, line) => {
      validator.record(values, line);
      if (options.keepRows) rows.push(rowFromValues(values));
    },
  });
  return { report: validator.finish(), rows };
}

export function renderValidationReport(path: string, report: CsvValidationReport): string {
  const lines = report.problems.map(
    (problem) =>
      `${path}:${problem.line}${problem.column ? ` ${problem.column}` : ""}: ${problem.severity}: ${problem.message}`,
  );
  if (report.problemsOmitted > 0) lines.push(`... and ${report.problemsOmitted} more problem(s)`);
  const sites = Object.entries(report.recordsPerSite)
    .map(([site, count]) => `${site || "(no SITE)"} ${count}`)
    .join(", ");
  lines.push(
    `${report.valid ? "valid" : "INVALID"}: ${report.records} record(s), ${report.errors} error(s), ${report.warnings} warning(s)${sites ? ` (${sites})` : ""}`,
  );
  return lines.join("\n");
}

export function registerValidate(program: Command, context: CommandContext): void {
  program
    .command("validate")
    .description(
      "check an iLobby CSV made anywhere: header, EMAIL present, well-formed and unique, SITE in `sites`",
    )
    .argument("<file>", "the CSV file to check")
    .option("--target <name>", "with several `targets`: check SITE against this target's sites")
    .action(async (file: string, options: { target?: string }) => {
      const loaded = await context.loadConfigIfAny();
      if (options.target && !loaded?.config.targets?.some((target) => target.name === options.target)) {
        throw new SyncError("config", `no target named "${options.target}" in the config`, {
          fix: "name one of the config's `targets`, or leave out --target",
        });
      }
      const sites = loaded ? acceptedSites(loaded.config, options.target) : undefined;
      const { report } = await validateCsvFile(file, sites);
      context.output.result(
        () => renderValidationReport(file, report),
        () => ({ ok: report.valid, file, ...report }),
      );
      if (!report.valid) context.setExitCode(EXIT_CODES.data);
    });
}
