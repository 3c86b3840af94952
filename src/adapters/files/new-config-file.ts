/** Writes the config `init` made; an existing config is never replaced unless the administrator said --force. */
import { access, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, sep } from "node:path";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { makeDirectory } from "./make-directory.ts";

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
    // "wx" also catches a file created while the questions were being answered.
    await writeFile(path, text, { flag: overwrite ? "w" : "wx", encoding: "utf8" });
  } catch (error) {
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
