/**
 * Remembers every EMAIL key seen (with a number: the line it was first seen on, a row's index) in about 20 bytes per address, outside the
 * garbage-collected heap: a Map of strings took about 87 bytes per address, and at 1,000,000 rows it was what
 * made validate's memory grow with the file (docs/benchmarks.md).
 *
 * It keeps a 64-bit hash of each key, not the key. Equal keys always collide, so a duplicate is never missed; two
 * different keys would collide with a probability of about n²/2⁶⁵ (one in 37 million for a file of a million
 * addresses), and then a valid file is refused, never an invalid one accepted.
 */

import { emailKey } from "./email.ts";

const CHUNK = 1 << 16;
/** The table is doubled past this load: short probe sequences, 4 bytes per slot. */
const MAX_LOAD = 0.5;

/**
 * Two independent 32-bit hashes (FNV-1a and a multiplicative mix) of the UTF-16 code units of a string, with ASCII
 * letters folded to lower case; false (nothing hashed) when the string has other characters, whose case folding
 * is Unicode's (toLowerCase) and left to the caller.
 */
function hashPair(key: string, out: Uint32Array, foldAscii: boolean): boolean {
  let first = 0x811c9dc5;
  let second = 0x9747b28c ^ key.length;
  for (let index = 0; index < key.length; index++) {
    let code = key.charCodeAt(index);
    if (foldAscii) {
      if (code >= 128) return false;
      if (code >= 65 && code <= 90) code += 32;
    }
    first = Math.imul(first ^ code, 0x01000193);
    second = Math.imul(second ^ code, 0x5bd1e995);
    second ^= second >>> 15;
  }
  second = Math.imul(second ^ (second >>> 13), 0xc2b2ae35);
  out[0] = first ^ (first >>> 16);
  out[1] = second ^ (second >>> 16);
  return true;
}

export function createEmailIndex() {
  /** Entry i lives at chunk i >> 16, slot i & 0xffff, as three numbers: both hashes and the value. */
  const chunks: Uint32Array[] = [];
  let size = 0;
  /** Open addressing: entry number + 1, or 0 for an empty slot. */
  let table = new Uint32Array(1 << 12);
  const hashes = new Uint32Array(2);

  const entryHash = (entry: number, part: 0 | 1) =>
    (chunks[entry >>> 16] as Uint32Array)[(entry & (CHUNK - 1)) * 3 + part] as number;

  const grow = () => {
    const next = new Uint32Array(table.length * 2);
    const mask = next.length - 1;
    for (let entry = 0; entry < size; entry++) {
      let slot = entryHash(entry, 0) & mask;
      while (next[slot] !== 0) slot = (slot + 1) & mask;
      next[slot] = entry + 1;
    }
    table = next;
  };

  /** The slot of the address's entry, or of the empty slot where it belongs (then ~slot, a negative number). */
  const locate = (email: string): number => {
    const trimmed = email.trim();
    if (!hashPair(trimmed, hashes, true)) hashPair(emailKey(trimmed), hashes, false);
    const first = hashes[0] as number;
    const second = hashes[1] as number;
    const mask = table.length - 1;
    let slot = first & mask;
    for (let found = table[slot] as number; found !== 0; found = table[slot] as number) {
      const entry = found - 1;
      const chunk = chunks[entry >>> 16] as Uint32Array;
      const offset = (entry & (CHUNK - 1)) * 3;
      if (chunk[offset] === first && chunk[offset + 1] === second) return slot;
      slot = (slot + 1) & mask;
    }
    return ~slot;
  };
  const valueAt = (slot: number) => {
    const entry = (table[slot] as number) - 1;
    return (chunks[entry >>> 16] as Uint32Array)[(entry & (CHUNK - 1)) * 3 + 2] as number;
  };

  return {
    /**
     * Records a number (a line, a row's index) for the address, or returns the number recorded for it first (the
     * new one is then dropped). Addresses are compared as iLobby does: trimmed and case-insensitively
     * (core/email.ts `emailKey`).
     */
    putIfAbsent(email: string, value: number): number | undefined {
      const slot = locate(email);
      if (slot >= 0) return valueAt(slot);
      if ((size & (CHUNK - 1)) === 0) chunks.push(new Uint32Array(CHUNK * 3));
      const chunk = chunks[size >>> 16] as Uint32Array;
      const offset = (size & (CHUNK - 1)) * 3;
      chunk[offset] = hashes[0] as number;
      chunk[offset + 1] = hashes[1] as number;
      chunk[offset + 2] = value;
      table[~slot] = ++size;
      if (size > table.length * MAX_LOAD) grow();
      return undefined;
    },

    /** The number recorded for the address, if any. */
    get(email: string): number | undefined {
      const slot = locate(email);
      return slot >= 0 ? valueAt(slot) : undefined;
    },

    get size() {
      return size;
    },
  };
}
