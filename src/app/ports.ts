/**
 * The small interfaces the use cases need from the outside world. Adapters implement them; tests pass fakes or
 * real servers. A new source (say Microsoft Graph) or target is a new adapter, not a change to the core.
 */
import type { DirectoryEntry } from "../core/mapping.ts";

export interface DirectoryQuery {
  bases: readonly string[];
  filter: string;
  attributes: readonly string[];
}

export interface DirectorySource {
  /**
   * Returns every matching entry under every base, or throws a SyncError. It never returns a partial result:
   * iLobby disables every host missing from an upload.
   */
  fetchEntries(query: DirectoryQuery, onProgress?: (entriesSoFar: number) => void): Promise<DirectoryEntry[]>;
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
