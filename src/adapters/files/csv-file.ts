/**
 * Reads a CSV file's bytes once, in chunks, for core's one-pass check; for `upload`, also copies them to a private
 * spool file, so what is sent is exactly what was checked, whatever happens to the original meanwhile; and spools
 * the CSV a run builds, in pieces, for its upload.
 */
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CsvPayload } from "../../app/ports.ts";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { writePrivateFile } from "./private-file.ts";

const CHUNK_BYTES = 1 << 20;

export interface CsvReadOptions {
  /** Refuse what cannot be read twice (pipes, FIFOs, devices): `upload` must send what it checked. */
  regularFileOnly?: boolean;
  /** Copy every byte read to this new file (created 0600, never overwritten). */
  copyTo?: string;
}

function kindOf(stats: Awaited<ReturnType<typeof stat>>): string {
  if (stats.isFIFO()) return "a pipe (FIFO)";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

function cannotRead(path: string, error: unknown): SyncError {
  const code = errorCode(error);
  const reason =
    code === "ENOENT"
      ? "the file does not exist"
      : code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "EISDIR"
          ? "it is a folder"
          : code === "ENXIO"
            ? "it is a socket, which cannot be opened as a file (pipe the CSV in from a shell, or save it to a file)"
            : errorMessage(error);
  return new SyncError("config", `cannot read ${path}: ${reason}${code ? ` (${code})` : ""}`, {
    fix: "check the file path",
    error,
  });
}

/**
 * The file's bytes in chunks of up to 1 MiB. The chunk's buffer is reused for the next one: a consumer must be done
 * with a chunk before it asks for the next.
 */
export async function* readCsvBytes(path: string, options: CsvReadOptions = {}): AsyncGenerator<Uint8Array> {
  // stat() first: opening a FIFO would block until a writer comes, and a folder opens fine on Linux.
  const stats = await stat(path).catch((error: unknown) => {
    throw cannotRead(path, error);
  });
  if (stats.isDirectory())
    throw cannotRead(path, Object.assign(new Error("is a folder"), { code: "EISDIR" }));
  if (options.regularFileOnly && !stats.isFile()) {
    throw new SyncError(
      "config",
      `${path} is ${kindOf(stats)}, not a regular file: upload reads its input twice`,
      {
        cause:
          "the file is checked, then sent; what comes through a pipe, /dev/stdin or a FIFO can be read only once, so what was checked could not be what is sent",
        fix: "save the CSV to a file first and upload that file",
      },
    );
  }
  const file = await open(path, "r").catch((error: unknown) => {
    throw cannotRead(path, error);
  });
  const copy = options.copyTo ? await open(options.copyTo, "wx", 0o600) : undefined;
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, null).catch((error: unknown) => {
        throw cannotRead(path, error);
      });
      if (bytesRead === 0) return;
      const chunk = buffer.subarray(0, bytesRead);
      for (let written = 0; copy && written < bytesRead; ) {
        written += (await copy.write(chunk, written, bytesRead - written)).bytesWritten;
      }
      yield chunk;
    }
  } finally {
    await file.close();
    await copy?.close();
  }
}

/** A private folder (0700) for the copy of an upload's input; `remove` deletes it and the copy. */
export async function createSpool(): Promise<{ file: string; remove(): Promise<void> }> {
  const folder = await mkdtemp(join(tmpdir(), "ilobby-sync-upload-"));
  return {
    file: join(folder, "upload.csv"),
    remove: () => rm(folder, { recursive: true, force: true }),
  };
}

/** A run's CSV written in pieces to a private temporary file, from which the upload streams it. */
export async function spoolCsv(
  pieces: Iterable<string>,
): Promise<{ payload: CsvPayload; remove(): Promise<void> }> {
  const spool = await createSpool();
  try {
    await writePrivateFile(spool.file, pieces, "CSV to upload");
  } catch (error) {
    await spool.remove();
    throw error;
  }
  return { payload: { kind: "file", path: spool.file }, remove: spool.remove };
}
