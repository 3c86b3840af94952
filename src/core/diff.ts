/**
 * What an upload will change in iLobby compared with the last upload, under the vendor's rules: records match by
 * EMAIL (case-insensitive), uploaded values overwrite, empty fields are ignored, absent records are disabled.
 */
import { COLUMNS, type Column, type Row } from "./columns.ts";
import { emailKey } from "./email.ts";

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
  // Each key is computed once: at 400,000 rows a second pass of emailKey() costs a noticeable share of the diff.
  const previousKeys = previous.map((row) => emailKey(row.EMAIL));
  const previousByEmail = new Map<string, Row>();
  for (const [index, row] of previous.entries()) previousByEmail.set(previousKeys[index] as string, row);
  const nextEmails = new Set<string>();
  const added: Row[] = [];
  const updated: UpdatedRecord[] = [];
  let unchanged = 0;

  for (const row of next) {
    const key = emailKey(row.EMAIL);
    nextEmails.add(key);
    const before = previousByEmail.get(key);
    if (!before) {
      added.push(row);
      continue;
    }
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
  const disabled = previous.filter((_row, index) => !nextEmails.has(previousKeys[index] as string));
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
