/** Email checks shared by the directory mapping and CSV validation. iLobby matches records by EMAIL. */

// Deliberately simple: one @, a dot in the domain, no spaces. iLobby only needs a stable, plausible key.
const EMAIL_PATTERN = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>".]+$/;

export function isWellFormedEmail(value: string): boolean {
  return EMAIL_PATTERN.test(value);
}

/** The key iLobby matches on: case-insensitive. */
export function emailKey(value: string): string {
  return value.trim().toLowerCase();
}
