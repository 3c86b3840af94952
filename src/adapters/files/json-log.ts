/** Appends one JSON line per run event to log.file: for Task Scheduler and cron, where nobody sees the console. */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Clock, RunLog } from "../../app/ports.ts";
import type { Redactor } from "../../core/redact.ts";

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
        mkdirSync(dirname(options.path), { recursive: true });
        // Synchronous append: the line is on disk even if the process is killed right after.
        appendFileSync(options.path, `${line}\n`, { mode: 0o600 });
      } catch (error) {
        failed = true; // a broken log must not stop the sync; say so once
        options.onError(`cannot write log.file ${options.path}: ${(error as Error).message}`);
      }
    },
  };
}

export const silentLog: RunLog = { event() {} };
