/** Streams a CSV file record by record (csv-parse), so files of any size are checked in constant memory. */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";

export interface CsvRecordHandler {
  header(fields: string[], line: number): boolean;
  record(values: string[], line: number): void;
}

export async function streamCsvFile(path: string, handler: CsvRecordHandler): Promise<void> {
  const input = createReadStream(path);
  const parser = parse({ bom: true, relax_column_count: true, info: true, skip_empty_lines: true });
  // pipe() does not pass on a read error (a missing file): hand it to the parser, whose loop below throws it.
  input.on("error", (error) => parser.destroy(error));
  input.pipe(parser);
  let headerSeen = false;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      if (!headerSeen) {
        headerSeen = true;
        if (!handler.header(record, info.lines)) {
          parser.destroy();
          return;
        }
        continue;
      }
      handler.record(record, info.lines);
    }
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
      const reason = {
        ENOENT: "the file does not exist",
        EACCES: "permission denied",
        EISDIR: "it is a folder",
      }[code];
      throw new SyncError("config", `cannot read ${path}: ${reason} (${code})`, {
        fix: "check the file path",
        error,
      });
    }
    const line = (error as { lines?: number }).lines;
    throw new SyncError(
      "data",
      `${path}${line ? `:${line}` : ""}: the file is not valid CSV: ${errorMessage(error)}`,
      {
        fix: "fields with commas, quotes or line breaks must be enclosed in double quotes (RFC 4180)",
        error,
      },
    );
  }
}
