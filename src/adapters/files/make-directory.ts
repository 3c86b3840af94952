/**
 * Creates a folder and its missing parents. Not with Node's `mkdir(..., { recursive: true })`: under /proc it never
 * returns (mkdir answers ENOENT for a folder whose parent exists, and Node retries forever), so a `stateDir` there
 * hung the run. Here each folder is tried at most twice, and a second ENOENT is reported.
 */
import { mkdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { errorCode } from "../../core/errors.ts";

/** `mode` applies to each folder created; without it, the umask decides. */
export async function makeDirectory(path: string, mode?: number): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (error) {
    if (errorCode(error) === "EEXIST") return; // a file in the way fails clearly when it is used
    const parent = dirname(path);
    if (errorCode(error) !== "ENOENT" || parent === path) throw error;
    await makeDirectory(parent, mode);
    await mkdir(path, { mode }).catch((again: unknown) => {
      if (errorCode(again) !== "EEXIST") throw again;
    });
  }
}

export function makeDirectorySync(path: string, mode?: number): void {
  try {
    mkdirSync(path, { mode });
  } catch (error) {
    if (errorCode(error) === "EEXIST") return;
    const parent = dirname(path);
    if (errorCode(error) !== "ENOENT" || parent === path) throw error;
    makeDirectorySync(parent, mode);
    try {
      mkdirSync(path, { mode });
    } catch (again) {
      if (errorCode(again) !== "EEXIST") throw again;
    }
  }
}
