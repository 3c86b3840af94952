/**
 * What an upload will change in iLobby compared with the last upload, under the vendor's rules: records match by
 * EMAIL (case-insensitive), uploaded values overwrite, empty fields are ignored, absent records are disabled.
 * Both sides come sorted by EMAIL key, so the comparison is one walk along them (a merge): the last upload is read
 * from the state file row by row and never held, and no index of either side is built.
 */
import { COLUMNS, type Column, type Row } from "./columns.ts";
import { emailKey } from "./email.ts";
import { compareText } from "./mapping.ts";
import { decodeRow, encodeRow, type RowList, type RowTable, rowListOf, rowTableFrom } from "./row-table.ts";

export interface FieldChange {
  column: Column;
  from: string;
  to: string;
}

export interface UpdatedRecord {
  email: string;
  changes: FieldChange[];
  /** Fields now empty: iLobby ignores empty fields, so the old values stay in the address book. */
  clearedButKept: Column[];
}

export interface UploadDiff {
  added: RowList;
  updated: UpdatedRecord[];
  disabled: RowList;
  unchanged: number;
  /** Rows in the last upload (the base of the percentage guard). */
  previousCount: number;
}

/** The last upload's rows were not in EMAIL-key order: the state file is damaged. */
export class UnsortedStateError extends Error {}

export interface SortedDiff {
  /** The next row of the last upload, in ascending EMAIL-key order. */
  previous(row: Row): void;
  finish(): UploadDiff;
}

export function createSortedDiff(next: RowTable): SortedDiff {
  let cursor = 0;
  let lastKey: string | undefined;
  const added: number[] = [];
  const updated: UpdatedRecord[] = [];
  const disabled: Row[] = [];
  let unchanged = 0;
  let previousCount = 0;

  return {
    previous(before) {
      const key = emailKey(before.EMAIL);
      if (lastKey !== undefined) {
        const order = compareText(lastKey, key);
        if (order > 0) throw new UnsortedStateError(`"${key}" comes after "${lastKey}"`);
        if (order === 0) return; // the same address twice: the first one counts, as iLobby would match it
      }
      lastKey = key;
      previousCount++;
      while (cursor < next.length && compareText(next.key(cursor), key) < 0) added.push(cursor++);
      if (cursor >= next.length || next.key(cursor) !== key) {
        disabled.push(before);
        return;
      }
      const index = cursor++;
      if (next.encoded(index) === encodeRow(before)) {
        unchanged++;
        return;
      }
      const row = decodeRow(next.encoded(index));
      const changes: FieldChange[] = [];
      const clearedButKept: Column[] = [];
      for (const column of COLUMNS) {
        if (before[column] === row[column]) continue;
        if (row[column] === "") clearedButKept.push(column);
        else changes.push({ column, from: before[column], to: row[column] });
      }
      updated.push({ email: row.EMAIL, changes, clearedButKept });
    },
    finish() {
      while (cursor < next.length) added.push(cursor++);
      return {
        added: next.subset(added),
        updated,
        disabled: rowListOf(disabled),
        unchanged,
        previousCount,
      };
    },
  };
}

/** The diff of two lists of rows in any order (tests, and callers that hold both lists anyway). */
export function diffUploads(previous: readonly Row[], next: readonly Row[]): UploadDiff {
  const diff = createSortedDiff(rowTableFrom(next));
  const sorted = rowTableFrom(previous);
  for (const row of sorted) diff.previous(row);
  return diff.finish();
}

/** The diff's sizes, as the --json summaries report them. */
export function diffCounts(diff: UploadDiff) {
  return {
    add: diff.added.length,
    update: diff.updated.length,
    disable: diff.disabled.length,
    unchanged: diff.unchanged,
  };
}
