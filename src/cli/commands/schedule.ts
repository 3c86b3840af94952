/**
 * `schedule`: prints the daily job for cron, systemd or Windows Task Scheduler; `--install` puts it in place and
 * `--uninstall` takes exactly that away again. The job's text comes from core/schedule.ts, the installers from
 * adapters/schedule/ (one per platform), the printed text from render-schedule.ts.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { isSea } from "node:sea";
import { type Command, Option } from "commander";
import type { InstallerContext, Scheduler } from "../../adapters/schedule/scheduler.ts";
import { SyncError } from "../../core/errors.ts";
import {
  DEFAULT_SCHEDULE_TIME,
  defaultSchedulePlatform,
  parseScheduleTime,
  SCHEDULE_PLATFORMS,
  type ScheduleOptions,
  type SchedulePlatform,
} from "../../core/schedule.ts";
import { secretNamesFor } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";
import { renderSchedule, type ScheduleAction } from "../render-schedule.ts";

interface ScheduleCommandOptions {
  platform?: SchedulePlatform;
  time: string;
  user?: string;
  install?: boolean;
  uninstall?: boolean;
  unitDir?: string;
}

/** The command a scheduler starts: the single executable itself, or node with this script. */
function selfExecutable(): string[] {
  if (isSea()) return [process.execPath];
  const script = process.argv[1];
  return script ? [process.execPath, resolve(script)] : [process.execPath];
}

export function registerSchedule(program: Command, context: CommandContext): void {
  program
    .command("schedule")
    .description(
      "print, or install, the daily `ilobby-sync run` job for cron, systemd or Windows Task Scheduler",
    )
    .addOption(
      new Option("--platform <platform>", "the scheduler (default: this host's)").choices(SCHEDULE_PLATFORMS),
    )
    .option("--time <HH:MM>", "local time of the daily run", DEFAULT_SCHEDULE_TIME)
    .option(
      "--user <name>",
      "the account the job runs as (cron: whose crontab; systemd: User=; Windows: /RU)",
    )
    .option(
      "--install",
      "install the job (cron: crontab; systemd: unit files + systemctl; Windows: schtasks)",
    )
    .option("--uninstall", "remove the job that --install installed, and nothing else")
    .option(
      "--unit-dir <dir>",
      "systemd: where the unit files go (default: /etc/systemd/system, or the user's)",
    )
    .action(async (options: ScheduleCommandOptions) => {
      if (options.install && options.uninstall) {
        throw new SyncError("config", "--install and --uninstall cannot be combined", {
          fix: "give one of them, or neither to print the job",
        });
      }
      const platform =
        options.platform ?? defaultSchedulePlatform(process.platform, existsSync("/run/systemd/system"));
      if (options.unitDir && platform !== "systemd") {
        throw new SyncError("config", "--unit-dir applies to --platform systemd only", {
          fix: "leave out --unit-dir, or add --platform systemd",
        });
      }
      const time = parseScheduleTime(options.time);
      // The job runs from another working directory, so every path in it comes from the loaded config's location.
      const loaded = await context.loadConfig();
      context.output.verbose(`config: ${loaded.path}`);
      const scheduleOptions: ScheduleOptions = {
        executable: selfExecutable(),
        configPath: loaded.path,
        time,
        user: options.user,
        secretNames: secretNamesFor(loaded.config),
        logFile: loaded.config.log.file ? loaded.resolvePath(loaded.config.log.file) : undefined,
      };
      const installerContext: InstallerContext = {
        env: context.environment.env,
        warn: (message) => context.output.warn(message),
      };
      let scheduler: Scheduler;
      if (platform === "cron") {
        const { cronScheduler } = await import("../../adapters/schedule/cron.ts");
        scheduler = cronScheduler(scheduleOptions, installerContext);
      } else if (platform === "systemd") {
        const { systemdScheduler } = await import("../../adapters/schedule/systemd.ts");
        const { stateDir } = loaded.config;
        scheduler = systemdScheduler(
          scheduleOptions,
          {
            cwd: context.cwd,
            unitDir: options.unitDir,
            stateDir: stateDir ? loaded.resolvePath(stateDir) : undefined,
          },
          installerContext,
        );
      } else {
        const { windowsScheduler } = await import("../../adapters/schedule/windows.ts");
        scheduler = windowsScheduler(
          scheduleOptions,
          new Date(context.environment.clock.now()),
          installerContext,
        );
      }
      const action: ScheduleAction = options.install ? "install" : options.uninstall ? "uninstall" : "print";
      const done =
        action === "install"
          ? await scheduler.install()
          : action === "uninstall"
            ? await scheduler.uninstall()
            : [];
      context.output.result(
        () => renderSchedule(scheduler.plan, action, done),
        () => ({ ok: true, action, ...scheduler.plan, done }),
      );
    });
}
