/**
 * Renames: iLobby matches hosts by EMAIL only, so a person whose address changed (marriage, a new domain) is, to
 * iLobby, one host disabled and another created. The source's stable id (AD objectGUID, Entra id), kept with each
 * uploaded row in the state, tells that apart from a departure plus a hire. Pure.
 */
import type { Row } from "./columns.ts";

export interface RenamedRecord {
  stableId: string;
  /** As last uploaded: iLobby disables this entry. */
  from: Row;
  /** As now: iLobby creates this entry; settings made by hand in iLobby for the old one do not follow. */
  to: Row;
}

/** GUIDs are compared case-insensitively: sources and older tools differ in how they write the hex digits. */
const idKey = (stableId: string) => stableId.toLowerCase();

/** Ids that occur once, each with its position; a repeated id identifies nothing. */
function uniqueIds(ids: readonly (string | undefined)[]): Map<string, number> {
  const found = new Map<string, number>();
  const repeated = new Set<string>();
  for (let index = 0; index < ids.length; index++) {
    const id = ids[index];
    if (!id) continue;
    const key = idKey(id);
    if (found.has(key)) repeated.add(key);
    else found.set(key, index);
  }
  for (const key of repeated) found.delete(key);
  return found;
}

/**
 * Pairs each disabled row with the added row that carries the same stable id: together they are one person whose
 * EMAIL changed. Takes the ids only (rows are decoded just for the pairs found) and returns [disabled position,
 * added position] pairs in added order. Rows without an id (a state written before ids were kept, a CSV made
 * elsewhere) and ids found on more than one row of a side stay added or disabled.
 */
export function pairRenames(
  disabledIds: readonly (string | undefined)[],
  addedIds: readonly (string | undefined)[],
): [disabled: number, added: number][] {
  // Nothing to pair on a first run or when nothing left: the usual case costs no map at all.
  if (disabledIds.length === 0 || addedIds.length === 0) return [];
  const disabledById = uniqueIds(disabledIds);
  if (disabledById.size === 0) return [];
  const pairs: [number, number][] = [];
  for (const [key, added] of uniqueIds(addedIds)) {
    const disabled = disabledById.get(key);
    if (disabled !== undefined) pairs.push([disabled, added]);
  }
  return pairs;
}

/** What iLobby does with a rename, said once wherever renames are listed. */
export const RENAME_CONSEQUENCE =
  "iLobby matches hosts by EMAIL: it disables the old entry and creates a new one, and settings made by hand in iLobby for that host do not follow";
