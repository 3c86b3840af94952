/**
 * Text from outside (the directory, a CSV, a server's answer) made safe to print: control characters are shown as
 * escapes (\x1b, \r, \u202e) instead of acting, so an ANSI sequence in a givenName cannot recolour the terminal,
 * set its title or overwrite a line, and a bidi override cannot reorder what is shown. Line breaks and tabs stay.
 */

// C0 except tab and line feed, DEL, C1 (8-bit CSI and friends), and the bidi marks, embeddings and isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
const TERMINAL_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// JSON.stringify already escapes C0; these it leaves as they are.
const JSON_UNSAFE = /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const hex = (char: string, digits: number) => (char.codePointAt(0) ?? 0).toString(16).padStart(digits, "0");

export function escapeTerminalText(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (char) =>
    char < "\u0100" ? `\\x${hex(char, 2)}` : `\\u${hex(char, 4)}`,
  );
}

/** For a JSON document printed to a terminal: the same characters as \u escapes, so it stays valid JSON. */
export function escapeJsonText(json: string): string {
  return json.replace(JSON_UNSAFE, (char) => `\\u${hex(char, 4)}`);
}
