/** Appends one JSON line per run event to log.file: for Task Scheduler and cron, where nobody sees the console. */
import { dirname } from "node:path";
import type { Clock, RunLog } from "../../app/ports.ts";
import { errorMessage } from "../../core/errors.ts";
import type { Redactor } from "../../core/redact.ts";
import { makeDirectorySync } from "./make-directory.ts";
import { appendPrivateFile } from "./private-file.ts";

export function createJsonLinesLog(options: {
  path: string;
  runId: string;
  command: string;
  clock: Clock;
  redactor: Redactor;
  onError: (message: string) => void;
}): RunLog {
  let failed = false;
  return {
    event(event, fields = {}) {
      if (failed) return;
      const line = JSON.stringify(
        options.redactor.redactValue({
          time: new Date(options.clock.now()).toISOString(),
          runId: options.runId,
          command: options.command,
          event,
          ...fields,
        }),
      );
      try {
        makeDirectorySync(dirname(options.path));
        appendPrivateFile(options.path, `${line}\n`, "log.file");
      } catch (error) {
        failed = true; // a broken log must not stop the sync; say so once
        options.onError(errorMessage(error));
      }
    },
  };
}

export const silentLog: RunLog = { event() {} };
