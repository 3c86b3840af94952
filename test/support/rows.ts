/** iLobby rows and CSV files for tests that are about something else than a row's contents. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
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

/** The header line of an iLobby Address Book CSV. */
export const CSV_HEADER = "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE";

/** Writes `dir`/people.csv with `count` valid people at Toronto (Ann0 Lee, ann0@example.test, ...) and returns its path. */
export function writePeopleCsv(dir: string, count: number): string {
  const path = join(dir, "people.csv");
  const rows = Array.from(
    { length: count },
    (_, index) => `Ann${index},Lee,,,ann${index}@example.test,,,Toronto`,
  );
  writeFileSync(path, `${[CSV_HEADER, ...rows].join("\r\n")}\r\n`);
  return path;
}
