/** The Windows installer: the generated task XML (core/schedule.ts) registered, or deleted, with schtasks. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import {
  nextDailyStartDate,
  type ScheduleOptions,
  schtasksCreateArguments,
  schtasksDeleteArguments,
  windowsCommandLine,
  windowsTask,
} from "../../core/schedule.ts";
import type { InstallerContext, Scheduler } from "./scheduler.ts";
import { runInteractive, runToolOrFail, toolFailed } from "./tool.ts";

/** DOMAIN\user of the account running the command, as Task Scheduler names it. */
function currentWindowsAccount(env: NodeJS.ProcessEnv): string {
  return env.USERDOMAIN && env.USERNAME ? `${env.USERDOMAIN}\\${env.USERNAME}` : userInfo().username;
}

/** `now` dates the task's first start (today's run time, or tomorrow's when it has passed). */
export function windowsScheduler(options: ScheduleOptions, now: Date, context: InstallerContext): Scheduler {
  const { env } = context;
  const user = options.user ?? currentWindowsAccount(env);
  const startDate = nextDailyStartDate(now, options.time);
  const task = windowsTask({ ...options, user, startDate });
  const fileName = "ilobby-sync.xml";
  const fix = "see the message from schtasks; `schtasks /Query /TN ilobby-sync /V` shows the task";

  return {
    plan: {
      platform: "windows",
      time: options.time,
      files: [{ path: fileName, content: task.xml, encoding: "utf-16le" }],
      secretSetup: task.secretSetup,
      installCommands: [
        `save the XML as ${fileName} in UTF-16 (PowerShell: Out-File -Encoding Unicode)`,
        windowsCommandLine(["schtasks", ...schtasksCreateArguments(fileName, user)]),
      ],
      uninstallCommands: [windowsCommandLine(["schtasks", ...schtasksDeleteArguments()])],
      notes: task.notes,
    },
    async install() {
      const folder = await mkdtemp(join(tmpdir(), "ilobby-sync-"));
      const xmlPath = join(folder, fileName);
      try {
        // schtasks /XML reads UTF-16: little-endian with a byte-order mark.
        await writeFile(xmlPath, `\ufeff${task.xml}`, "utf16le");
        const args = schtasksCreateArguments(xmlPath, user);
        const exitCode = await runInteractive("schtasks", args, env);
        if (exitCode !== 0) {
          throw toolFailed("schtasks", args, { exitCode, stdout: "", stderr: "see its message above" }, fix);
        }
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
      return [`created the scheduled task "ilobby-sync" running as ${user}`];
    },
    async uninstall() {
      await runToolOrFail("schtasks", schtasksDeleteArguments(), env, fix);
      return ['deleted the scheduled task "ilobby-sync"'];
    },
  };
}
