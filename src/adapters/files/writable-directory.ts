/** Proves a folder can take the files a run writes: creates it as a run would, then writes and removes a file. */
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { makeDirectory } from "./make-directory.ts";

export async function checkWritableDirectory(directory: string, key: string): Promise<void> {
  const probe = join(directory, `.ilobby-sync-write-test-${randomBytes(6).toString("hex")}`);
  try {
    await makeDirectory(directory, 0o700);
    await writeFile(probe, "", { flag: "wx", mode: 0o600 });
    await rm(probe);
  } catch (error) {
    throw new SyncError(
      "config",
      `cannot write to ${directory}: ${errorCode(error) ?? errorMessage(error)}`,
      {
        fix: `set ${key} to a folder the account that runs ilobby-sync may write to, or give that account write access`,
        error,
      },
    );
  }
}
