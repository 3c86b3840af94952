import type { Command } from "commander";
import { EXIT_CODES } from "../../core/errors.ts";
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
    .action(async (file: string) => {
      const { output, environment } = context;
      const loaded = await context.loadConfig();
      const report = await validateCsvFile(file, loaded.config.sites);
      if (!report.valid) {
        output.result(
          () => `${renderValidationReport(file, report)}\nNothing was uploaded.`,
          () => ({ ok: false, uploaded: false, file, ...report }),
        );
        context.setExitCode(EXIT_CODES.data);
        return;
      }
      const client = await ilobbyClientFor(
        loaded,
        { ...loaded.config.ilobby, secretName: "client-secret" },
        environment,
        output,
      );
      try {
        const receipt = await client.upload({ kind: "file", path: file });
        output.result(
          () =>
            `Uploaded ${report.records} records from ${file}. iLobby said: ${receipt.message || `HTTP ${receipt.status}`}`,
          () => ({ ok: true, uploaded: true, file, records: report.records, upload: receipt }),
        );
      } finally {
        await client.close();
      }
    });
}
