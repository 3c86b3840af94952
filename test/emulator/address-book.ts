/**
 * The iLobby address book and the vendor's sync rules, free of any I/O so they can be tested directly.
 *
 * Rules: records match by EMAIL (case-insensitive); non-empty uploaded values overwrite stored ones, empty ones
 * never clear anything; records missing from an upload are disabled; a disabled record that comes back is
 * re-enabled. The vendor also documents that names longer than 50 characters do not sync.
 */

export const CSV_COLUMNS = [
  "FIRSTNAME",
  "LASTNAME",
  "TITLE",
  "DIVISION",
  "EMAIL",
  "MOBILE",
  "DESKPHONE",
  "SITE",
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];
export type AddressBookRecord = Record<CsvColumn, string>;
export interface AddressBookEntry extends AddressBookRecord {
  enabled: boolean;
}

/** Builds a record column by column; `index` is the column's position in the CSV. */
export function recordFrom(valueFor: (column: CsvColumn, index: number) => string): AddressBookRecord {
  const record: Partial<AddressBookRecord> = {};
  CSV_COLUMNS.forEach((column, index) => {
    record[column] = valueFor(column, index);
  });
  return record as AddressBookRecord;
}

export const MAX_NAME_LENGTH = 50;

export interface SyncSummary {
  records: number;
  added: number;
  updated: number;
  unchanged: number;
  disabled: number;
  /** Rows the vendor does not sync: a first or last name longer than MAX_NAME_LENGTH characters. */
  skipped: number;
}

/** A problem with one uploaded row; the whole upload is rejected so a faulty client is noticed. */
export class UploadRowError extends Error {}

export function emailKey(email: string): string {
  return email.toLowerCase();
}

function isNameTooLong(name: string): boolean {
  // Count characters, not UTF-16 code units, as a person reading the name would (the short test first: it is
  // cheap and decides almost every row).
  return name.length > MAX_NAME_LENGTH && [...name].length > MAX_NAME_LENGTH;
}

export function formatSummary(summary: SyncSummary): string {
  const skipped =
    summary.skipped > 0 ? `, ${summary.skipped} skipped (name longer than ${MAX_NAME_LENGTH})` : "";
  return (
    `Upload complete: ${summary.records} records (${summary.added} added, ${summary.updated} updated, ` +
    `${summary.unchanged} unchanged, ${summary.disabled} disabled${skipped})`
  );
}

export class AddressBook {
  readonly #entries = new Map<string, AddressBookEntry>();

  /** Copies of all entries, sorted by lower-case EMAIL. */
  entries(): AddressBookEntry[] {
    return [...this.#entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => ({ ...entry }));
  }

  /** Replaces the whole book. */
  replace(entries: readonly AddressBookEntry[]): void {
    this.#entries.clear();
    for (const entry of entries) this.#entries.set(emailKey(entry.EMAIL), { ...entry });
  }

  /**
   * Starts an upload. Rows are staged as they stream in and the book changes only on commit(), so a CSV that
   * turns out to be broken halfway leaves the book as it was.
   */
  beginUpload(): UploadSync {
    return new UploadSync(this.#entries);
  }
}

export class UploadSync {
  readonly #book: Map<string, AddressBookEntry>;
  readonly #staged = new Map<string, { record: AddressBookRecord; line: number }>();
  /** Emails of skipped rows: the vendor does not sync them, so their stored records are left alone. */
  readonly #skippedKeys = new Set<string>();
  #records = 0;

  constructor(book: Map<string, AddressBookEntry>) {
    this.#book = book;
  }

  /** Stages one uploaded row; `line` is its line in the CSV, for error messages. */
  add(record: AddressBookRecord, line: number): void {
    this.#records++;
    if (record.EMAIL === "") throw new UploadRowError(`line ${line}: EMAIL is empty`);
    const key = emailKey(record.EMAIL);
    const earlier = this.#staged.get(key);
    if (earlier !== undefined || this.#skippedKeys.has(key)) {
      const where = earlier === undefined ? "" : ` (first on line ${earlier.line})`;
      throw new UploadRowError(`line ${line}: duplicate EMAIL ${record.EMAIL}${where}`);
    }
    if (isNameTooLong(record.FIRSTNAME) || isNameTooLong(record.LASTNAME)) {
      this.#skippedKeys.add(key);
      return;
    }
    this.#staged.set(key, { record: { ...record }, line });
  }

  commit(): SyncSummary {
    const summary: SyncSummary = {
      records: this.#records,
      added: 0,
      updated: 0,
      unchanged: 0,
      disabled: 0,
      skipped: this.#skippedKeys.size,
    };
    for (const [key, { record }] of this.#staged) {
      const stored = this.#book.get(key);
      if (stored === undefined) {
        this.#book.set(key, { ...record, enabled: true });
        summary.added++;
      } else if (mergeInto(stored, record)) {
        summary.updated++;
      } else {
        summary.unchanged++;
      }
    }
    for (const [key, stored] of this.#book) {
      if (stored.enabled && !this.#staged.has(key) && !this.#skippedKeys.has(key)) {
        stored.enabled = false;
        summary.disabled++;
      }
    }
    return summary;
  }
}

/** Applies the non-empty uploaded values and re-enables; returns whether anything changed. */
function mergeInto(stored: AddressBookEntry, uploaded: AddressBookRecord): boolean {
  let changed = !stored.enabled;
  stored.enabled = true;
  for (const column of CSV_COLUMNS) {
    const value = uploaded[column];
    if (value !== "" && value !== stored[column]) {
      stored[column] = value;
      changed = true;
    }
  }
  return changed;
}
