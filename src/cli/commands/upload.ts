import type { Command } from "commander";
import { EXIT_CODES, SyncError } from "../../core/errors.ts";
import { resolveTargets } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";
import { ilobbyClientFor } from "../wiring.ts";
import { renderValidationReport, validateCsvFile } from "./validate.ts";

export function registerUpload(program: Command, context: CommandContext): void {
  program
    .command("upload")
    .description(
      "validate a CSV made elsewhere and upload it to iLobby (the vendor's custom-integration path)",
    )
    .argument("<file>", "the CSV file to upload")
    .option("--target <name>", "with several `targets`: the one to upload to (its sites are enforced)")
    .action(async (file: string, options: { target?: string }) => {
      const { output, environment } = context;
      const loaded = await context.loadConfig();
      const targets = resolveTargets(loaded.config);
      const target = options.target
        ? targets.find((candidate) => candidate.name === options.target)
        : targets[0];
      if (!target || (targets.length > 1 && !options.target)) {
        throw new SyncError(
          "config",
          options.target ? `no target named "${options.target}"` : "several targets are configured",
          {
            fix: `choose one with --target (${targets.map((candidate) => candidate.name).join(", ")})`,
          },
        );
      }
      const report = await validateCsvFile(file, target.sites ?? loaded.config.sites);
      if (!report.valid) {
        output.result(
          () => `${renderValidationReport(file, report)}\nNothing was uploaded.`,
          () => ({ ok: false, uploaded: false, file, ...report }),
        );
        context.setExitCode(EXIT_CODES.data);
        return;
      }
      const client = await ilobbyClientFor(loaded, target, environment, output);
      try {
        const receipt = await client.upload({ kind: "file", path: file });
        output.result(
          () =>
            `Uploaded ${report.records} records from ${file} to ${target.name}. iLobby said: ${receipt.message || `HTTP ${receipt.status}`}`,
          () => ({
            ok: true,
            uploaded: true,
            file,
            target: target.name,
            records: report.records,
            upload: receipt,
          }),
        );
      } finally {
        await client.close();
      }
    });
}
