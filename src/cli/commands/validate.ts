import type { Command } from "commander";
import { readCsvBytes } from "../../adapters/files/csv-file.ts";
import { checkCsv } from "../../app/check-csv.ts";
import { EXIT_CODES, SyncError } from "../../core/errors.ts";
import { acceptedSites } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";
import { renderValidationReport } from "../render-csv-check.ts";

export function registerValidate(program: Command, context: CommandContext): void {
  program
    .command("validate")
    .description(
      "check an iLobby CSV made anywhere: UTF-8, header, EMAIL present, well-formed and unique, SITE in `sites`, field lengths, no control characters, phone numbers in `phones.format`",
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
      const { report } = await checkCsv(readCsvBytes(file), { sites, phones: loaded?.config.phones });
      context.output.result(
        () => renderValidationReport(file, report),
        () => ({ ok: report.valid, file, ...report }),
      );
      if (!report.valid) context.setExitCode(EXIT_CODES.data);
    });
}
