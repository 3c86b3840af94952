import { describe, expect, it } from "vitest";
import { COLUMNS } from "../../src/core/columns.ts";
import { createCsvValidator } from "../../src/core/csv-validation.ts";

function validate(records: string[][], sites?: string[], header: readonly string[] = COLUMNS) {
  const validator = createCsvValidator({ sites });
  if (validator.header(header)) {
    for (const [index, record] of records.entries()) validator.record(record, index + 2);
  }
  return validator.finish();
}

const record = (email: string, site = "Toronto", first = "Ann") => [
  first,
  "Lee",
  "",
  "",
  email,
  "",
  "",
  site,
];

describe("createCsvValidator", () => {
  it("accepts a good file and counts per site", () => {
    const report = validate(
      [record("a@example.test"), record("b@example.test", "Montreal")],
      ["Toronto", "Montreal"],
    );
    expect(report).toMatchObject({
      valid: true,
      records: 2,
      errors: 0,
      recordsPerSite: { Toronto: 1, Montreal: 1 },
    });
  });

  it("names what is wrong with a header", () => {
    const report = validate([], undefined, ["FIRSTNAME", "LASTNAME", "EMAIL", "PHONE"]);
    expect(report.valid).toBe(false);
    expect(report.problems[0]?.message).toMatch(
      /missing TITLE, DIVISION, MOBILE, DESKPHONE, SITE; unexpected "PHONE"/,
    );
  });

  it("reports each bad record with its line and column", () => {
    const report = validate(
      [
        record(""),
        record("nope"),
        record("a@example.test"),
        record("A@EXAMPLE.test"),
        record("c@example.test", "Montréal"),
        ["x"],
      ],
      ["Toronto", "Montreal"],
    );
    expect(report.problems.map((problem) => [problem.line, problem.column, problem.severity])).toEqual([
      [2, "EMAIL", "error"],
      [3, "EMAIL", "error"],
      [5, "EMAIL", "error"],
      [6, "SITE", "error"],
      [7, "LASTNAME", "error"],
    ]);
    expect(report.problems[2]?.message).toContain("duplicates line 4");
    expect(report.problems[3]?.message).toContain('did you mean "Montreal"');
  });

  it("warns about long names and edge spaces without failing", () => {
    const report = validate([
      record("a@example.test", "Toronto", `${"x".repeat(51)}`),
      record("b@example.test", "Toronto", " Ann"),
    ]);
    expect(report).toMatchObject({ valid: true, warnings: 2 });
  });

  it("refuses a file with no records: uploading it would disable everyone", () => {
    const report = validate([]);
    expect(report.valid).toBe(false);
    expect(report.problems[0]?.message).toMatch(/no records/);
  });

  it("caps the stored problems but counts them all", () => {
    const validator = createCsvValidator({ maxProblems: 3 });
    validator.header(COLUMNS);
    for (let line = 2; line < 12; line++) validator.record(record(""), line);
    expect(validator.finish()).toMatchObject({ errors: 10, problemsOmitted: 7 });
  });
});
