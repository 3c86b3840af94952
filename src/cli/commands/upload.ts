import type { Command } from "commander";
import { createSpool, readCsvBytes } from "../../adapters/files/csv-file.ts";
import { uploadCsvFile } from "../../app/upload-file.ts";
import { diffCounts } from "../../core/diff.ts";
import { EXIT_CODES, errorJson, SyncError } from "../../core/errors.ts";
import { acceptedSites, resolveTargets } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";
import { renderValidationReport } from "../render-csv-check.ts";
import { renderTarget } from "../render-run.ts";
import { checkedReportPath } from "../report-file.ts";
import { checkedLogPath, checkIlobbyCaFile, ilobbyClientFor, runLogFor, stateStoreFor } from "../wiring.ts";

interface UploadOptions {
  target?: string;
  dryRun?: boolean;
  force?: boolean;
  report?: string;
}

export function registerUpload(program: Command, context: CommandContext): void {
  program
    .command("upload")
    .description(
      "validate a CSV made elsewhere and upload it to iLobby (the vendor's custom-integration path)",
    )
    .argument(
      "<file>",
      "the CSV file to upload (a regular file: it is checked, then exactly those bytes are sent)",
    )
    .option("--target <name>", "with several `targets`: the one to upload to (its sites are enforced)")
    .option("--dry-run", "validate and show what would change, without uploading")
    .option("--force", "lift the disable guard (safety.maxDisable) for this upload")
    .option("--report <file>", "also write an HTML report of the change (mode 0600)")
    .action(async (file: string, options: UploadOptions) => {
      const { output, environment } = context;
      const dryRun = Boolean(options.dryRun);
      const loaded = await context.loadConfig();
      const { runId } = await context.notifications.begin(loaded, "upload", dryRun);
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
      await checkedLogPath(loaded);
      const reportPath = await checkedReportPath(context.cwd, options.report);
      await checkIlobbyCaFile(loaded);
      const log = await runLogFor(
        loaded,
        { runId, command: dryRun ? "upload --dry-run" : "upload" },
        environment,
        output,
      );
      const state = await stateStoreFor(loaded);
      const release = dryRun ? undefined : await state.lock();
      // The bytes are copied as they are checked, and the copy is what is sent: replacing or growing the file
      // after the check changes nothing.
      const spool = dryRun ? undefined : await createSpool();
      try {
        const { check, outcome } = await uploadCsvFile(
          target,
          {
            name: file,
            bytes: readCsvBytes(file, { regularFileOnly: true, copyTo: spool?.file }),
            payload: { kind: "file", path: spool?.file ?? file },
          },
          {
            runId,
            dryRun,
            force: Boolean(options.force),
            allowEmpty: false,
            safety: loaded.config.safety,
            sites: acceptedSites(loaded.config, target.name),
          },
          {
            state,
            target: (resolved) =>
              ilobbyClientFor(
                loaded,
                resolved,
                environment,
                output,
                context.notifications.certificateListener(),
              ),
            clock: environment.clock,
            log,
            say: (message) => output.verbose(message),
            warn: (message) => output.warn(message),
          },
        ).catch((error: unknown) => {
          log.event("run-failed", { message: error instanceof Error ? error.message : String(error) });
          throw error;
        });
        const { report } = check;
        if (!outcome) {
          context.notifications.record({
            targets: [],
            error: new SyncError(
              "data",
              `${file} is not a valid iLobby CSV (${report.errors} error(s)); nothing was uploaded`,
              { fix: `run \`ilobby-sync validate ${file}\` to see each problem with its line` },
            ),
          });
          output.result(
            () => `${renderValidationReport(file, report)}\nNothing was uploaded.`,
            () => ({ ok: false, uploaded: false, file, ...report }),
          );
          context.setExitCode(EXIT_CODES.data);
          return;
        }
        context.notifications.record({ targets: [outcome], reportFile: reportPath });
        if (reportPath) {
          const [{ changeReport }, { writeReport }, { hostname }] = await Promise.all([
            import("../../app/review.ts"),
            import("../report-file.ts"),
            import("node:os"),
          ]);
          const meta = {
            command: `upload ${file}${dryRun ? " --dry-run" : ""}`,
            runId,
            createdAt: new Date(environment.clock.now()).toISOString(),
            host: hostname(),
            dryRun,
          };
          await writeReport(
            reportPath,
            changeReport([outcome], () => check.rows.slice(), meta),
            output,
          );
        }
        output.result(
          () =>
            [
              ...(report.warnings > 0 ? [renderValidationReport(file, report)] : []),
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
            warnings: report.problems,
            counts: diffCounts(outcome.diff),
            guard: outcome.guard,
            upload: outcome.upload,
            error: outcome.error ? errorJson(outcome.error) : undefined,
          }),
        );
        if (outcome.error) {
          output.error(outcome.error, { inResult: true });
          context.setExitCode(outcome.error.exitCode);
        }
      } finally {
        await spool?.remove();
        await release?.();
      }
    });
}
