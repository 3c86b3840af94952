/** Reads `certificateFile`: the app's certificate and its unencrypted private key, in one PEM file. */
import { readFile } from "node:fs/promises";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";

export async function readCertificateFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new SyncError(
      "config",
      `directory.certificateFile: cannot read ${path} (${errorCode(error) ?? errorMessage(error)})`,
      {
        fix: "check the path in directory.certificateFile (relative paths are relative to the config file) and that the account running ilobby-sync may read it",
        error,
      },
    );
  }
}
