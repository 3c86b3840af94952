/**
 * Opens a native addon embedded in the single executable as an SEA asset. Inside a SEA, `require` reaches only
 * built-in modules, so the addon is written to a private temporary directory (mkdtemp, mode 0700) and opened with
 * process.dlopen. The directory must not outlive the process:
 * - Linux and macOS: it is removed as soon as dlopen returns, or fails (an open library stays mapped after its
 *   file is gone), so no exit path, not even SIGKILL, can leave it behind.
 * - Windows keeps a loaded DLL locked until the process ends: a detached helper waits for this process to end,
 *   then removes the directory. Leftovers of runs whose helper never ran are swept on the next extraction.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRawAsset } from "node:sea";
import { errorMessage } from "../../core/errors.ts";

/** The SEA asset key of the keyring addon: scripts/build-binaries.mjs embeds it under this name. */
export const KEYRING_ASSET = "keyring.node";

/** Every extraction directory starts with this, which is how the sweep recognises them. */
export const EXTRACTION_PREFIX = "ilobby-sync-addon-";

/** Extraction takes milliseconds: a directory this old belongs to a run that could not remove it. */
const STALE_AFTER_MS = 60 * 60 * 1000;

export interface AddonHost {
  getAsset(name: string): ArrayBuffer;
  dlopen(addon: { exports: unknown }, file: string): void;
  tempRoot(): string;
}

/** Removes `dir` once this process has ended; a detached PowerShell outlives us for that. */
function removeAfterExitOnWindows(dir: string): void {
  const quoted = `'${dir.replaceAll("'", "''")}'`;
  const script = `Wait-Process -Id ${process.pid} -ErrorAction SilentlyContinue; Remove-Item -LiteralPath ${quoted} -Recurse -Force`;
  const helper = spawn("powershell.exe", ["-NoProfile", "-NonInteractive", "-Command", script], {
    detached: true,
    stdio: "ignore",
    windowsHide: true,
  });
  // No PowerShell: the next extraction sweeps the directory instead.
  helper.on("error", () => {});
  helper.unref();
}

const realHost: AddonHost = {
  getAsset: (name) => getRawAsset(name),
  dlopen: (addon, file) => process.dlopen(addon, file),
  tempRoot: () => tmpdir(),
};

/** Removes extraction directories left by earlier runs; ones still in use (locked on Windows) stay. */
function sweepStaleExtractions(root: string): void {
  const now = Date.now();
  let names: string[];
  try {
    names = readdirSync(root).filter((name) => name.startsWith(EXTRACTION_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(root, name);
    try {
      if (now - statSync(dir).mtimeMs > STALE_AFTER_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another user's directory, or a DLL still loaded: not ours to remove now.
    }
  }
}

function removeNow(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // A loaded DLL on Windows resists until we exit; anything else is left to a later run's sweep.
    if (process.platform === "win32") removeAfterExitOnWindows(dir);
  }
}

/** Writes the embedded addon `assetName` to a private directory, opens it and returns its exports. */
export function loadEmbeddedAddon<T>(assetName: string, host: AddonHost = realHost): T {
  const root = host.tempRoot();
  sweepStaleExtractions(root);
  const bytes = new Uint8Array(host.getAsset(assetName));
  const variable = process.platform === "win32" ? "TEMP" : "TMPDIR";
  let dir: string;
  try {
    dir = mkdtempSync(join(root, EXTRACTION_PREFIX));
  } catch (error) {
    throw new Error(
      `cannot create a private folder for the addon in ${root}: ${errorMessage(error)} ` +
        `(point ${variable} at a folder this account may write to)`,
      { cause: error },
    );
  }
  try {
    // mkdtemp creates it 0700 on POSIX already; chmod so that no platform quirk leaves it wider.
    chmodSync(dir, 0o700);
    const file = join(dir, assetName);
    writeFileSync(file, bytes, { mode: 0o700 });
    const addon = { exports: {} as unknown };
    try {
      host.dlopen(addon, file);
    } catch (error) {
      throw new Error(
        `cannot open the addon extracted to ${dir}: ${errorMessage(error)} (if ${root} may not hold ` +
          `executable code, e.g. mounted noexec or blocked by AppLocker, point ${variable} at a private folder that may)`,
        { cause: error },
      );
    }
    return addon.exports as T;
  } finally {
    removeNow(dir);
  }
}
