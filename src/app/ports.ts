/**
 * The small interfaces the use cases need from the outside world. Adapters implement them; tests pass fakes or
 * real servers. A new source (say Microsoft Graph) or target is a new adapter, not a change to the core.
 */
import type { Row } from "../core/columns.ts";
import type { RowTable } from "../core/row-table.ts";
import type { SourceQueryDescription, SourceRecord } from "../core/source-record.ts";

export type { SourceQueryDescription, SourceRecord };

export interface DirectoryReadRequest {
  /** The attributes the mapping reads (lower-case): nothing more is requested. */
  attributes: readonly string[];
  /** The `siteGroups` keys whose membership each record must report. */
  siteGroups: readonly string[];
  onProgress?: ((recordsSoFar: number) => void) | undefined;
}

export interface DirectorySource {
  /** Pages of records in the order the source reads them. Throws SyncError on any failure: the run then uploads nothing. */
  read(request: DirectoryReadRequest): AsyncIterable<readonly SourceRecord[]>;
  /** The query `read` would send, for people to check (the LDAP filter, the bases). */
  describe?(request: DirectoryReadRequest): SourceQueryDescription;
}

/** A CSV to upload: text built in memory, or a file streamed from disk. */
export type CsvPayload = { kind: "text"; text: string } | { kind: "file"; path: string };

export interface UploadReceipt {
  status: number;
  /** The response text, shown to the administrator as the vendor's script did. */
  message: string;
}

export interface AddressBookTarget {
  upload(csv: CsvPayload): Promise<UploadReceipt>;
}

export interface SecretSource {
  /** Returns the secret or throws a SyncError("secret") that says where it was looked for. */
  get(name: string): Promise<string>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Which upload a state describes: the diff compares only with an upload to the same key and URL. */
export interface UploadHeader {
  target: string;
  clientId: string;
  baseUrl: string;
  uploadedAt: string;
  runId: string;
}

/** One row of the last upload, with the stable id of the record it came from (absent for a CSV made elsewhere). */
export interface StoredRow {
  row: Row;
  stableId?: string | undefined;
}

/** What was last uploaded to one target: the base of the diff and of the disable guard. */
export interface LastUpload extends UploadHeader {
  /**
   * The rows in ascending EMAIL-key order, read from the state in pieces (each call reads again). Throws
   * DamagedStateError when a row turns out to be damaged part-way.
   */
  rows(): AsyncIterable<StoredRow>;
}

/** An upload iLobby accepted, to be saved as the new last upload. */
export interface NewUpload extends UploadHeader {
  /** Sorted by EMAIL key, with each row's stable id. */
  rows: RowTable;
}

/** A state file found damaged while its rows were read. */
export class DamagedStateError extends Error {}

export type LastUploadRead =
  | { status: "found"; upload: LastUpload }
  | { status: "missing" }
  | { status: "corrupt"; problem: string };

export interface StateStore {
  readonly location: string;
  /** Never throws for a missing or damaged file: "missing" is a first run, "corrupt" stops a run unless --force. */
  readLastUpload(target: string): Promise<LastUploadRead>;
  /**
   * Identifies the stored last upload exactly (a hash of what is stored); undefined when none is recorded. A saved
   * plan keeps it, and `apply` refuses the plan once it has changed (another upload happened since).
   */
  lastUploadFingerprint(target: string): Promise<string | undefined>;
  /**
   * Written in pieces, atomically: a crash leaves the old state or the new one, never half of each. With
   * `onlyAfter` (the upload in flight), the new state is written while iLobby reads the file but replaces the old
   * one only once that promise resolves; if it rejects, the old state stays and that error is thrown.
   */
  saveLastUpload(upload: NewUpload, options?: { onlyAfter?: Promise<unknown> }): Promise<void>;
  /** One run at a time per state directory; throws SyncError("locked") when another run holds it. */
  lock(): Promise<() => Promise<void>>;
}

/** Saved plans (`run --dry-run --plan`, runs stopped by the guard): files that hold personal data, mode 0600. */
export interface PlanStore {
  /** Where the plan of a run stopped by the guard is saved: <stateDir>/plans/<runId>.json. */
  pathFor(runId: string): string;
  /** Where the HTML report of that plan is saved, beside it: <stateDir>/plans/<runId>.html. */
  reportPathFor(runId: string): string;
  write(path: string, text: string): Promise<void>;
  /** Throws SyncError("config") when the file cannot be read (missing, not a regular file, too large). */
  read(path: string): Promise<string>;
  /** Deletes the saved plans (in the plans folder) older than `maxAgeMs`; returns their paths. */
  prune(maxAgeMs: number, now: number): Promise<string[]>;
}

/** Structured events of a run (JSON lines in log.file). */
export interface RunLog {
  event(event: string, fields?: Record<string, unknown>): void;
}
