/**
 * Splits decoded CSV text into records, strictly (RFC 4180 with LF or CRLF line ends), as it streams in. Pure: the
 * caller pushes text and receives records and problems, each with its line and field.
 *
 * A record is one physical line: a line break inside a field is a control character, which the rules forbid
 * (core/csv-rules.ts), so a quote left open at the end of a line is an error of that line, and every problem is
 * known the moment its line is read. That is what lets one pass give the exact verdict, line and column, and
 * why this is not a general-purpose parser: csv-parse, uDSV and PapaParse were measured and set aside
 * (docs/benchmarks.md): csv-parse is 3-4x slower than Python's C reader, and the fast two accept what this must
 * refuse (a short row padded with empty fields, text after a closing quote dropped, extra fields merged).
 */
import { MAX_LINE_LENGTH } from "./csv-rules.ts";

export interface CsvSyntaxProblem {
  line: number;
  /** 0-based index of the field the problem is in. */
  field: number;
  message: string;
  /** No record can be read past it (a line too long to be a record): reading stops. */
  fatal?: boolean;
}

export interface CsvReaderHandler {
  /** Fields of one non-empty line, unquoted. */
  record(fields: string[], line: number): void;
  problem(problem: CsvSyntaxProblem): void;
}

/** Parses one line that contains a quote; returns its fields, or undefined after reporting a problem. */
function splitQuotedLine(text: string, line: number, handler: CsvReaderHandler): string[] | undefined {
  const fields: string[] = [];
  let position = 0;
  for (;;) {
    const field = fields.length;
    if (text.charCodeAt(position) === 34 /* " */) {
      let close = text.indexOf('"', position + 1);
      while (close !== -1 && text.charCodeAt(close + 1) === 34) close = text.indexOf('"', close + 2);
      if (close === -1) {
        handler.problem({
          line,
          field,
          message:
            "a quoted field is not closed on its line (a field may not contain a line break; a quote inside a quoted field is written twice)",
        });
        return undefined;
      }
      fields.push(text.slice(position + 1, close).replaceAll('""', '"'));
      position = close + 1;
      if (position === text.length) return fields;
      if (text.charCodeAt(position) !== 44 /* , */) {
        handler.problem({
          line,
          field,
          message: `unexpected text after the closing quote (${JSON.stringify(text.slice(position, position + 20))}); a quote inside a quoted field is written twice`,
        });
        return undefined;
      }
      position++;
    } else {
      const comma = text.indexOf(",", position);
      const end = comma === -1 ? text.length : comma;
      const value = text.slice(position, end);
      if (value.includes('"')) {
        handler.problem({
          line,
          field,
          message: `a quote inside a field that does not start with one (${JSON.stringify(value.slice(0, 40))}); enclose the field in quotes and write the quote twice`,
        });
        return undefined;
      }
      fields.push(value);
      if (comma === -1) return fields;
      position = comma + 1;
    }
    if (position === text.length) {
      fields.push("");
      return fields;
    }
  }
}

export function createCsvReader(handler: CsvReaderHandler) {
  /** The start of a line whose end has not arrived yet. */
  let pending = "";
  let line = 0;
  let stopped = false;

  /** `quoted`: whether the line holds a quote, when the caller already knows. */
  const takeLine = (content: string, quoted = content.includes('"')) => {
    line++;
    const text = content.charCodeAt(content.length - 1) === 13 ? content.slice(0, -1) : content;
    if (text.length === 0) return; // blank lines are skipped, as csv-parse's skip_empty_lines did
    const fields = quoted ? splitQuotedLine(text, line, handler) : text.split(",");
    if (fields) handler.record(fields, line);
  };

  const tooLong = (lineNumber: number) => {
    stopped = true;
    handler.problem({
      line: lineNumber,
      field: 0,
      fatal: true,
      message: `the line is longer than ${MAX_LINE_LENGTH.toLocaleString("en")} characters, more than any valid record; reading stopped (is this an address-book CSV, with line breaks?)`,
    });
  };

  return {
    /** Feeds the next piece of text; false once reading has stopped for good. */
    push(chunk: string): boolean {
      if (stopped) return false;
      let start = 0;
      let end = chunk.indexOf("\n");
      if (pending !== "") {
        if (end === -1) {
          pending += chunk;
          if (pending.length > MAX_LINE_LENGTH) tooLong(line + 1);
          return !stopped;
        }
        const content = pending + chunk.slice(0, end);
        pending = "";
        if (content.length > MAX_LINE_LENGTH + 1) {
          tooLong(line + 1);
          return false;
        }
        takeLine(content);
        start = end + 1;
        end = chunk.indexOf("\n", start);
      }
      // One search for quotes per chunk rather than one per line: most files have none, or few.
      let quote = chunk.indexOf('"', start);
      while (end !== -1) {
        if (end - start > MAX_LINE_LENGTH + 1) {
          tooLong(line + 1);
          return false;
        }
        if (quote !== -1 && quote < start) quote = chunk.indexOf('"', start);
        takeLine(chunk.slice(start, end), quote !== -1 && quote < end);
        start = end + 1;
        end = chunk.indexOf("\n", start);
      }
      pending = chunk.slice(start);
      if (pending.length > MAX_LINE_LENGTH) tooLong(line + 1);
      return !stopped;
    },

    /** The end of the text: a last line without a line break is a line too. */
    end(): void {
      if (stopped) return;
      if (pending !== "") takeLine(pending);
      pending = "";
    },

    /** The start of the line being read. */
    get pending(): string {
      return pending;
    },

    /** Lines read so far (a line being read is not counted). */
    get lines(): number {
      return line;
    },
  };
}
