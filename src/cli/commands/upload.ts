import type { Command } from "commander";
import { silentLog } from "../../adapters/files/json-log.ts";
import { deliverToTarget } from "../../app/run-sync.ts";
import { diffCounts } from "../../core/diff.ts";
import { EXIT_CODES, SyncError } from "../../core/errors.ts";
import { acceptedSites, resolveTargets } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";
import { renderTarget } from "../render-run.ts";
import { ilobbyClientFor, stateStoreFor } from "../wiring.ts";
import { renderValidationReport, validateCsvFile } from "./validate.ts";

interface UploadOptions {
  target?: string;
  dryRun?: boolean;
  force?: boolean;
}

export function registerUpload(program: Command, context: CommandContext): void {
  program
    .command("upload")
    .description(
      "validate a CSV made elsewhere and upload it to iLobby (the vendor's custom-integration path)",
    )
    .argument("<file>", "the CSV file to upload")
    .option("--target <name>", "with several `targets`: the one to upload to (its sites are enforced)")
    .option("--dry-run", "validate and show what would change, without uploading")
    .option("--force", "lift the disable guard (safety.maxDisable) for this upload")
    .action(async (file: string, options: UploadOptions) => {
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
          { fix: `choose one with --target (${targets.map((candidate) => candidate.name).join(", ")})` },
        );
      }
      const { report, rows } = await validateCsvFile(file, acceptedSites(loaded.config, target.name), {
        keepRows: true,
      });
      if (!report.valid) {
        output.result(
          () => `${renderValidationReport(file, report)}\nNothing was uploaded.`,
          () => ({ ok: false, uploaded: false, file, ...report }),
        );
        context.setExitCode(EXIT_CODES.data);
        return;
      }
      const dryRun = Boolean(options.dryRun);
      const state = await stateStoreFor(loaded);
      const release = dryRun ? undefined : await state.lock();
      try {
        const outcome = await deliverToTarget(
          target,
          rows,
          { kind: "file", path: file },
          {
            runId: crypto.randomUUID(),
            dryRun,
            force: Boolean(options.force),
            allowEmpty: false,
            safety: loaded.config.safety,
          },
          {
            state,
            target: (resolved) => ilobbyClientFor(loaded, resolved, environment, output),
            clock: environment.clock,
            log: silentLog,
            say: (message) => output.verbose(message),
            warn: (message) => output.warn(message),
          },
        );
        output.result(
          () =>
            [
              `${file}: ${report.records} valid records`,
              ...renderTarget(outcome, { verbose: output.options.verbose, dryRun }),
              ...(dryRun ? ["Dry run: nothing was uploaded."] : []),
            ].join("\n"),
          () => ({
            ok: outcome.status !== "failed",
            uploaded: outcome.status === "uploaded",
            file,
            target: target.name,
            records: report.records,
            counts: diffCounts(outcome.diff),
            guard: outcome.guard,
            upload: outcome.upload,
          }),
        );
        if (outcome.error) {
          output.error(outcome.error, { inResult: true });
          context.setExitCode(outcome.error.exitCode);
        }
      } finally {
        await release?.();
      }
    });
}
