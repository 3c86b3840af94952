/** What every command gets: output, the outside world, and config loading that honours --config. */
import type { LoadedConfig } from "../adapters/files/config-file.ts";
import { SyncError } from "../core/errors.ts";
import type { SyncNotifications } from "./notifications.ts";
import type { Output } from "./output.ts";
import type { Environment } from "./wiring.ts";

/** Imported on use: the config code (zod, yaml, cosmiconfig) is most of the start-up time of --help and --version. */
const loadConfig = async (explicitPath: string | undefined, cwd: string) =>
  (await import("../adapters/files/config-file.ts")).loadConfig(explicitPath, cwd);

export interface CommandContext {
  readonly output: Output;
  readonly environment: Environment;
  readonly cwd: string;
  /** The config named by --config / ILOBBY_SYNC_CONFIG, or found in the working directory. */
  loadConfig(): Promise<LoadedConfig>;
  /** Like loadConfig, but undefined when no config exists and none was asked for. */
  loadConfigIfAny(): Promise<LoadedConfig | undefined>;
  /** A command that printed its own result and still failed (e.g. an invalid CSV) sets its exit code here. */
  setExitCode(code: number): void;
  /** Commands that sync (run, upload) begin and record here; the program sends once the exit code is known. */
  readonly notifications: SyncNotifications;
}

export function createCommandContext(options: {
  output: () => Output;
  environment: Environment;
  cwd: string;
  configPath: () => string | undefined;
  setExitCode: (code: number) => void;
  notifications: SyncNotifications;
}): CommandContext {
  const requestedPath = () => options.configPath() ?? options.environment.env.ILOBBY_SYNC_CONFIG;
  return {
    get output() {
      return options.output();
    },
    environment: options.environment,
    cwd: options.cwd,
    loadConfig: () => loadConfig(requestedPath(), options.cwd),
    async loadConfigIfAny() {
      const explicit = requestedPath();
      try {
        return await loadConfig(explicit, options.cwd);
      } catch (error) {
        if (!explicit && error instanceof SyncError && error.data?.notFound) return undefined;
        throw error;
      }
    },
    setExitCode: options.setExitCode,
    notifications: options.notifications,
  };
}
