/**
 * What an upload will change in iLobby compared with the last upload, under the vendor's rules: records match by
 * EMAIL (case-insensitive), uploaded values overwrite, empty fields are ignored, absent records are disabled.
 */
import { COLUMNS, type Column, type Row } from "./columns.ts";
import { emailKey } from "./email.ts";
import { createEmailIndex } from "./email-index.ts";

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
  added: Row[];
  updated: UpdatedRecord[];
  disabled: Row[];
  unchanged: number;
  /** Rows in the last upload (the base of the percentage guard). */
  previousCount: number;
}

export function diffUploads(previous: readonly Row[], next: readonly Row[]): UploadDiff {
  // A compact hash index instead of a Map and a Set of 400,000 address strings: at that size they were most of
  // the diff's time and memory (docs/benchmarks.md). A hash match is confirmed on the keys themselves.
  const previousIndex = createEmailIndex();
  for (let index = 0; index < previous.length; index++)
    previousIndex.putIfAbsent((previous[index] as Row).EMAIL, index);
  const kept = new Uint8Array(previous.length);
  const added: Row[] = [];
  const updated: UpdatedRecord[] = [];
  let unchanged = 0;

  for (const row of next) {
    const index = previousIndex.get(row.EMAIL);
    const before = index === undefined ? undefined : previous[index];
    if (!before || emailKey(before.EMAIL) !== emailKey(row.EMAIL)) {
      added.push(row);
      continue;
    }
    kept[index as number] = 1;
    const changes: FieldChange[] = [];
    const clearedButKept: Column[] = [];
    for (const column of COLUMNS) {
      if (before[column] === row[column]) continue;
      if (row[column] === "") clearedButKept.push(column);
      else changes.push({ column, from: before[column], to: row[column] });
    }
    if (changes.length > 0 || clearedButKept.length > 0)
      updated.push({ email: row.EMAIL, changes, clearedButKept });
    else unchanged++;
  }
  const disabled = previous.filter((_row, index) => kept[index] === 0);
  return { added, updated, disabled, unchanged, previousCount: previous.length };
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
