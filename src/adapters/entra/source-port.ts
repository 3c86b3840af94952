/** Agreement A's directory port, until pipeline lands it in src/app/ports.ts (then this file goes). */
export interface SourceRecord {
  ref: string;
  stableId?: string;
  attributes: Readonly<Record<string, string | readonly string[]>>;
  site?: string;
  groups?: readonly string[];
}
export interface DirectorySource {
  read(request: {
    attributes: readonly string[];
    siteGroups: readonly string[];
    onProgress?: (recordsSoFar: number) => void;
  }): AsyncIterable<readonly SourceRecord[]>;
}
