import { hostname } from "node:os";
import { extname, resolve } from "node:path";
import type { Command } from "commander";
import type { LoadedConfig } from "../../adapters/files/config-file.ts";
import { spoolCsv } from "../../adapters/files/csv-file.ts";
import { checkOutputPath, writePrivateFile } from "../../adapters/files/private-file.ts";
import { runSync } from "../../app/run-sync.ts";
import { SyncError } from "../../core/errors.ts";
import { type ResolvedTarget, resolveTargets } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";
import { renderRun, runJson } from "../render-run.ts";
import { checkedReportPath } from "../report-file.ts";
import {
  checkedLogPath,
  checkIlobbyCaFile,
  directoryFor,
  ilobbyClientFor,
  planFilesFor,
  runLogFor,
  stateStoreFor,
} from "../wiring.ts";

interface RunOptions {
  dryRun?: boolean;
  output?: string;
  allowEmpty?: boolean;
  force?: boolean;
  plan?: string;
  report?: string;
}

/** With several targets, --output out.csv writes out.<target>.csv for each. */
function outputPathFor(path: string, target: ResolvedTarget, targetCount: number): string {
  if (targetCount === 1) return path;
  const extension = extname(path);
  return `${path.slice(0, path.length - extension.length)}.${target.name}${extension || ".csv"}`;
}

/** A link, device, FIFO or folder given as an output stops the run before the directory is read. */
async function checkOutputPaths(loaded: LoadedConfig, output: string | undefined) {
  await checkedLogPath(loaded);
  if (!output) return;
  const { config } = loaded;
  const targets = resolveTargets(config);
  for (const target of targets) {
    await checkOutputPath(outputPathFor(output, target, targets.length), "CSV output file");
  }
}

export function registerRun(program: Command, context: CommandContext): void {
  program
    .command("run")
    .description(
      "read the directory (Active Directory, Entra ID), build the iLobby CSV and upload it (the daily sync)",
    )
    .option("--dry-run", "do everything except the token request and the upload; show what would change")
    .option("--output <file>", "also write the CSV to this file (mode 0600: it holds personal data)")
    .option("--force", "lift the disable guard (safety.maxDisable) for this run")
    .option("--allow-empty", "upload even when no one is left to upload (this disables every host)")
    .option(
      "--plan <file>",
      "with --dry-run: save the change as a plan (mode 0600) to review and `apply` later",
    )
    .option("--report <file>", "also write an HTML report of the change (mode 0600)")
    .action(async (options: RunOptions) => {
      const { output, environment } = context;
      const dryRun = Boolean(options.dryRun);
      if (options.plan && !dryRun) {
        throw new SyncError("config", "--plan needs --dry-run", {
          fix: "use `run --dry-run --plan <file>`; a real run saves a plan by itself when the guard stops it",
        });
      }
      const loaded = await context.loadConfig();
      const { runId } = await context.notifications.begin(loaded, "run", dryRun);
      output.verbose(`config: ${loaded.path}`);
      await checkOutputPaths(loaded, options.output);
      const planPath = options.plan ? resolve(context.cwd, options.plan) : undefined;
      if (planPath) await checkOutputPath(planPath, "plan file");
      const reportPath = await checkedReportPath(context.cwd, options.report);
      await checkIlobbyCaFile(loaded);
      const state = await stateStoreFor(loaded);
      const log = await runLogFor(
        loaded,
        { runId, command: dryRun ? "run --dry-run" : "run" },
        environment,
        output,
      );
      // A dry run writes no state, so it may preview while the scheduled run is under way.
      const release = dryRun ? undefined : await state.lock();
      try {
        const sawCertificate = context.notifications.certificateListener();
        const plans = await planFilesFor(loaded);
        const { parseDuration } = await import("../../core/duration.ts");
        const { recordPlan } = await import("../../app/review.ts");
        const maxAgeMs = parseDuration(loaded.config.safety.planMaxAge) ?? Number.POSITIVE_INFINITY;
        for (const path of await plans.prune(maxAgeMs, environment.clock.now())) {
          output.verbose(`deleted a plan older than safety.planMaxAge: ${path}`);
        }
        const directory = await directoryFor(loaded, environment, output, sawCertificate);
        const result = await runSync(
          loaded.config,
          {
            runId,
            dryRun,
            allowEmpty: Boolean(options.allowEmpty),
            force: Boolean(options.force),
            safety: loaded.config.safety,
            saveCsv: options.output
              ? async (csv, target, count) => {
                  const path = outputPathFor(options.output as string, target, count);
                  await writePrivateFile(path, csv, "CSV output file");
                  output.verbose(`CSV for target ${target.name} written to ${path}`);
                }
              : undefined,
            onProgress: (count) => output.progress(`reading the directory: ${count} entries`),
            recordPlan: async (result) => {
              await recordPlan(
                result,
                {
                  runId,
                  dryRun,
                  planPath,
                  configPath: loaded.path,
                  host: hostname(),
                  platform: process.platform,
                },
                { plans, clock: environment.clock, log },
              );
            },
          },
          {
            directory,
            state,
            target: (target) => ilobbyClientFor(loaded, target, environment, output, sawCertificate),
            clock: environment.clock,
            log,
            say: (message) => output.verbose(message),
            warn: (message) => output.warn(message),
            spoolCsv,
          },
        ).catch((error: unknown) => {
          log.event("run-failed", { message: error instanceof Error ? error.message : String(error) });
          throw error;
        });
        context.notifications.record({ targets: result.targets, plan: result.plan, reportFile: reportPath });
        if (reportPath) {
          const [{ changeReport, runRows }, { writeReport }] = await Promise.all([
            import("../../app/review.ts"),
            import("../report-file.ts"),
          ]);
          const meta = {
            command: dryRun ? "run --dry-run" : "run",
            runId,
            createdAt: new Date(environment.clock.now()).toISOString(),
            host: hostname(),
            dryRun,
          };
          const report = changeReport(result.targets, runRows(result), meta, result.plan);
          await writeReport(reportPath, report, output);
        }
        output.result(
          () => renderRun(result, { verbose: output.options.verbose, dryRun }),
          () => ({
            ...runJson(result, { dryRun, runId }),
            ...(dryRun ? { rows: result.plan.rows.slice() } : {}),
          }),
        );
        for (const outcome of result.targets) {
          if (outcome.error) output.error(outcome.error, { inResult: true });
        }
        context.setExitCode(result.exitCode);
      } finally {
        await release?.();
      }
    });
}
