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

/** A CSV record (fields in COLUMNS order) as a row; missing fields are empty. */
export function rowFromValues(values: readonly string[]): Row {
  return {
    FIRSTNAME: values[0] ?? "",
    LASTNAME: values[1] ?? "",
    TITLE: values[2] ?? "",
    DIVISION: values[3] ?? "",
    EMAIL: values[4] ?? "",
    MOBILE: values[5] ?? "",
    DESKPHONE: values[6] ?? "",
    SITE: values[7] ?? "",
  };
}
