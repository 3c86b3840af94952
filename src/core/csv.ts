/** Writes iLobby CSV: the exact header, RFC 4180 quoting, CRLF line ends, UTF-8 (accents kept). */
import { stringify } from "csv-stringify/sync";
import { COLUMNS, type Row } from "./columns.ts";

export function toCsv(rows: readonly Row[]): string {
  // Arrays rather than objects with `columns`: the same output, about a third faster at 100,000 rows.
  const records = [COLUMNS as readonly string[], ...rows.map((row) => COLUMNS.map((column) => row[column]))];
  return stringify(records as string[][], {
    record_delimiter: "windows",
    // csv-stringify only quotes the record delimiter itself (CRLF); a lone LF or CR must be quoted too.
    quoted_match: /[\r\n]/,
  });
}
