import { describe, expect, it } from "vitest";
import { checkCsv } from "../../src/app/check-csv.ts";
import { firstInvalidUtf8Byte, sniffNonUtf8 } from "../../src/core/csv-encoding.ts";
import { createCsvReader } from "../../src/core/csv-reader.ts";
import { checkFieldLength, removeControlCharacters } from "../../src/core/csv-rules.ts";
import { createEmailIndex } from "../../src/core/email-index.ts";

const HEADER = "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE";

function read(text: string) {
  const records: [number, string[]][] = [];
  const problems: [number, number, string][] = [];
  const reader = createCsvReader({
    record: (fields, line) => records.push([line, fields]),
    problem: (problem) => problems.push([problem.line, problem.field, problem.message]),
  });
  reader.push(text);
  reader.end();
  return { records, problems };
}

async function* chunksOf(bytes: Uint8Array, size: number) {
  for (let start = 0; start < bytes.length; start += size) yield bytes.slice(start, start + size);
}

describe("createCsvReader", () => {
  it("splits LF and CRLF lines, unquotes, skips blank lines and counts physical lines", () => {
    expect(read('a,b\r\n\r\n"c,1","d""e",\n\n"",x').records).toEqual([
      [1, ["a", "b"]],
      [3, ["c,1", 'd"e', ""]],
      [5, ["", "x"]],
    ]);
  });

  it("reports quote problems with the line and field, and keeps reading the next lines", () => {
    const { records, problems } = read('a,"b\nc,"d"e\nf,g"h\nok,1');
    expect(problems.map(([line, field]) => [line, field])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(records).toEqual([[4, ["ok", "1"]]]);
  });

  it("stops for good at a line longer than any record", () => {
    const { problems } = read(`${"x".repeat(20_000)}\nnext,line`);
    expect(problems).toEqual([[1, 0, expect.stringMatching(/longer than 16,024 characters/)]]);
  });
});

describe("csv rules", () => {
  it("limits EMAIL to 254 characters and its local part to 64", () => {
    expect(checkFieldLength("EMAIL", `${"a".repeat(64)}@example.test`)).toBeUndefined();
    expect(checkFieldLength("EMAIL", `${"a".repeat(65)}@example.test`)?.message).toMatch(/before @ is 65/);
    expect(checkFieldLength("EMAIL", `a@${"b".repeat(253)}`)?.message).toMatch(/255 characters/);
  });

  it("limits other fields to 1,000 characters", () => {
    expect(checkFieldLength("TITLE", "t".repeat(1000))).toBeUndefined();
    expect(checkFieldLength("TITLE", "t".repeat(1001))).toMatchObject({ severity: "error" });
  });

  it("removes C0 control characters but keeps tabs", () => {
    expect(removeControlCharacters("A\u0000n\u001b[31mn\tB\r\n")).toBe("An[31mn\tB");
  });
});

describe("csv encoding", () => {
  it("finds the first byte that breaks UTF-8, and not a sequence cut at the end", () => {
    expect(firstInvalidUtf8Byte(Buffer.from("Renée"))).toBe(-1);
    expect(firstInvalidUtf8Byte(Buffer.from("Ren\xe9e", "latin1"))).toBe(3);
    expect(firstInvalidUtf8Byte(Buffer.from("Ren\xc3", "latin1"))).toBe(-1);
    expect(firstInvalidUtf8Byte(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a UTF-16 surrogate
    expect(firstInvalidUtf8Byte(Buffer.from([0xc0, 0x80]))).toBe(0); // an overlong NUL
  });

  it("tells UTF-16 and binary from a UTF-8 file with one stray NUL", () => {
    expect(sniffNonUtf8(Buffer.from(HEADER, "utf16le"))).toMatch(/UTF-16 without a byte-order mark/);
    expect(sniffNonUtf8(Buffer.from([0xfe, 0xff, 0, 65]))).toMatch(/UTF-16/);
    expect(sniffNonUtf8(Buffer.from(`${HEADER}\n\u0000`))).toBeUndefined();
  });
});

describe("createEmailIndex", () => {
  it("returns the first line of a key seen before, across many growths of its table", () => {
    const index = createEmailIndex();
    for (let line = 1; line <= 200_000; line++)
      expect(index.putIfAbsent(`user${line}@example.test`, line)).toBeUndefined();
    expect(index.putIfAbsent("user123456@example.test", 300_000)).toBe(123_456);
    expect(index.putIfAbsent("user1@example.test", 300_001)).toBe(1);
    expect(index.size).toBe(200_000);
  });
});

describe("checkCsv", () => {
  const file = Buffer.from(
    `\uFEFF${HEADER}\r\nRenée,Núñez,,,renee@example.test,,,Montréal\r\nBob,Lee,"Head, ""Sales""",,bob@example.test,,,Toronto\r\nAnn,Lee,Bo\u0007ss,,BOB@example.test,,,Toronto\r\n`,
  );

  it("gives the same verdict however the bytes are cut (inside a character, a CRLF or a quote)", async () => {
    const expected = await checkCsv(chunksOf(file, file.length), { keepRows: true });
    expect(expected.report.problems.map((problem) => [problem.line, problem.column])).toEqual([
      [4, "TITLE"],
      [4, "EMAIL"],
    ]);
    expect(expected.rows.slice().map((row) => row.TITLE)).toContain('Head, "Sales"');
    for (let size = 1; size < 40; size++) {
      const check = await checkCsv(chunksOf(file, size), { keepRows: true });
      expect(check.report).toEqual(expected.report);
      expect(check.rows.slice()).toEqual(expected.rows.slice());
    }
  });

  it("names the line and column of a byte that is not UTF-8, wherever the chunk starts", async () => {
    const latin1 = Buffer.from(
      `${HEADER}\nAnn,Lee,,,a@example.test,,,Toronto\nRen\xe9e,Lee,,,r@example.test,,,Paris\n`,
      "latin1",
    );
    for (const size of [7, 64, 4096]) {
      const { report } = await checkCsv(chunksOf(latin1, size));
      expect(report.problems).toEqual([
        {
          severity: "error",
          line: 3,
          column: "FIRSTNAME",
          message: expect.stringMatching(/byte 0xE9 is not UTF-8/),
        },
      ]);
    }
  });
});

describe("createRowTableBuilder", () => {
  it("sorts by EMAIL key as compareText does, a key before the longer keys it begins, equal keys in order", async () => {
    const { createRowTableBuilder } = await import("../../src/core/row-table.ts");
    const { rowFromValues } = await import("../../src/core/columns.ts");
    const emails = ["b@x.test", "A@x.test", "a@x.testa", "é@x.test", "Z@x.test", "a@x.test", "a@x.tes"];
    const builder = createRowTableBuilder();
    for (const [index, email] of emails.entries())
      builder.add(rowFromValues([`n${index}`, "", "", "", email]));
    const table = builder.finish();
    expect(table.slice().map((row) => `${row.EMAIL}/${row.FIRSTNAME}`)).toEqual([
      "a@x.tes/n6",
      "A@x.test/n1",
      "a@x.test/n5",
      "a@x.testa/n2",
      "b@x.test/n0",
      "Z@x.test/n4",
      "é@x.test/n3",
    ]);
  });
});
