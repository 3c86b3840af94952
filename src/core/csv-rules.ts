/**
 * What a field may hold, for a CSV made anywhere and for rows made from the directory alike (issue 16, "files that
 * are really valid"). Pure: the validator reports these with line and column; the directory mapping removes
 * control characters and reports the record.
 */
import { COLUMNS, type Column, type Row } from "./columns.ts";

/** RFC 5321's limits on a path and on the part before the @. */
const MAX_EMAIL_LENGTH = 254;
const MAX_EMAIL_LOCAL_PART_LENGTH = 64;
/** No address-book field needs more; a longer one is a broken export (a whole file in one field), not a value. */
const MAX_FIELD_LENGTH = 1000;
/**
 * A physical line longer than this cannot be a valid record (8 fields of at most 1,000 characters, every one
 * quoted with every character a doubled quote): reading stops there, so a file without line breaks (a 500 MB
 * single line, /dev/zero) costs bounded memory and time.
 */
export const MAX_LINE_LENGTH = 8 * (2 * MAX_FIELD_LENGTH + 3);

/** C0 control characters except tab (NUL included): invisible, and they break iLobby's import and terminals. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\x00-\x08\x0A-\x1F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTERS = /[\x00-\x08\x0A-\x1F]/g;

/** The first control character in a value, or -1. */
export function controlCharacterAt(value: string): number {
  return value.search(CONTROL_CHARACTER);
}

export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

export function removeControlCharacters(value: string): string {
  return value.replace(CONTROL_CHARACTERS, "");
}

/** How a control character is named in a message: U+0000 (NUL), U+001B (ESC), ... */
export function describeControlCharacter(value: string, index: number): string {
  const code = value.charCodeAt(index);
  const names: Record<number, string> = {
    0: "NUL",
    9: "TAB",
    10: "LF, a line break",
    13: "CR, a line break",
    27: "ESC",
  };
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}${names[code] ? ` (${names[code]})` : ""}`;
}

export type FieldRuleProblem = { severity: "error" | "warning"; message: string };

/**
 * The length rules of one field (the control-character rule is checked apart, since the file and the directory
 * treat it differently). Returns undefined for a field that passes, which is nearly all of them.
 */
export function checkFieldLength(column: Column, value: string): FieldRuleProblem | undefined {
  if (column === "EMAIL") {
    if (value.length > MAX_EMAIL_LENGTH)
      return {
        severity: "error",
        message: `is ${value.length} characters long; an email address has at most ${MAX_EMAIL_LENGTH}`,
      };
    const at = value.lastIndexOf("@");
    if (at > MAX_EMAIL_LOCAL_PART_LENGTH)
      return {
        severity: "error",
        message: `the part before @ is ${at} characters long; it may have at most ${MAX_EMAIL_LOCAL_PART_LENGTH}`,
      };
    return undefined;
  }
  if (value.length > MAX_FIELD_LENGTH)
    return {
      severity: "error",
      message: `is ${value.length} characters long; iLobby fields hold at most ${MAX_FIELD_LENGTH}`,
    };
  return undefined;
}

/**
 * Whether UTF-8 bytes may hold a control character inside a field: any C0 byte except tab and line ends, or a CR
 * not followed by LF (a CR that ends the bytes counts: its LF may be in the next chunk). UTF-8 never uses bytes
 * below 0x20 inside a multi-byte character, so bytes tell. One loop per chunk instead of eight searches per
 * record, and about four times faster than a regular expression over the decoded text.
 */
export function mayContainControlCharacters(bytes: Uint8Array): boolean {
  for (let index = 0; index < bytes.length; index++) {
    if ((bytes[index] as number) < 32) {
      const byte = bytes[index] as number;
      if (byte !== 9 && byte !== 10 && (byte !== 13 || bytes[index + 1] !== 10)) return true;
    }
  }
  return false;
}

/**
 * The rules applied where a directory record becomes a row: control characters are removed (directory data is
 * free text that people type and scripts fill), and each removal is reported; a field over its length limit makes
 * the record invalid, as it does in a file. The row is changed in place.
 */
export function applyRowRules(row: Row): {
  removed: string[];
  invalid?: { column: Column; message: string };
} {
  const removed: string[] = [];
  for (const column of COLUMNS) {
    const value = row[column];
    const at = controlCharacterAt(value);
    if (at !== -1) {
      removed.push(`${column} had the control character ${describeControlCharacter(value, at)}, removed`);
      row[column] = removeControlCharacters(value).trim();
    }
  }
  for (const column of COLUMNS) {
    const tooLong = checkFieldLength(column, row[column]);
    if (tooLong) return { removed, invalid: { column, message: `${column} ${tooLong.message}` } };
  }
  return { removed };
}
