import type { Command } from "commander";
import { writePrivateFile } from "../../adapters/files/private-file.ts";
import { runSync } from "../../app/run-sync.ts";
import type { CommandContext } from "../context.ts";
import { planSummaryJson, renderPlan } from "../render-plan.ts";
import { directoryFor, ilobbyClientFor } from "../wiring.ts";

interface RunOptions {
  dryRun?: boolean;
  output?: string;
  allowEmpty?: boolean;
}

export function registerRun(program: Command, context: CommandContext): void {
  program
    .command("run")
    .description("read Active Directory, build the iLobby CSV and upload it (the daily sync)")
    .option("--dry-run", "do everything except the token request and the upload; print what would be sent")
    .option("--output <file>", "also write the CSV to this file (mode 0600: it holds personal data)")
    .option("--allow-empty", "upload even when no one is left to upload (this disables every host)")
    .action(async (options: RunOptions) => {
      const { output, environment } = context;
      const loaded = await context.loadConfig();
      output.verbose(`config: ${loaded.path}`);
      const directory = await directoryFor(loaded, environment, output);
      let client: Awaited<ReturnType<typeof ilobbyClientFor>> | undefined;
      try {
        const result = await runSync(
          loaded.config,
          {
            dryRun: Boolean(options.dryRun),
            allowEmpty: Boolean(options.allowEmpty),
            saveCsv: options.output
              ? (csv) => writePrivateFile(options.output as string, csv, "CSV output file")
              : undefined,
            onProgress: (count) => output.progress(`reading the directory: ${count} entries`),
          },
          {
            directory,
            target: async () => {
              client = await ilobbyClientFor(
                loaded,
                { ...loaded.config.ilobby, secretName: "client-secret" },
                environment,
                output,
              );
              return client;
            },
            log: (message) => output.verbose(message),
          },
        );
        output.result(
          () =>
            [
              renderPlan(result.plan, { verbose: output.options.verbose }),
              "",
              result.upload
                ? `Uploaded ${result.plan.rows.length} records. iLobby said: ${result.upload.message || `HTTP ${result.upload.status}`}`
                : "Dry run: nothing was uploaded.",
              ...(options.output ? [`CSV written to ${options.output}`] : []),
            ].join("\n"),
          () => ({
            ok: true,
            dryRun: Boolean(options.dryRun),
            ...planSummaryJson(result.plan),
            ...(options.dryRun ? { rows: result.plan.rows } : {}),
            upload: result.upload,
          }),
        );
      } finally {
        await client?.close();
      }
    });
}
