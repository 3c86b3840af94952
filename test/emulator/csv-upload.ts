/**
 * Streams an uploaded address-book CSV through csv-parse, one row at a time: uploads reach ~50 MB in the
 * benchmarks, so the file is never held as a whole.
 */
import { createHash } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { parse } from "csv-parse";
import { type AddressBookRecord, CSV_COLUMNS, recordFrom } from "./address-book.js";
import { messageOf } from "./http-helpers.js";

/** Why an upload was refused; the message is what the client gets back in the 400 body. */
export class CsvUploadError extends Error {}

export interface CsvReadResult {
  bytes: number;
  rows: number;
  /** SHA-256 (hex) of the bytes received, so tests can prove an upload is byte-for-byte a given file. */
  sha256: string;
  /** Set when the CSV was refused; the input was still read to the end. */
  error?: CsvUploadError;
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

const EXPECTED_HEADER = CSV_COLUMNS.join(",");

function checkHeader(fields: string[]): void {
  const mismatch = CSV_COLUMNS.findIndex((column, index) => fields[index] !== column);
  if (mismatch === -1 && fields.length === CSV_COLUMNS.length) return;
  const detail =
    fields.length !== CSV_COLUMNS.length
      ? `${fields.length} columns instead of ${CSV_COLUMNS.length}`
      : `column ${mismatch + 1} is "${fields[mismatch]}", expected "${CSV_COLUMNS[mismatch]}"`;
  throw new CsvUploadError(`Invalid CSV header: ${detail}; the header must be exactly ${EXPECTED_HEADER}`);
}

/** Waits for backpressure to ease; a failure destroys the parser, which must end the wait as well. */
function drainedOrClosed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/**
 * Reads `input` to its end, passing each data row to `onRow`. It never stops reading early (even after an
 * error), because busboy only finishes the request once every file stream has ended.
 * Rejects only when the input itself fails (the client went away).
 */
export async function readCsvUpload(
  input: Readable,
  onRow: (record: AddressBookRecord, line: number) => void,
): Promise<CsvReadResult> {
  const result: CsvReadResult = { bytes: 0, rows: 0, sha256: "" };
  const hash = createHash("sha256");
  // csv-parse replaces invalid UTF-8 silently; a fatal decoder catches e.g. a Windows-1252 export.
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const parser = parse({ bom: true, skip_empty_lines: true, info: true });
  let headerSeen = false;

  const fail = (error: unknown): void => {
    if (result.error !== undefined) return;
    result.error =
      error instanceof CsvUploadError ? error : new CsvUploadError(`Invalid CSV: ${messageOf(error)}`);
    parser.destroy();
  };

  parser.on("data", ({ record, info }: ParsedRecord) => {
    if (result.error !== undefined) return;
    try {
      if (!headerSeen) {
        checkHeader(record);
        headerSeen = true;
        return;
      }
      result.rows++;
      onRow(
        recordFrom((_column, index) => record[index] ?? ""),
        info.lines,
      );
    } catch (error) {
      fail(error);
    }
  });
  parser.on("error", fail);

  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      result.bytes += chunk.length;
      hash.update(chunk);
      if (result.error !== undefined) continue;
      try {
        utf8.decode(chunk, { stream: true });
      } catch {
        fail(new CsvUploadError("Invalid CSV: the file is not valid UTF-8"));
        continue;
      }
      if (!parser.write(chunk)) await drainedOrClosed(parser);
    }
  } catch (error) {
    parser.destroy();
    throw error;
  }

  if (result.error === undefined) {
    try {
      utf8.decode();
    } catch {
      fail(new CsvUploadError("Invalid CSV: the file is not valid UTF-8 (it ends inside a character)"));
    }
  }
  if (result.error === undefined) {
    parser.end();
    await finished(parser).catch(fail);
  }
  if (result.error === undefined && !headerSeen) {
    result.error = new CsvUploadError(
      `Invalid CSV: the file is empty; expected the header ${EXPECTED_HEADER}`,
    );
  }
  result.sha256 = hash.digest("hex");
  return result;
}
