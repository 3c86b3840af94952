/**
 * Runs the scheduler tools (crontab, systemctl, schtasks) with argument lists, never a shell, and turns a missing
 * tool or a failed call into a SyncError that says what to do.
 */
import { execFile, spawn } from "node:child_process";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { posixCommandLine } from "../../core/schedule.ts";

export interface ToolResult {
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

export function toolFailed(
  tool: string,
  args: readonly string[],
  result: ToolResult,
  fix: string,
): SyncError {
  const message = result.stderr.trim() || result.stdout.trim();
  return new SyncError(
    "config",
    `\`${posixCommandLine([tool, ...args])}\` failed (exit ${result.exitCode})${message ? `: ${message}` : ""}`,
    { fix },
  );
}

/** Runs a tool with an argument list (no shell); resolves with its exit code, rejects only when it cannot start. */
export function runTool(
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

export async function runToolOrFail(
  tool: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  fix: string,
) {
  const result = await runTool(tool, args, env);
  if (result.exitCode !== 0) throw toolFailed(tool, args, result, fix);
  return result;
}

/**
 * For a tool that may prompt (schtasks asks for the account's password): the terminal is its input, and its
 * output goes to our stderr so that stdout carries only the result.
 */
export function runInteractive(
  tool: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tool, args, { env, stdio: ["inherit", 2, 2] });
    child.on("error", (error) => reject(cannotStart(tool, error)));
    child.on("close", (code) => resolvePromise(code ?? 1));
  });
}
