import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import type { Row } from "../../src/core/columns.ts";
import { toCsv } from "../../src/core/csv.ts";

const row = (overrides: Partial<Row>): Row => ({
  FIRSTNAME: "Rob",
  LASTNAME: "Jones",
  TITLE: "Manager",
  DIVISION: "Management",
  EMAIL: "rob.jones@test.com",
  MOBILE: "4169998888",
  DESKPHONE: "4169997777",
  SITE: "Toronto",
  ...overrides,
});

describe("toCsv", () => {
  it("writes the exact header and the vendor's sample row", () => {
    expect(toCsv([row({})])).toBe(
      "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE\r\nRob,Jones,Manager,Management,rob.jones@test.com,4169998888,4169997777,Toronto\r\n",
    );
  });

  it("quotes commas, quotes and line breaks (RFC 4180) and keeps UTF-8 accents", () => {
    const rows = [row({ FIRSTNAME: "Jérôme", LASTNAME: 'Lee, "Jr."', TITLE: "Line1\nLine2" })];
    const text = toCsv(rows);
    expect(text).toContain('Jérôme,"Lee, ""Jr.""","Line1\nLine2"');
    expect(parse(text, { columns: true })).toEqual(rows);
  });

  it("writes a header only for no rows", () => {
    expect(toCsv([])).toBe("FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE\r\n");
  });
});
