/**
 * Tells a UTF-8 CSV from the encodings spreadsheets also save (Windows-1252 "ANSI", UTF-16 "Unicode text"), from
 * the bytes alone. Pure. iLobby reads UTF-8: anything else arrives with garbled names, so it is refused with the
 * fix instead of being read as something it is not.
 */

export const SAVE_AS_UTF8 =
  'save it as CSV UTF-8 (in Excel: "Save As" > "CSV UTF-8 (Comma delimited) (*.csv)")';

/** Looks at the first bytes of a file: a UTF-16/32 byte-order mark or NUL bytes mean it is not UTF-8 text. */
export function sniffNonUtf8(first: Uint8Array): string | undefined {
  const [a, b, c, d] = first;
  if (a === 0xff && b === 0xfe && c === 0 && d === 0)
    return "the file is UTF-32 (it starts with a UTF-32 byte-order mark)";
  if ((a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff))
    return `the file is UTF-16 ("Unicode text"; it starts with a UTF-16 byte-order mark)`;
  // UTF-16 text is mostly NUL in every other byte, binary data has NULs everywhere; a stray NUL in a UTF-8 file is
  // a control character in a field, reported with its line and column instead.
  const sample = first.subarray(0, 1024);
  let nuls = 0;
  for (const byte of sample) if (byte === 0) nuls++;
  if (nuls * 4 >= sample.length)
    return `the file is ${Math.round((nuls * 100) / sample.length)}% NUL bytes at its start: it is UTF-16 without a byte-order mark, or not a text file at all`;
  return undefined;
}

/** The offset of the first byte that breaks UTF-8 in `bytes`, or -1 (an incomplete sequence at the end is not a break). */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const byte = bytes[index] as number;
    if (byte < 0x80) {
      index++;
      continue;
    }
    const length =
      byte >= 0xc2 && byte <= 0xdf
        ? 2
        : byte >= 0xe0 && byte <= 0xef
          ? 3
          : byte >= 0xf0 && byte <= 0xf4
            ? 4
            : 0;
    if (length === 0) return index;
    for (let next = 1; next < length; next++) {
      if (index + next >= bytes.length) return -1;
      const continuation = bytes[index + next] as number;
      // The second byte's range also rules out overlong forms and surrogates (RFC 3629).
      const low = next === 1 && byte === 0xe0 ? 0xa0 : next === 1 && byte === 0xf0 ? 0x90 : 0x80;
      const high = next === 1 && byte === 0xed ? 0x9f : next === 1 && byte === 0xf4 ? 0x8f : 0xbf;
      if (continuation < low || continuation > high) return index;
    }
    index += length;
  }
  return -1;
}

/** Describes a byte that is not UTF-8, naming what it would be in Windows-1252 when it is a common letter. */
export function describeInvalidByte(byte: number): string {
  const windows1252 = byte >= 0xa0 ? new TextDecoder("windows-1252").decode(new Uint8Array([byte])) : "";
  return `byte 0x${byte.toString(16).toUpperCase().padStart(2, "0")} is not UTF-8${windows1252 ? ` (it is "${windows1252}" in Windows-1252, the "ANSI" encoding of Excel's plain "CSV" format)` : ""}`;
}

/** The 0-based field that a position of a line falls in: commas outside quotes before it. */
export function fieldAt(lineStart: string): number {
  let field = 0;
  let quoted = false;
  for (let index = 0; index < lineStart.length; index++) {
    const code = lineStart.charCodeAt(index);
    if (code === 34) quoted = !quoted;
    else if (code === 44 && !quoted) field++;
  }
  return field;
}
