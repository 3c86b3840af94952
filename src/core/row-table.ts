/**
 * The rows of an upload in a compact form: one JSON text per row (its eight values in column order), its EMAIL key
 * and its stable id, in parallel arrays sorted by EMAIL key. At 100,000s of rows this is a few strings per person
 * instead of a row object with eight strings and the source's attribute objects; a row is decoded only when it is
 * shown, compared or written.
 */
import { COLUMNS, type Row, rowFromValues } from "./columns.ts";
import { emailKey } from "./email.ts";
import { compareText } from "./mapping.ts";

export function encodeRow(row: Row): string {
  return JSON.stringify(COLUMNS.map((column) => row[column]));
}

export function decodeRow(encoded: string): Row {
  return rowFromValues(JSON.parse(encoded) as string[]);
}

/** A read-only list of rows decoded on demand: what `run --json` prints and the summaries show a few of. */
export interface RowList extends Iterable<Row> {
  readonly length: number;
  at(index: number): Row | undefined;
  slice(start?: number, end?: number): Row[];
  /** JSON.stringify writes it as an array of rows. */
  toJSON(): Row[];
}

/** Rows sorted by EMAIL key (case-insensitive, as iLobby matches), each with its stable id. */
export interface RowTable extends RowList {
  key(index: number): string;
  encoded(index: number): string;
  stableId(index: number): string | undefined;
  /** The rows at these indexes (ascending), as a table of their own: a target's share, without copying a row. */
  subset(indexes: readonly number[]): RowTable;
}

function listOf(length: number, rowAt: (index: number) => Row): RowList {
  const at = (index: number) => (index >= 0 && index < length ? rowAt(index) : undefined);
  const slice = (start = 0, end = length) => {
    const rows: Row[] = [];
    for (let index = Math.max(0, start); index < Math.min(end, length); index++) rows.push(rowAt(index));
    return rows;
  };
  return {
    length,
    at,
    slice,
    toJSON: () => slice(),
    *[Symbol.iterator]() {
      for (let index = 0; index < length; index++) yield rowAt(index);
    },
  };
}

export function rowListOf(rows: readonly Row[]): RowList {
  return listOf(rows.length, (index) => rows[index] as Row);
}

/** Where a table's rows live, already in EMAIL-key order: arrays, or the plan's off-heap arena. */
export interface RowSource {
  readonly length: number;
  key(index: number): string;
  encoded(index: number): string;
  stableId(index: number): string | undefined;
}

function tableOver(source: RowSource, indexes: readonly number[] | undefined): RowTable {
  const position = indexes ? (index: number) => indexes[index] as number : (index: number) => index;
  const length = indexes ? indexes.length : source.length;
  return {
    ...listOf(length, (index) => decodeRow(source.encoded(position(index)))),
    key: (index) => source.key(position(index)),
    encoded: (index) => source.encoded(position(index)),
    stableId: (index) => source.stableId(position(index)),
    subset: (subset) => tableOver(source, indexes ? subset.map((index) => indexes[index] as number) : subset),
  };
}

/**
 * The indexes of `keys` in ascending key order, equal keys in their original order. Sorts "key NUL index" strings
 * with the built-in comparison (UTF-16 code units, as compareText): at 410,788 keys a comparator function took
 * about 3 s of a profiled upload, nearly all in calling it. An EMAIL key holds no NUL (control characters are
 * refused or removed, core/csv-rules.ts), so NUL sorts a key before every longer key it begins.
 */
function sortedOrder(keys: readonly string[]): number[] {
  let sorted = true;
  for (let index = 1; index < keys.length && sorted; index++)
    sorted = compareText(keys[index - 1] as string, keys[index] as string) <= 0;
  if (sorted) return keys.map((_key, index) => index);
  const width = String(keys.length).length;
  const tagged = keys.map((key, index) => `${key}\u0000${String(index).padStart(width, "0")}`);
  tagged.sort();
  return tagged.map((entry) => Number(entry.slice(entry.length - width)));
}

/** Collects rows in any order; `finish` sorts them by EMAIL key (then by the order they were added). */
export function createRowTableBuilder() {
  const keys: string[] = [];
  const encoded: string[] = [];
  const stableIds: (string | undefined)[] = [];
  return {
    add(row: Row, stableId?: string): void {
      keys.push(emailKey(row.EMAIL));
      encoded.push(encodeRow(row));
      stableIds.push(stableId);
    },
    finish(): RowTable {
      const order = sortedOrder(keys);
      const sortedKeys = order.map((index) => keys[index] as string);
      const sortedEncoded = order.map((index) => encoded[index] as string);
      const sortedIds = order.map((index) => stableIds[index]);
      return tableOver(
        {
          length: order.length,
          key: (index) => sortedKeys[index] as string,
          encoded: (index) => sortedEncoded[index] as string,
          stableId: (index) => sortedIds[index],
        },
        undefined,
      );
    },
  };
}

/** A table from rows made elsewhere (a CSV checked by `upload`), sorted by EMAIL key. */
export function rowTableFrom(rows: Iterable<Row>): RowTable {
  const builder = createRowTableBuilder();
  for (const row of rows) builder.add(row);
  return builder.finish();
}

/** A table over rows already sorted by EMAIL key (the plan keeps them so). */
export function sortedRowTable(source: RowSource): RowTable {
  return tableOver(source, undefined);
}
