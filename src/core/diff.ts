/**
 * What an upload will change in iLobby compared with the last upload, under the vendor's rules: records match by
 * EMAIL (case-insensitive), uploaded values overwrite, empty fields are ignored, absent records are disabled.
 * Both sides come sorted by EMAIL key, so the comparison is one walk along them (a merge): the last upload is read
 * from the state file row by row and never held, and no index of either side is built.
 */
import { COLUMNS, type Column, type Row } from "./columns.ts";
import { emailKey } from "./email.ts";
import { compareText } from "./mapping.ts";
import { pairRenames, type RenamedRecord } from "./renames.ts";
import {
  createRowTableBuilder,
  decodeRow,
  encodeRow,
  type RowList,
  type RowTable,
  rowListOf,
} from "./row-table.ts";

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
  /** The same source object under another EMAIL: to iLobby a disable and an add, counted apart from both. */
  renamed: RenamedRecord[];
  disabled: RowList;
  unchanged: number;
  /** Rows in the last upload (the base of the percentage guard). */
  previousCount: number;
}

/** The last upload's rows were not in EMAIL-key order: the state file is damaged. */
export class UnsortedStateError extends Error {}

export interface SortedDiff {
  /** The next row of the last upload, in ascending EMAIL-key order, with its stable id when the state has one. */
  previous(row: Row, stableId?: string): void;
  finish(): UploadDiff;
}

export function createSortedDiff(next: RowTable): SortedDiff {
  let cursor = 0;
  let lastKey: string | undefined;
  const added: number[] = [];
  const updated: UpdatedRecord[] = [];
  const disabled: Row[] = [];
  const disabledIds: (string | undefined)[] = [];
  let unchanged = 0;
  let previousCount = 0;

  return {
    previous(before, stableId) {
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
        disabledIds.push(stableId);
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
      const pairs = pairRenames(
        disabledIds,
        added.map((index) => next.stableId(index)),
      );
      const renamed: RenamedRecord[] = pairs.map(([gone, come]) => ({
        stableId: next.stableId(added[come] as number) as string,
        from: disabled[gone] as Row,
        to: next.at(added[come] as number) as Row,
      }));
      const renamedFrom = new Set(pairs.map(([gone]) => gone));
      const renamedTo = new Set(pairs.map(([, come]) => come));
      return {
        added: next.subset(renamedTo.size ? added.filter((_, at) => !renamedTo.has(at)) : added),
        updated,
        renamed,
        disabled: rowListOf(renamedFrom.size ? disabled.filter((_, at) => !renamedFrom.has(at)) : disabled),
        unchanged,
        previousCount,
      };
    },
  };
}

/** Stable source ids of the rows, index for index (undefined where a row has none). */
export interface RowIds {
  previous: readonly (string | undefined)[];
  next: readonly (string | undefined)[];
}

/** The diff of two lists of rows in any order (tests, and callers that hold both lists anyway). */
export function diffUploads(previous: readonly Row[], next: readonly Row[], ids?: RowIds): UploadDiff {
  const table = (rows: readonly Row[], stableIds: RowIds[keyof RowIds] | undefined) => {
    const builder = createRowTableBuilder();
    for (const [index, row] of rows.entries()) builder.add(row, stableIds?.[index]);
    return builder.finish();
  };
  const diff = createSortedDiff(table(next, ids?.next));
  const sorted = table(previous, ids?.previous);
  for (let index = 0; index < sorted.length; index++)
    diff.previous(sorted.at(index) as Row, sorted.stableId(index));
  return diff.finish();
}

/** The diff's sizes, as the --json summaries report them. */
export function diffCounts(diff: UploadDiff) {
  return {
    add: diff.added.length,
    update: diff.updated.length,
    rename: diff.renamed.length,
    disable: diff.disabled.length,
    unchanged: diff.unchanged,
  };
}
