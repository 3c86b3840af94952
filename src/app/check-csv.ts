/**
 * The one pass over a CSV that `validate` and `upload` share: bytes -> UTF-8 text -> records -> the verdict, with
 * every problem's line and column, in memory that does not grow with the file beyond the EMAIL index. Takes the
 * bytes as an async iterable, so it is tested with in-memory chunks and fed from a file by the adapter.
 */
import { rowFromValues } from "../core/columns.ts";
import {
  describeInvalidByte,
  fieldAt,
  firstInvalidUtf8Byte,
  SAVE_AS_UTF8,
  sniffNonUtf8,
} from "../core/csv-encoding.ts";
import { createCsvReader } from "../core/csv-reader.ts";
import { mayContainControlCharacters } from "../core/csv-rules.ts";
import { type CsvValidationReport, columnName, createCsvValidator } from "../core/csv-validation.ts";
import type { PhonePolicy } from "../core/phones.ts";
import { createRowTableBuilder, type RowTable } from "../core/row-table.ts";

export interface CsvCheckOptions {
  sites?: readonly string[] | undefined;
  phones?: PhonePolicy | undefined;
  /** Keep the records as rows too (upload's diff against the last upload), from the same pass. */
  keepRows?: boolean;
}

export interface CsvCheck {
  report: CsvValidationReport;
  /** The records as a compact table sorted by EMAIL key (empty without `keepRows`). */
  rows: RowTable;
  /** Bytes read: all of the input when it was read to the end. */
  bytes: number;
}

const PIECE_BYTES = 1 << 12;

const countLineBreaks = (bytes: Uint8Array) => {
  let count = 0;
  for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) count++;
  return count;
};

export async function checkCsv(
  input: AsyncIterable<Uint8Array>,
  options: CsvCheckOptions = {},
): Promise<CsvCheck> {
  const validator = createCsvValidator({ sites: options.sites, phones: options.phones });
  const rows = createRowTableBuilder();
  let header: "unread" | "ok" | "wrong" = "unread";
  // Records are searched for control characters field by field only when the text they came from showed one (the
  // chunk, or an earlier chunk holding the start of the line): one search per chunk instead of eight per record.
  let controlHere = true;
  let controlPending = false;
  const headerIsWrong = () => header === "wrong";
  const reader = createCsvReader({
    record(fields, line) {
      if (header === "unread") {
        header = validator.header(fields, line) ? "ok" : "wrong";
        return;
      }
      validator.record(fields, line, controlHere || controlPending);
      if (options.keepRows) rows.add(rowFromValues(fields));
    },
    problem(problem) {
      if (problem.fatal)
        validator.fatal({
          severity: "error",
          line: problem.line,
          column: columnName(problem.field),
          message: problem.message,
        });
      else {
        if (header === "unread") header = "wrong";
        validator.syntax(problem);
      }
    },
  });
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let bytes = 0;
  /** Decodes, splits and checks one piece of bytes; false once reading has stopped. */
  const take = (piece: Uint8Array): boolean => {
    if (bytes === 0) {
      const problem = sniffNonUtf8(piece);
      if (problem) {
        validator.fatal({
          severity: "error",
          line: 1,
          column: columnName(0),
          message: `${problem}; iLobby reads UTF-8 only: ${SAVE_AS_UTF8}`,
        });
        return false;
      }
    }
    bytes += piece.length;
    let text: string;
    try {
      text = decoder.decode(piece, { stream: true });
    } catch {
      // The bytes before the bad one were not decoded: the reader has every line before this piece.
      const at = Math.max(0, firstInvalidUtf8Byte(piece));
      const before = piece.subarray(0, at);
      const lineStart = before.lastIndexOf(10) + 1;
      const field =
        lineStart > 0
          ? fieldAt(new TextDecoder().decode(before.subarray(lineStart)))
          : fieldAt(reader.pending + new TextDecoder().decode(before));
      validator.fatal({
        severity: "error",
        line: reader.lines + 1 + countLineBreaks(before),
        column: columnName(field),
        message: `${describeInvalidByte(piece[at] as number)}: the file is in another encoding; iLobby reads UTF-8 only: ${SAVE_AS_UTF8}`,
      });
      return false;
    }
    controlHere = mayContainControlCharacters(piece);
    if (!reader.push(text) || headerIsWrong()) return false;
    controlPending = reader.pending !== "" && (controlHere || controlPending);
    return true;
  };
  let stopped = false;
  reading: for await (const chunk of input) {
    // Decoded in pieces of 4 KiB: a piece's text is alive while its lines are checked, and what is alive at each
    // young-generation collection makes V8 grow that generation; with 1 MiB pieces (large-object space, freed
    // only by a full collection) and 64 KiB pieces peak memory grew more with the file (docs/benchmarks.md).
    for (let start = 0; start < chunk.length; start += PIECE_BYTES) {
      if (!take(chunk.subarray(start, start + PIECE_BYTES))) {
        stopped = true;
        break reading;
      }
    }
  }
  if (!stopped) {
    try {
      const rest = decoder.decode();
      controlHere = controlPending;
      reader.push(rest);
      reader.end();
    } catch {
      validator.fatal({
        severity: "error",
        line: reader.lines + 1,
        column: columnName(fieldAt(reader.pending)),
        message: `the file ends in the middle of a UTF-8 character: it is cut short, or in another encoding; ${SAVE_AS_UTF8}`,
      });
    }
  }
  return { report: validator.finish(), rows: rows.finish(), bytes };
}
