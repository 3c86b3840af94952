/** iLobby rows for tests that are about something else than a row's contents. */
import type { Row } from "../../src/core/columns.ts";

/** A row with every column filled: "A B" at Toronto, unless `overrides` says otherwise. */
export function testRow(email: string, overrides: Partial<Row> = {}): Row {
  return {
    FIRSTNAME: "A",
    LASTNAME: "B",
    TITLE: "",
    DIVISION: "",
    EMAIL: email,
    MOBILE: "",
    DESKPHONE: "",
    SITE: "Toronto",
    ...overrides,
  };
}
