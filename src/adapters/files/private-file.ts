/**
 * The one way ilobby-sync writes a file it was told to write (CSV outputs, state, log.file, plans, reports):
 * owner-only (0600), and never through a link. A symbolic link, a device, a FIFO, a socket or a folder at the path
 * is refused: `--output` pointed at a link once replaced the file the link pointed to, and a device file was
 * replaced by a regular one. Whole files are written atomically (a temporary file renamed over the path, which
 * replaces a link itself rather than following it), so they are never half-written either.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  openSync,
  type Stats,
  writeSync,
} from "node:fs";
import { lstat, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { makeDirectory } from "./make-directory.ts";

const OWNER_ONLY = 0o600;
// Not defined on Windows, where the lstat check before opening does the work alone.
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
// Opening a FIFO for writing would wait for a reader forever; non-blocking it fails (ENXIO) or opens and is refused.
const NON_BLOCKING = constants.O_NONBLOCK ?? 0;

function kindOf(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isSymbolicLink()) return "a symbolic link";
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

function refusal(path: string, what: string, kind: string): SyncError {
  return new SyncError("config", `refusing to write the ${what} to ${path}: it is ${kind}`, {
    cause:
      "ilobby-sync writes only regular files and never through a link: it would replace a file nobody named",
    fix: "name a regular file or a new path (to write where a link points, give the path it points to)",
    data: { path, refused: kind },
  });
}

function writeFailure(path: string, what: string, error: unknown): SyncError {
  return new SyncError(
    "config",
    `cannot write the ${what} ${path}: ${errorCode(error) ?? errorMessage(error)}`,
    { fix: "check the path and that this account may write to its folder", error },
  );
}

/** Throws unless the path is absent or a regular file. Call it before a long run, so a bad path fails first. */
export async function checkOutputPath(path: string, what: string): Promise<void> {
  const stats = await lstat(path).catch((error: unknown) => {
    if (errorCode(error) === "ENOENT") return undefined;
    throw writeFailure(path, what, error);
  });
  const kind = stats && kindOf(stats);
  if (kind) throw refusal(path, what, kind);
}

/**
 * Replaces (or creates) the file at `path` with `content`, atomically and owner-only. Content given in pieces is
 * written piece by piece, so a large file (a CSV, a state) is never one string in memory. With `onlyAfter`, the
 * file is written meanwhile but put in place only once that promise resolves; if it rejects, the old file stays
 * and its error is thrown.
 */
export async function writePrivateFile(
  path: string,
  content: string | Uint8Array | Iterable<string>,
  what: string,
  options: { onlyAfter?: Promise<unknown> } = {},
): Promise<void> {
  const folder = dirname(path);
  const temporary = join(folder, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    await makeDirectory(folder, 0o700);
    await checkOutputPath(path, what);
    const file = await open(
      temporary,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW,
      OWNER_ONLY,
    );
    try {
      if (typeof content === "string" || content instanceof Uint8Array) await file.writeFile(content);
      else for (const piece of content) await file.write(piece);
      await file.datasync();
    } finally {
      await file.close();
    }
  } catch (error) {
    await rm(temporary, { force: true });
    // Settled before the error is told, so the caller's promise is never left to reject unobserved.
    await options.onlyAfter?.catch(() => {});
    if (error instanceof SyncError) throw error;
    throw writeFailure(path, what, error);
  }
  try {
    await options.onlyAfter;
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw writeFailure(path, what, error);
  }
}

/**
 * Appends to the file at `path`, creating it owner-only and tightening an existing file to 0600. Synchronous, so
 * a log line is on disk even if the process is killed right after.
 */
export function appendPrivateFile(path: string, text: string, what: string): void {
  let stats: Stats | undefined;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw writeFailure(path, what, error);
  }
  const kind = stats && kindOf(stats);
  if (kind) throw refusal(path, what, kind);
  let descriptor: number;
  try {
    descriptor = openSync(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NO_FOLLOW | NON_BLOCKING,
      OWNER_ONLY,
    );
  } catch (error) {
    // Swapped for a link or a FIFO since the check above.
    if (errorCode(error) === "ELOOP" || errorCode(error) === "ENXIO") {
      throw refusal(path, what, "not a regular file");
    }
    throw writeFailure(path, what, error);
  }
  try {
    const opened = fstatSync(descriptor);
    const openedKind = kindOf(opened);
    if (openedKind) throw refusal(path, what, openedKind);
    if ((opened.mode & 0o777) !== OWNER_ONLY) fchmodSync(descriptor, OWNER_ONLY);
    writeSync(descriptor, text);
  } catch (error) {
    if (error instanceof SyncError) throw error;
    throw writeFailure(path, what, error);
  } finally {
    closeSync(descriptor);
  }
}
