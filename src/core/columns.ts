/** The iLobby address-book CSV columns, in the exact order and spelling the upload endpoint requires. */
export const COLUMNS = [
  "FIRSTNAME",
  "LASTNAME",
  "TITLE",
  "DIVISION",
  "EMAIL",
  "MOBILE",
  "DESKPHONE",
  "SITE",
] as const;

export type Column = (typeof COLUMNS)[number];

export type Row = Record<Column, string>;

/** The vendor's help pages say names longer than this do not sync. */
export const MAX_NAME_LENGTH = 50;
