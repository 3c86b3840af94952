/**
 * Keeps each target's last upload in the state directory, written in pieces and atomically with owner-only access,
 * read in pieces and defensively (a damaged file is reported, never a crash), plus the one-run-at-a-time lock.
 *
 * Format 2 (JSON lines): a header line `{"version":2,"target":...,"columns":[...],"rows":N}`, then one line per
 * row, sorted by EMAIL key: the eight values in column order, and the record's stable id as a ninth when it has
 * one. The row count in the header catches a truncated file. Format 1 (one JSON document with every row) is still
 * read; the next save replaces it with format 2.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import envPaths from "env-paths";
import lockfile from "proper-lockfile";
import {
  DamagedStateError,
  type LastUpload,
  type LastUploadRead,
  type NewUpload,
  type StateStore,
  type StoredRow,
  type UploadHeader,
} from "../../app/ports.ts";
import { COLUMNS, rowFromValues } from "../../core/columns.ts";
import { emailKey } from "../../core/email.ts";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { compareText } from "../../core/mapping.ts";
import { makeDirectory } from "../files/make-directory.ts";
import { writePrivateFile } from "../files/private-file.ts";

const STATE_VERSION = 2;
/** A lock not refreshed for this long belongs to a crashed run and is taken over. */
const STALE_LOCK_MS = 120_000;
/**
 * A new state is written to `.<target>.last-upload.json.<uuid>.tmp` while iLobby reads the upload and renamed only
 * once it is accepted; a run killed during that wait leaves the temporary file behind. Only a run holding the lock
 * writes state, so the next one may remove them.
 */
const LEFTOVER_STATE = /^\..+\.last-upload\.json\.[0-9a-f-]{36}\.tmp$/;
/** Lines are joined into pieces of about this many characters before they are written. */
const PIECE_CHARACTERS = 1 << 16;

/** Linux ~/.local/share/ilobby-sync, macOS ~/Library/Application Support/ilobby-sync, Windows %LOCALAPPDATA%\ilobby-sync\Data. */
export function defaultStateDir(): string {
  return envPaths("ilobby-sync", { suffix: "" }).data;
}

interface Header extends UploadHeader {
  version: number;
  columns: readonly string[];
  /** Format 2: how many row lines follow. Format 1: the rows themselves, as arrays in column order. */
  rows: number | string[][];
}

function isValues(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    (value.length === COLUMNS.length || value.length === COLUMNS.length + 1) &&
    value.every((field) => typeof field === "string")
  );
}

/** Why a header cannot be used, or the header. */
function checkHeader(line: string, target: string): Header | string {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (error) {
    return `the state file is not valid JSON (${errorMessage(error)})`;
  }
  const file = data as Partial<Header> | null;
  if (file?.version !== 1 && file?.version !== STATE_VERSION)
    return `the state file has an unknown version (${String(file?.version)})`;
  if (file.target !== target || typeof file.clientId !== "string" || typeof file.baseUrl !== "string") {
    return "the state file does not describe this target";
  }
  const rowsOk =
    file.version === 1
      ? Array.isArray(file.rows) && file.rows.every((row) => isValues(row) && row.length === COLUMNS.length)
      : typeof file.rows === "number" && Number.isInteger(file.rows) && file.rows >= 0;
  if (file.columns?.join(",") !== COLUMNS.join(",") || !rowsOk) return "the state file's rows are damaged";
  return file as Header;
}

/** The file's lines, read in pieces; `close` stops reading (the rest of the file is never read). */
function lines(path: string) {
  const input = createReadStream(path, { encoding: "utf8" });
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  return {
    [Symbol.asyncIterator]: () => reader[Symbol.asyncIterator](),
    close() {
      reader.close();
      input.destroy();
    },
  };
}

async function firstLine(path: string): Promise<string> {
  const reader = lines(path);
  try {
    for await (const line of reader) return line;
    return "";
  } finally {
    reader.close();
  }
}

/** Format 2's rows, line by line after the header, checked as they come. */
async function* readRows(path: string, expected: number): AsyncGenerator<StoredRow> {
  const reader = lines(path);
  let count = 0;
  let header = true;
  try {
    for await (const line of reader) {
      if (header) {
        header = false;
        continue;
      }
      count++;
      let values: unknown;
      try {
        values = JSON.parse(line);
      } catch {
        values = undefined;
      }
      if (count > expected || !isValues(values))
        throw new DamagedStateError(`the state file's row ${count} is damaged`);
      yield { row: rowFromValues(values), stableId: values[COLUMNS.length] };
    }
  } finally {
    reader.close();
  }
  if (count !== expected) {
    throw new DamagedStateError(`the state file holds ${count} rows where its header says ${expected}`);
  }
}

/** Format 1's rows (unsorted, in one document), in EMAIL-key order as format 2 gives them. */
async function* sortedVersion1Rows(rows: string[][]): AsyncGenerator<StoredRow> {
  const keyed = rows.map((values) => ({ key: emailKey(values[4] as string), values }));
  keyed.sort((a, b) => compareText(a.key, b.key));
  for (const { values } of keyed) yield { row: rowFromValues(values) };
}

/** The state file in pieces of lines: the header, then each row's values (and stable id) as a JSON array. */
function* stateLines(upload: NewUpload): Generator<string> {
  const { rows, ...header } = upload;
  let piece = `${JSON.stringify({ version: STATE_VERSION, ...header, columns: COLUMNS, rows: rows.length })}\n`;
  for (let index = 0; index < rows.length; index++) {
    const encoded = rows.encoded(index); // the eight values as a JSON array already
    const stableId = rows.stableId(index);
    piece +=
      stableId === undefined ? `${encoded}\n` : `${encoded.slice(0, -1)},${JSON.stringify(stableId)}]\n`;
    if (piece.length >= PIECE_CHARACTERS) {
      yield piece;
      piece = "";
    }
  }
  yield piece;
}

async function removeLeftovers(directory: string): Promise<void> {
  const names = await readdir(directory).catch(() => []);
  for (const name of names) {
    if (LEFTOVER_STATE.test(name)) await rm(join(directory, name), { force: true }).catch(() => {});
  }
}

export function createFileStateStore(directory: string): StateStore {
  const fileFor = (target: string) => join(directory, `${target}.last-upload.json`);
  return {
    location: directory,

    async readLastUpload(target): Promise<LastUploadRead> {
      const path = fileFor(target);
      let line: string;
      try {
        // Opened once first, so a missing or unreadable file is told apart from a damaged one.
        await (await open(path, "r")).close();
        line = await firstLine(path);
      } catch (error) {
        if (errorCode(error) === "ENOENT") return { status: "missing" };
        return {
          status: "corrupt",
          problem: `the state file cannot be read (${errorCode(error) ?? errorMessage(error)})`,
        };
      }
      const header = checkHeader(line, target);
      if (typeof header === "string") return { status: "corrupt", problem: header };
      const { rows } = header;
      const upload: LastUpload = {
        target: header.target,
        clientId: header.clientId,
        baseUrl: header.baseUrl,
        uploadedAt: String(header.uploadedAt),
        runId: String(header.runId),
        rows: () => (typeof rows === "number" ? readRows(path, rows) : sortedVersion1Rows(rows)),
      };
      return { status: "found", upload };
    },

    async lastUploadFingerprint(target) {
      try {
        // Hashed as it is read: the state of 100,000s of rows is never one buffer in memory.
        const hash = createHash("sha256");
        for await (const chunk of createReadStream(fileFor(target))) hash.update(chunk as Buffer);
        return `sha256:${hash.digest("hex")}`;
      } catch (error) {
        if (errorCode(error) === "ENOENT") return undefined;
        // Unreadable now: no plan can have been computed against this, so it never matches one.
        return `unreadable:${errorCode(error) ?? errorMessage(error)}`;
      }
    },

    async saveLastUpload(upload, options) {
      await writePrivateFile(fileFor(upload.target), stateLines(upload), "state file", options);
    },

    async lock() {
      try {
        await makeDirectory(directory, 0o700);
        const release = await lockfile.lock(directory, {
          lockfilePath: join(directory, "run.lock"),
          stale: STALE_LOCK_MS,
          retries: 0,
          realpath: false,
          // Losing the lock mid-run (clock jump, deleted folder) must not crash the upload under way.
          onCompromised: () => {},
        });
        await removeLeftovers(directory);
        return async () => {
          await release().catch(() => {});
        };
      } catch (error) {
        if (errorCode(error) === "ELOCKED") {
          throw new SyncError(
            "locked",
            `another ilobby-sync run is in progress (lock ${join(directory, "run.lock")})`,
            {
              cause: "two schedules, or a manual run during the scheduled one, use the same state directory",
              fix: `wait for it to finish; a crashed run's lock is taken over after ${STALE_LOCK_MS / 1000} s`,
            },
          );
        }
        throw new SyncError(
          "config",
          `cannot use the state directory ${directory}: ${errorCode(error) ?? errorMessage(error)}`,
          {
            fix: "set stateDir to a folder this account may write to",
            error,
          },
        );
      }
    },
  };
}
