/**
 * `schedule`: prints the daily job for cron, systemd or Windows Task Scheduler; `--install` puts it in place and
 * `--uninstall` takes exactly that away again. The files' text comes from core/schedule.ts; this file does the I/O.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { isSea } from "node:sea";
import { type Command, Option } from "commander";
import type { LoadedConfig } from "../../adapters/files/config-file.ts";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import {
  cronEntry,
  crontabHasEntry,
  crontabWithEntry,
  crontabWithoutEntry,
  DEFAULT_SCHEDULE_TIME,
  defaultSchedulePlatform,
  GENERATED_MARKER,
  nextDailyStartDate,
  parseScheduleTime,
  posixCommandLine,
  SCHEDULE_PLATFORMS,
  type ScheduleOptions,
  type SchedulePlatform,
  SERVICE_UNIT_NAME,
  type SystemdScope,
  schtasksCreateArguments,
  schtasksDeleteArguments,
  systemdUnits,
  TIMER_UNIT_NAME,
  windowsCommandLine,
  windowsTask,
} from "../../core/schedule.ts";
import { secretNamesFor } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";

interface ScheduleCommandOptions {
  platform?: SchedulePlatform;
  time: string;
  user?: string;
  install?: boolean;
  uninstall?: boolean;
  unitDir?: string;
}

type Action = "print" | "install" | "uninstall";

/** The same description whether the job is printed, installed or removed. */
interface SchedulePlan {
  platform: SchedulePlatform;
  scope?: SystemdScope;
  time: string;
  files: { path: string; content: string; encoding?: string }[];
  crontab?: readonly string[];
  /** Commands that put the secrets where the scheduled run can read them; done by hand, once. */
  secretSetup: readonly string[];
  installCommands: readonly string[];
  uninstallCommands: readonly string[];
  notes: readonly string[];
}

interface Scheduler {
  plan: SchedulePlan;
  /** Each returns what it did, one line per step. */
  install(): Promise<string[]>;
  uninstall(): Promise<string[]>;
}

interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const MISSING_TOOL_FIXES: Record<string, string> = {
  crontab:
    "install cron (Debian/Ubuntu: apt install cron; RHEL: dnf install cronie), or choose --platform systemd",
  systemctl:
    "this host does not run systemd: choose --platform cron, or install the printed units on a systemd host",
  schtasks:
    "schtasks.exe comes with Windows: run this on the Windows host, or choose --platform cron or systemd",
};

function cannotStart(tool: string, error: unknown): SyncError {
  const code = errorCode(error);
  return new SyncError(
    "config",
    code === "ENOENT"
      ? `\`${tool}\` was not found on PATH`
      : `cannot start \`${tool}\`: ${code ?? errorMessage(error)}`,
    { fix: MISSING_TOOL_FIXES[tool], error },
  );
}

function toolFailed(tool: string, args: readonly string[], result: ToolResult, fix: string): SyncError {
  const message = result.stderr.trim() || result.stdout.trim();
  return new SyncError(
    "config",
    `\`${posixCommandLine([tool, ...args])}\` failed (exit ${result.exitCode})${message ? `: ${message}` : ""}`,
    { fix },
  );
}

/** Runs a tool with an argument list (no shell); resolves with its exit code, rejects only when it cannot start. */
function runTool(
  tool: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input = "",
): Promise<ToolResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(tool, args, { env, encoding: "utf8" }, (error, stdout, stderr) => {
      if (!error) resolvePromise({ exitCode: 0, stdout, stderr });
      else if (typeof error.code === "number") resolvePromise({ exitCode: error.code, stdout, stderr });
      else reject(cannotStart(tool, error));
    });
    // A tool that exits without reading its input reports that itself.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

async function runToolOrFail(tool: string, args: readonly string[], env: NodeJS.ProcessEnv, fix: string) {
  const result = await runTool(tool, args, env);
  if (result.exitCode !== 0) throw toolFailed(tool, args, result, fix);
  return result;
}

/**
 * For a tool that may prompt (schtasks asks for the account's password): the terminal is its input, and its
 * output goes to our stderr so that stdout carries only the result.
 */
function runInteractive(tool: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tool, args, { env, stdio: ["inherit", 2, 2] });
    child.on("error", (error) => reject(cannotStart(tool, error)));
    child.on("close", (code) => resolvePromise(code ?? 1));
  });
}

/** The command a scheduler starts: the single executable itself, or node with this script. */
function selfExecutable(): string[] {
  if (isSea()) return [process.execPath];
  const script = process.argv[1];
  return script ? [process.execPath, resolve(script)] : [process.execPath];
}

/** False when the file is absent; refuses a file of that name that `schedule` did not write. */
async function generatedFileExists(path: string, fix: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return false;
    throw new SyncError("config", `cannot read ${path}: ${errorCode(error) ?? errorMessage(error)}`, {
      fix,
      error,
    });
  }
  if (!text.includes(GENERATED_MARKER)) {
    throw new SyncError("config", `${path} exists and was not written by \`ilobby-sync schedule\``, {
      fix: "leave it alone: move it away yourself, or choose another --unit-dir",
    });
  }
  return true;
}

function writeFailed(path: string, error: unknown, fix: string): SyncError {
  return new SyncError("config", `cannot write ${path}: ${errorCode(error) ?? errorMessage(error)}`, {
    fix,
    error,
  });
}

function cronScheduler(options: ScheduleOptions, context: CommandContext): Scheduler {
  const entry = cronEntry(options);
  const env = context.environment.env;
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
        if (!existsSync(file.path)) context.output.warn(`secret file ${file.path} does not exist yet`);
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

function systemdScheduler(
  options: ScheduleOptions,
  loaded: LoadedConfig,
  context: CommandContext,
  unitDirOption: string | undefined,
): Scheduler {
  const env = context.environment.env;
  // Root installs a system timer; --user names the account of a system service; anyone else gets a user timer.
  const scope: SystemdScope = process.getuid?.() === 0 || options.user ? "system" : "user";
  const configHome = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  const unitDir = resolve(
    context.cwd,
    unitDirOption ?? (scope === "system" ? "/etc/systemd/system" : join(configHome, "systemd", "user")),
  );
  const units = systemdUnits({
    ...options,
    scope,
    stateDir: loaded.config.stateDir ? loaded.resolvePath(loaded.config.stateDir) : undefined,
  });
  const files = [
    { path: join(unitDir, SERVICE_UNIT_NAME), content: units.service },
    { path: join(unitDir, TIMER_UNIT_NAME), content: units.timer },
  ];
  const systemctl = (...args: string[]) => [...(scope === "user" ? ["--user"] : []), ...args];
  const daemonReload = systemctl("daemon-reload");
  const enable = systemctl("enable", "--now", TIMER_UNIT_NAME);
  const disable = systemctl("disable", "--now", TIMER_UNIT_NAME);
  const fix = `see the message from systemctl; \`${posixCommandLine(["systemctl", ...systemctl("status", TIMER_UNIT_NAME)])}\` shows the timer`;
  const writeFix =
    scope === "system"
      ? "run as root (sudo), or pass --unit-dir"
      : "check that you may write there, or pass --unit-dir";

  return {
    plan: {
      platform: "systemd",
      scope,
      time: options.time,
      files,
      secretSetup: units.secretSetup,
      installCommands: [
        `write the two files above into ${unitDir}`,
        posixCommandLine(["systemctl", ...daemonReload]),
        posixCommandLine(["systemctl", ...enable]),
      ],
      uninstallCommands: [
        posixCommandLine(["systemctl", ...disable]),
        posixCommandLine(["rm", ...files.map((file) => file.path)]),
        posixCommandLine(["systemctl", ...daemonReload]),
      ],
      notes: units.notes,
    },
    async install() {
      const added: string[] = [];
      for (const file of files) {
        if (!(await generatedFileExists(file.path, writeFix))) added.push(file.path);
      }
      try {
        await mkdir(unitDir, { recursive: true });
      } catch (error) {
        throw writeFailed(unitDir, error, writeFix);
      }
      for (const file of files) {
        await writeFile(file.path, file.content, { mode: 0o644 }).catch((error: unknown) => {
          throw writeFailed(file.path, error, writeFix);
        });
      }
      try {
        await runToolOrFail("systemctl", daemonReload, env, fix);
        await runToolOrFail("systemctl", enable, env, fix);
      } catch (error) {
        // A first install that systemd did not take leaves no unit files behind to confuse the next attempt.
        await Promise.all(added.map((path) => rm(path, { force: true })));
        throw error;
      }
      for (const credential of units.credentials) {
        if (!existsSync(credential.path)) {
          context.output.warn(
            `credential ${credential.path} does not exist yet: the run will fail until it does`,
          );
        }
      }
      return [
        ...files.map((file) => `wrote ${file.path}`),
        `ran systemctl ${daemonReload.join(" ")}`,
        `ran systemctl ${enable.join(" ")}`,
      ];
    },
    async uninstall() {
      const present: string[] = [];
      for (const file of files) {
        if (await generatedFileExists(file.path, writeFix)) present.push(file.path);
      }
      if (present.length === 0) return [`no ilobby-sync units in ${unitDir}`];
      await runToolOrFail("systemctl", disable, env, fix);
      for (const path of present) {
        await rm(path).catch((error: unknown) => {
          throw writeFailed(path, error, writeFix);
        });
      }
      await runToolOrFail("systemctl", daemonReload, env, fix);
      return [
        `ran systemctl ${disable.join(" ")}`,
        ...present.map((path) => `removed ${path}`),
        `ran systemctl ${daemonReload.join(" ")}`,
      ];
    },
  };
}

/** DOMAIN\user of the account running the command, as Task Scheduler names it. */
function currentWindowsAccount(env: NodeJS.ProcessEnv): string {
  return env.USERDOMAIN && env.USERNAME ? `${env.USERDOMAIN}\\${env.USERNAME}` : userInfo().username;
}

function windowsScheduler(options: ScheduleOptions, context: CommandContext): Scheduler {
  const env = context.environment.env;
  const user = options.user ?? currentWindowsAccount(env);
  const startDate = nextDailyStartDate(new Date(context.environment.clock.now()), options.time);
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

const SECRET_SETUP_TITLES: Record<string, string> = {
  cron: "Secrets, once (bash, as the account that runs the job):",
  "systemd system": "Secrets, once (as root):",
  "systemd user": "Secrets, once:",
  windows: "Secrets, once (in `runas /user:<account> cmd`):",
};

function renderPlan(plan: SchedulePlan, action: Action, done: readonly string[]): string {
  const scope = plan.scope ? ` (${plan.scope} timer)` : "";
  const secretTitle =
    SECRET_SETUP_TITLES[plan.scope ? `${plan.platform} ${plan.scope}` : plan.platform] ?? "";
  const lines: string[] = [];
  const list = (title: string, items: readonly string[]) => {
    if (items.length === 0) return;
    lines.push("", title, ...items.map((item) => `  ${item}`));
  };
  if (action === "print") {
    lines.push(`ilobby-sync daily at ${plan.time} with ${plan.platform}${scope}`);
    for (const file of plan.files) lines.push("", `--- ${file.path} ---`, file.content.trimEnd());
    if (plan.crontab) lines.push("", "--- crontab ---", ...plan.crontab);
    list(secretTitle, plan.secretSetup);
    list("To install (or run `ilobby-sync schedule --install`):", plan.installCommands);
    list("To remove (or run `ilobby-sync schedule --uninstall`):", plan.uninstallCommands);
  } else {
    lines.push(`${action === "install" ? "installed" : "uninstalled"}: ${plan.platform}${scope}`);
    lines.push(...done.map((step) => `  ${step}`));
    if (action === "install") list(`${secretTitle.slice(0, -1)}, if not done yet:`, plan.secretSetup);
  }
  if (action !== "uninstall")
    list(
      "Notes:",
      plan.notes.map((note) => `- ${note}`),
    );
  return lines.join("\n");
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
      const scheduler =
        platform === "cron"
          ? cronScheduler(scheduleOptions, context)
          : platform === "systemd"
            ? systemdScheduler(scheduleOptions, loaded, context, options.unitDir)
            : windowsScheduler(scheduleOptions, context);
      const action: Action = options.install ? "install" : options.uninstall ? "uninstall" : "print";
      const done =
        action === "install"
          ? await scheduler.install()
          : action === "uninstall"
            ? await scheduler.uninstall()
            : [];
      context.output.result(
        () => renderPlan(scheduler.plan, action, done),
        () => ({ ok: true, action, ...scheduler.plan, done }),
      );
    });
}
