/** The cron installer: the generated entry (core/schedule.ts) put into, or taken out of, a crontab. */
import { existsSync } from "node:fs";
import {
  cronEntry,
  crontabHasEntry,
  crontabWithEntry,
  crontabWithoutEntry,
  type ScheduleOptions,
} from "../../core/schedule.ts";
import type { InstallerContext, Scheduler } from "./scheduler.ts";
import { runTool, toolFailed } from "./tool.ts";

export function cronScheduler(options: ScheduleOptions, context: InstallerContext): Scheduler {
  const entry = cronEntry(options);
  const { env } = context;
  const userArguments = options.user ? ["-u", options.user] : [];
  const whose = options.user ? `the crontab of ${options.user}` : "your crontab";
  const fix = "see the message from crontab; `crontab -l` shows the current table";

  const readTable = async (): Promise<string> => {
    const args = [...userArguments, "-l"];
    const result = await runTool("crontab", args, env);
    if (result.exitCode === 0) return result.stdout;
    // An account that never had a crontab: an empty table, not an error.
    if (/no crontab/i.test(result.stderr)) return "";
    throw toolFailed("crontab", args, result, fix);
  };
  const writeTable = async (table: string): Promise<void> => {
    const args = [...userArguments, "-"];
    const result = await runTool("crontab", args, env, table);
    if (result.exitCode !== 0) throw toolFailed("crontab", args, result, fix);
  };

  return {
    plan: {
      platform: "cron",
      time: options.time,
      files: [],
      crontab: entry.lines,
      secretSetup: entry.secretSetup,
      installCommands: [
        `add the two lines above to ${whose} (\`crontab ${[...userArguments, "-e"].join(" ")}\`)`,
      ],
      uninstallCommands: [`remove the lines ending with "${entry.tag}" from ${whose}`],
      notes: [
        `each secret is read from its file (${entry.secretFiles.map((file) => file.path).join(", ")}), which must be readable by the account that runs the job and by no one else`,
      ],
    },
    async install() {
      const table = await readTable();
      const replaced = crontabHasEntry(table, entry.tag);
      await writeTable(crontabWithEntry(table, entry));
      for (const file of entry.secretFiles) {
        if (!existsSync(file.path)) context.warn(`secret file ${file.path} does not exist yet`);
      }
      return [
        `${replaced ? "replaced the ilobby-sync entry in" : "added the ilobby-sync entry to"} ${whose}`,
      ];
    },
    async uninstall() {
      const table = await readTable();
      if (!crontabHasEntry(table, entry.tag)) return [`${whose} has no ilobby-sync entry for this config`];
      await writeTable(crontabWithoutEntry(table, entry.tag));
      return [`removed the ilobby-sync entry from ${whose}`];
    },
  };
}
