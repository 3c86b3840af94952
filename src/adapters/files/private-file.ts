/** Writes files that hold personal data or state: atomically (never half-written) and readable by the owner only. */
import { chmod, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import writeFileAtomic from "write-file-atomic";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";

export async function writePrivateFile(path: string, content: string, what: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, content, { mode: 0o600, encoding: "utf8" });
    // An existing file keeps its old mode with some writers: make sure.
    await chmod(path, 0o600);
  } catch (error) {
    throw new SyncError(
      "config",
      `cannot write the ${what} ${path}: ${errorCode(error) ?? errorMessage(error)}`,
      {
        fix: "check the path and that this account may write to its folder",
        error,
      },
    );
  }
}
