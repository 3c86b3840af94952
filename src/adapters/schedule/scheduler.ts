/**
 * What each platform's installer (cron.ts, systemd.ts, windows.ts) offers `schedule`: the job's description, built
 * from the pure generators in core/schedule.ts, and the two actions that put it in place and take it away.
 */
import type { SchedulePlatform, SystemdScope } from "../../core/schedule.ts";

/** The same description whether the job is printed, installed or removed. */
export interface SchedulePlan {
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

export interface Scheduler {
  plan: SchedulePlan;
  /** Each returns what it did, one line per step. */
  install(): Promise<string[]>;
  uninstall(): Promise<string[]>;
}

/** What an installer needs from the command that runs it. */
export interface InstallerContext {
  env: NodeJS.ProcessEnv;
  /** A warning for the person installing (e.g. a secret file that does not exist yet). */
  warn(message: string): void;
}
