/**
 * The systemd installer: the generated service and timer units (core/schedule.ts) written to a unit folder and
 * enabled, or disabled and removed; files it did not write are never touched.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import {
  GENERATED_MARKER,
  posixCommandLine,
  type ScheduleOptions,
  SERVICE_UNIT_NAME,
  type SystemdScope,
  systemdUnits,
  TIMER_UNIT_NAME,
} from "../../core/schedule.ts";
import type { InstallerContext, Scheduler } from "./scheduler.ts";
import { runToolOrFail } from "./tool.ts";

export interface SystemdInstallerOptions {
  /** Relative --unit-dir values are taken from here. */
  cwd: string;
  /** --unit-dir: where the unit files go instead of the scope's default. */
  unitDir?: string | undefined;
  /** The config's stateDir, resolved; the system scope has its own default. */
  stateDir?: string | undefined;
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

export function systemdScheduler(
  options: ScheduleOptions,
  installer: SystemdInstallerOptions,
  context: InstallerContext,
): Scheduler {
  const { env } = context;
  // Root installs a system timer; --user names the account of a system service; anyone else gets a user timer.
  const scope: SystemdScope = process.getuid?.() === 0 || options.user ? "system" : "user";
  const configHome = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  const unitDir = resolve(
    installer.cwd,
    installer.unitDir ?? (scope === "system" ? "/etc/systemd/system" : join(configHome, "systemd", "user")),
  );
  const units = systemdUnits({ ...options, scope, stateDir: installer.stateDir });
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
          context.warn(`credential ${credential.path} does not exist yet: the run will fail until it does`);
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
