/** Writes the config `init` made; an existing config is never replaced unless the administrator said --force. */
import { constants } from "node:fs";
import { access, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, sep } from "node:path";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { makeDirectory } from "./make-directory.ts";
import { checkOutputPath } from "./private-file.ts";

// Not defined on Windows, where checkOutputPath alone keeps links out.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

function alreadyExists(path: string): SyncError {
  return new SyncError("config", `${path} already exists: init does not overwrite a config`, {
    fix: "pass --force to replace it, or --output <file> to write another file",
  });
}

/** Fails before any question is asked, rather than after all of them. */
export async function ensureNoConfigFile(path: string): Promise<void> {
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (exists) throw alreadyExists(path);
}

export async function writeConfigFile(path: string, text: string, overwrite: boolean): Promise<void> {
  try {
    await makeDirectory(dirname(path));
    // --force replaces a config, never what a link at its path points to (nor a device or FIFO).
    await checkOutputPath(path, "config file");
    // O_EXCL also catches a file created while the questions were being answered.
    const flags =
      constants.O_WRONLY | constants.O_CREAT | NO_FOLLOW | (overwrite ? constants.O_TRUNC : constants.O_EXCL);
    await writeFile(path, text, { flag: flags, encoding: "utf8" });
  } catch (error) {
    if (error instanceof SyncError) throw error;
    if (errorCode(error) === "EEXIST") throw alreadyExists(path);
    throw new SyncError("config", `cannot write ${path}: ${errorCode(error) ?? errorMessage(error)}`, {
      fix: "choose another path with --output, or check that this account may write to that folder",
      error,
    });
  }
}

/** A path as a config file in `folder` names it: relative ("./ca.pem") below that folder, else absolute. */
export function configRelativePath(absolute: string, folder: string): string {
  const path = relative(folder, absolute);
  if (isAbsolute(path) || path.startsWith("..")) return absolute;
  return `./${path.split(sep).join("/")}`;
}
