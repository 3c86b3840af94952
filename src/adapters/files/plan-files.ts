/**
 * Plan files on disk: saved with owner-only access (they hold personal data), read only from regular files of a
 * bounded size (a FIFO or a device would hang or flood the reader), and old ones under <stateDir>/plans deleted.
 */
import { constants } from "node:fs";
import { open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { PlanStore } from "../../app/ports.ts";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { writePrivateFile } from "./private-file.ts";

/** Far above a plan of 400,000 people (about 200 MB): anything larger is not a plan. */
const MAX_PLAN_BYTES = 1024 * 1024 * 1024;
/** Only files this code saved (<runId>.json and its report <runId>.html) are ever deleted. */
const SAVED_PLAN_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(json|html)$/;

function unreadable(path: string, reason: string, error?: unknown): SyncError {
  return new SyncError("config", `cannot read the plan ${path}: ${reason}`, {
    fix: "give the path of a plan file saved by `ilobby-sync run` (`run --dry-run --plan <file>`, or the one a stopped run named)",
    error,
  });
}

export function createPlanFiles(stateDirectory: string): PlanStore {
  const folder = join(stateDirectory, "plans");
  return {
    pathFor: (runId) => join(folder, `${runId}.json`),
    reportPathFor: (runId) => join(folder, `${runId}.html`),

    write: (path, text) => writePrivateFile(path, text, "plan file"),

    async read(path) {
      let handle: Awaited<ReturnType<typeof open>> | undefined;
      try {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; the check below then refuses it.
        handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
        const info = await handle.stat();
        if (!info.isFile()) throw unreadable(path, "it is not a regular file");
        if (info.size > MAX_PLAN_BYTES) throw unreadable(path, `it is larger than ${MAX_PLAN_BYTES} bytes`);
        return await handle.readFile("utf8");
      } catch (error) {
        if (error instanceof SyncError) throw error;
        const code = errorCode(error);
        throw unreadable(
          path,
          code === "ENOENT"
            ? "there is no such file"
            : code === "EISDIR"
              ? "it is a folder"
              : (code ?? errorMessage(error)),
          error,
        );
      } finally {
        await handle?.close();
      }
    },

    async prune(maxAgeMs, now) {
      let names: string[];
      try {
        names = await readdir(folder);
      } catch {
        return [];
      }
      const deleted: string[] = [];
      for (const name of names.filter((candidate) => SAVED_PLAN_NAME.test(candidate))) {
        const path = join(folder, name);
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile() || now - info.mtimeMs <= maxAgeMs) continue;
        await rm(path, { force: true });
        deleted.push(path);
      }
      return deleted;
    },
  };
}
