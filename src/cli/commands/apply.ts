import { resolve } from "node:path";
import type { Command } from "commander";
import { SyncError } from "../../core/errors.ts";
import type { CommandContext } from "../context.ts";

interface ApplyOptions {
  yes?: boolean;
  target?: string;
  allowEmpty?: boolean;
  report?: string;
}

const APPROVAL = "yes";

/** Asks the person at the terminal; anything but "yes" is a no. */
async function confirmedAtTerminal(question: string): Promise<boolean> {
  const { promptLine } = await import("../prompt.ts");
  try {
    return (await promptLine(question, process.stdin, process.stderr)).toLowerCase() === APPROVAL;
  } catch {
    return false; // Ctrl-C or Ctrl-D
  }
}

export function registerApply(program: Command, context: CommandContext): void {
  program
    .command("apply")
    .description(
      "upload exactly the change of a reviewed plan (saved by `run --dry-run --plan` or a stopped run)",
    )
    .argument("<plan>", "the plan file")
    .option("--yes", "apply without asking (required when no one is at a terminal)")
    .option("--target <name>", "apply only this target of the plan")
    .option("--allow-empty", "apply even an empty upload (this disables every host)")
    .option("--report <file>", "also write an HTML report of the change (mode 0600)")
    .action(async (file: string, options: ApplyOptions) => {
      const { output, environment } = context;
      const planPath = resolve(context.cwd, file);
      const [
        { parseDuration },
        { resolveTargets },
        { applyPlan, approvedRows, checkPlan, previewOutcomes, readPlan },
        { changeReport },
        { renderTarget },
        wiring,
        { hostname },
        { checkedReportPath },
        { diffCounts },
      ] = await Promise.all([
        import("../../core/duration.ts"),
        import("../../core/targets.ts"),
        import("../../app/apply-plan.ts"),
        import("../../app/review.ts"),
        import("../render-run.ts"),
        import("../wiring.ts"),
        import("node:os"),
        import("../report-file.ts"),
        import("../../core/diff.ts"),
      ]);
      const loaded = await context.loadConfig();
      // A refused or failed apply notifies like a failed run: a scheduled `apply --yes` must not fail silently.
      const { runId } = await context.notifications.begin(loaded, "apply", false);
      const reportPath = await checkedReportPath(context.cwd, options.report);
      await wiring.checkedLogPath(loaded);
      const plans = await wiring.planFilesFor(loaded);
      const plan = await readPlan(plans, planPath);
      const state = await wiring.stateStoreFor(loaded);
      const applyOptions = {
        runId,
        planPath,
        target: options.target,
        allowEmpty: Boolean(options.allowEmpty),
        maxAge: {
          text: loaded.config.safety.planMaxAge,
          ms: parseDuration(loaded.config.safety.planMaxAge) ?? 0,
        },
      };
      const configured = resolveTargets(loaded.config);
      const clock = environment.clock;
      const approved = await checkPlan(plan, configured, applyOptions, { state, clock });
      if (plan.config !== loaded.path) {
        output.warn(`the plan was made with the config ${plan.config}; applying it with ${loaded.path}`);
      }

      const made = `Plan ${planPath}\n  made ${plan.createdAt} on ${plan.host} by run ${plan.runId}`;
      if (!options.yes) {
        if (!process.stdin.isTTY) {
          throw new SyncError(
            "config",
            "apply needs --yes when no one is at a terminal to confirm: nothing was uploaded",
            {
              fix: "review the change (e.g. with --report file.html), then run `ilobby-sync apply <plan> --yes`",
            },
          );
        }
        const lines = [made];
        for (const outcome of previewOutcomes(approved))
          lines.push(...renderTarget(outcome, { verbose: output.options.verbose, dryRun: true }));
        output.info(lines.join("\n"));
        if (!(await confirmedAtTerminal(`Upload this change to iLobby? Type "${APPROVAL}" to confirm`))) {
          throw new SyncError("guard", "not confirmed: nothing was uploaded", {
            fix: `run the command again and type "${APPROVAL}", or use --yes`,
            data: { reason: "declined" },
          });
        }
      }

      const log = await wiring.runLogFor(loaded, { runId, command: "apply" }, environment, output);
      const release = await state.lock();
      let result: Awaited<ReturnType<typeof applyPlan>>;
      try {
        // Again under the lock: a run may have uploaded while the person was reading the change.
        const stillApproved = await checkPlan(plan, configured, applyOptions, { state, clock });
        result = await applyPlan(plan, stillApproved, applyOptions, {
          state,
          target: (target) => wiring.ilobbyClientFor(loaded, target, environment, output),
          clock,
          log,
          say: (message) => output.verbose(message),
        });
      } catch (error) {
        log.event("apply-failed", { message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        await release();
      }

      context.notifications.record({ targets: result.targets, reportFile: reportPath });
      if (reportPath) {
        const { writeReport } = await import("../report-file.ts");
        const meta = {
          command: `apply ${file}`,
          runId,
          planRunId: plan.runId,
          createdAt: new Date(clock.now()).toISOString(),
          host: hostname(),
          dryRun: false,
        };
        const report = changeReport(result.targets, approvedRows(approved), meta, plan);
        await writeReport(reportPath, report, output);
      }

      output.result(
        () => {
          const lines = [made];
          for (const outcome of result.targets)
            lines.push(...renderTarget(outcome, { verbose: output.options.verbose, dryRun: false }));
          const failed = result.targets
            .filter((outcome) => outcome.status === "failed")
            .map((outcome) => outcome.target);
          lines.push(
            "",
            failed.length === 0
              ? `Applied in ${(result.durationMs / 1000).toFixed(1)} s.`
              : `Failed target(s): ${failed.join(", ")}. Their last-sync state was not changed.`,
          );
          return lines.join("\n");
        },
        () => ({
          ok: result.exitCode === 0,
          exitCode: result.exitCode,
          runId,
          plan: { path: planPath, runId: plan.runId, createdAt: plan.createdAt, host: plan.host },
          targets: result.targets.map((outcome) => ({
            target: outcome.target,
            clientId: outcome.clientId,
            status: outcome.status,
            rows: outcome.rows,
            counts: diffCounts(outcome.diff),
            upload: outcome.upload,
            error: outcome.error
              ? {
                  category: outcome.error.category,
                  message: outcome.error.message,
                  cause: outcome.error.likelyCause,
                  fix: outcome.error.fix,
                }
              : undefined,
            durationMs: outcome.durationMs,
          })),
        }),
      );
      for (const outcome of result.targets) {
        if (outcome.error) output.error(outcome.error, { inResult: true });
      }
      context.setExitCode(result.exitCode);
    });
}
