/** Writes iLobby CSV: the exact header, RFC 4180 quoting, CRLF line ends, UTF-8 (accents kept). */
import { stringify } from "csv-stringify/sync";
import { COLUMNS, type Row } from "./columns.ts";
import type { RowTable } from "./row-table.ts";

const OPTIONS = {
  record_delimiter: "windows",
  // csv-stringify only quotes the record delimiter itself (CRLF); a lone LF or CR must be quoted too.
  quoted_match: /[\r\n]/,
} as const;

/** Rows per csv-stringify call when writing in pieces: large enough to cost nothing per call, small in memory. */
const PIECE_ROWS = 2_000;

export function toCsv(rows: readonly Row[]): string {
  // Arrays rather than objects with `columns`: the same output, about a third faster at 100,000 rows.
  const records = [COLUMNS as readonly string[], ...rows.map((row) => COLUMNS.map((column) => row[column]))];
  return stringify(records as string[][], OPTIONS);
}

/** The CSV of a table in pieces of a few thousand rows, header first: never the whole file as one string. */
export function* csvPieces(rows: RowTable): Generator<string> {
  yield stringify([COLUMNS as readonly string[]] as string[][], OPTIONS);
  for (let start = 0; start < rows.length; start += PIECE_ROWS) {
    const records: string[][] = [];
    const end = Math.min(start + PIECE_ROWS, rows.length);
    // The stored JSON text is the values in column order: parsed straight into the array csv-stringify takes.
    for (let index = start; index < end; index++) records.push(JSON.parse(rows.encoded(index)) as string[]);
    yield stringify(records, OPTIONS);
  }
}
