/**
 * Keeps each target's last upload as JSON in the state directory: written atomically with owner-only access, read
 * defensively (a damaged file is a first run, never a crash), plus the one-run-at-a-time lock.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import envPaths from "env-paths";
import lockfile from "proper-lockfile";
import type { LastUpload, LastUploadRead, StateStore } from "../../app/ports.ts";
import { COLUMNS, rowFromValues } from "../../core/columns.ts";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { makeDirectory } from "../files/make-directory.ts";
import { writePrivateFile } from "../files/private-file.ts";

const STATE_VERSION = 1;
/** A lock not refreshed for this long belongs to a crashed run and is taken over. */
const STALE_LOCK_MS = 120_000;

/** Linux ~/.local/share/ilobby-sync, macOS ~/Library/Application Support/ilobby-sync, Windows %LOCALAPPDATA%\ilobby-sync\Data. */
export function defaultStateDir(): string {
  return envPaths("ilobby-sync", { suffix: "" }).data;
}

/** Rows are stored as arrays in COLUMNS order: half the size of objects, for state files of 100,000s of rows. */
interface StateFile extends Omit<LastUpload, "rows"> {
  version: typeof STATE_VERSION;
  columns: readonly string[];
  rows: string[][];
}

function isRecord(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length === COLUMNS.length &&
    value.every((field) => typeof field === "string")
  );
}

function parseLastUpload(text: string, target: string): LastUpload | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return `the state file is not valid JSON (${errorMessage(error)})`;
  }
  const file = data as Partial<StateFile> | null;
  if (file?.version !== STATE_VERSION)
    return `the state file has an unknown version (${String(file?.version)})`;
  if (file.target !== target || typeof file.clientId !== "string" || typeof file.baseUrl !== "string") {
    return "the state file does not describe this target";
  }
  if (
    file.columns?.join(",") !== COLUMNS.join(",") ||
    !Array.isArray(file.rows) ||
    !file.rows.every(isRecord)
  ) {
    return "the state file's rows are damaged";
  }
  return {
    target: file.target,
    clientId: file.clientId,
    baseUrl: file.baseUrl,
    uploadedAt: String(file.uploadedAt),
    runId: String(file.runId),
    rows: file.rows.map(rowFromValues),
  };
}

export function createFileStateStore(directory: string): StateStore {
  const fileFor = (target: string) => join(directory, `${target}.last-upload.json`);
  return {
    location: directory,

    async readLastUpload(target): Promise<LastUploadRead> {
      let text: string;
      try {
        text = await readFile(fileFor(target), "utf8");
      } catch (error) {
        if (errorCode(error) === "ENOENT") return { status: "missing" };
        return {
          status: "corrupt",
          problem: `the state file cannot be read (${errorCode(error) ?? errorMessage(error)})`,
        };
      }
      const parsed = parseLastUpload(text, target);
      return typeof parsed === "string"
        ? { status: "corrupt", problem: parsed }
        : { status: "found", upload: parsed };
    },

    async lastUploadFingerprint(target) {
      try {
        const bytes = await readFile(fileFor(target));
        return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      } catch (error) {
        if (errorCode(error) === "ENOENT") return undefined;
        // Unreadable now: no plan can have been computed against this, so it never matches one.
        return `unreadable:${errorCode(error) ?? errorMessage(error)}`;
      }
    },

    async saveLastUpload(upload) {
      await writePrivateFile(
        fileFor(upload.target),
        `${JSON.stringify({
          version: STATE_VERSION,
          ...upload,
          columns: COLUMNS,
          rows: upload.rows.map((row) => COLUMNS.map((column) => row[column])),
        } satisfies StateFile)}\n`,
        "state file",
      );
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
