/**
 * Checks an iLobby CSV record by record, so a file of any size can be streamed through it. Pure: the caller
 * decodes and splits the file (core/csv-reader.ts) and feeds header, records and syntax problems in; this decides
 * what is wrong and where, with the rules of core/csv-rules.ts.
 */
import { COLUMNS, MAX_NAME_LENGTH } from "./columns.ts";
import type { CsvSyntaxProblem } from "./csv-reader.ts";
import {
  checkFieldLength,
  controlCharacterAt,
  describeControlCharacter,
  hasControlCharacter,
} from "./csv-rules.ts";
import { isWellFormedEmail } from "./email.ts";
import { createEmailIndex } from "./email-index.ts";
import { PHONE_COLUMNS, type PhonePolicy, phoneFormatProblem } from "./phones.ts";
import { checkSite, describeSiteProblem } from "./sites.ts";

export type ProblemSeverity = "error" | "warning";

export interface CsvProblem {
  severity: ProblemSeverity;
  line: number;
  /** The column's name, or "field N" past the eighth; absent only for a problem of the whole file. */
  column?: string;
  message: string;
}

export interface CsvValidationReport {
  valid: boolean;
  records: number;
  errors: number;
  warnings: number;
  /** The first problems, in file order (capped so a broken million-row file does not flood the terminal). */
  problems: CsvProblem[];
  problemsOmitted: number;
  recordsPerSite: Record<string, number>;
}

export interface CsvValidatorOptions {
  sites?: readonly string[] | undefined;
  /** The config's `phones`: numbers in another format are warnings (a CSV is uploaded as it is). */
  phones?: PhonePolicy | undefined;
  maxProblems?: number;
}

const EMAIL_INDEX = COLUMNS.indexOf("EMAIL");
const SITE_INDEX = COLUMNS.indexOf("SITE");
const NAME_INDEXES = [COLUMNS.indexOf("FIRSTNAME"), COLUMNS.indexOf("LASTNAME")];
const PHONE_FIELDS = PHONE_COLUMNS.map((column) => [column, COLUMNS.indexOf(column)] as const);

export const columnName = (field: number): string => COLUMNS[field] ?? `field ${field + 1}`;

/** Cheaper than comparing with trim() for the usual printable-ASCII ends; trim() decides the rest. */
function hasEdgeSpace(value: string): boolean {
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  if (first > 32 && first < 127 && last > 32 && last < 127) return false;
  return value !== value.trim();
}

export function createCsvValidator(options: CsvValidatorOptions = {}) {
  const maxProblems = options.maxProblems ?? 1000;
  const problems: CsvProblem[] = [];
  const emails = createEmailIndex();
  const recordsPerSite: Record<string, number> = {};
  let problemsOmitted = 0;
  let errors = 0;
  let warnings = 0;
  let records = 0;
  let headerSeen = false;
  let headerOk = false;
  let stopped = false;

  const report = (problem: CsvProblem) => {
    if (problem.severity === "error") errors++;
    else warnings++;
    if (problems.length < maxProblems) problems.push(problem);
    else problemsOmitted++;
  };

  return {
    /** Returns false when the header is wrong: the records cannot be interpreted then. */
    header(fields: readonly string[], line = 1): boolean {
      headerSeen = true;
      const expected = COLUMNS.join(",");
      if (fields.join(",") === expected) {
        headerOk = true;
        return true;
      }
      const missing = COLUMNS.filter((column) => !fields.includes(column));
      const extra = fields.filter((field) => !(COLUMNS as readonly string[]).includes(field));
      const details = [
        missing.length > 0 ? `missing ${missing.join(", ")}` : "",
        extra.length > 0 ? `unexpected ${extra.map((field) => JSON.stringify(field)).join(", ")}` : "",
        missing.length === 0 && extra.length === 0 ? "columns are in the wrong order or repeated" : "",
      ].filter(Boolean);
      const firstWrong = COLUMNS.findIndex((column, index) => fields[index] !== column);
      report({
        severity: "error",
        line,
        column: columnName(firstWrong === -1 ? COLUMNS.length : firstWrong),
        message: `the header must be exactly ${expected} (${details.join("; ")})`,
      });
      return false;
    },

    /** A line the reader could not split into fields: an error of the record on that line. */
    syntax(problem: CsvSyntaxProblem): void {
      if (!headerSeen) headerSeen = true;
      else if (headerOk) records++;
      report({
        severity: "error",
        line: problem.line,
        column: columnName(problem.field),
        message: problem.message,
      });
    },

    /**
     * One record. `mayHaveControlCharacters: false` is the reader's promise that the line holds none, which
     * spares eight searches per record.
     */
    record(values: readonly string[], line: number, mayHaveControlCharacters = true): void {
      if (!headerOk) return;
      records++;
      if (values.length !== COLUMNS.length) {
        report({
          severity: "error",
          line,
          column: columnName(Math.min(values.length, COLUMNS.length)),
          message: `has ${values.length} fields, expected ${COLUMNS.length}`,
        });
        return;
      }
      for (let index = 0; index < values.length; index++) {
        const value = values[index] as string;
        if (value === "") continue;
        const column = COLUMNS[index] as (typeof COLUMNS)[number];
        if (mayHaveControlCharacters && hasControlCharacter(value)) {
          const at = controlCharacterAt(value);
          report({
            severity: "error",
            line,
            column,
            message: `contains the control character ${describeControlCharacter(value, at)} at character ${at + 1}; remove it`,
          });
        }
        // Every length rule starts above the names' 50 characters (an EMAIL's local part at 64).
        if (value.length > MAX_NAME_LENGTH) {
          const tooLong = checkFieldLength(column, value);
          if (tooLong) report({ ...tooLong, line, column });
          else if (NAME_INDEXES.includes(index))
            report({
              severity: "warning",
              line,
              column,
              message: `longer than ${MAX_NAME_LENGTH} characters; iLobby may not sync it`,
            });
        }
        if (hasEdgeSpace(value))
          report({ severity: "warning", line, column, message: "has leading or trailing spaces" });
      }
      const email = values[EMAIL_INDEX] as string;
      const trimmed = email.trim();
      if (trimmed === "") {
        report({
          severity: "error",
          line,
          column: "EMAIL",
          message: "EMAIL is empty (iLobby matches records by EMAIL)",
        });
      } else if (!isWellFormedEmail(trimmed)) {
        report({
          severity: "error",
          line,
          column: "EMAIL",
          message: `${JSON.stringify(email.length > 80 ? `${email.slice(0, 80)}...` : email)} is not a well-formed email address`,
        });
      } else {
        const firstLine = emails.putIfAbsent(trimmed, line);
        if (firstLine !== undefined) {
          report({
            severity: "error",
            line,
            column: "EMAIL",
            message: `"${email}" duplicates line ${firstLine} (EMAIL is compared case-insensitively)`,
          });
        }
      }
      const site = values[SITE_INDEX] as string;
      const siteCheck = checkSite(site, options.sites);
      if (!siteCheck.ok)
        report({ severity: "error", line, column: "SITE", message: describeSiteProblem(site, siteCheck) });
      recordsPerSite[site] = (recordsPerSite[site] ?? 0) + 1;
      if (options.phones) {
        for (const [column, index] of PHONE_FIELDS) {
          const problem = phoneFormatProblem(values[index] as string, options.phones, site);
          if (problem) report({ severity: "warning", line, column, message: problem });
        }
      }
    },

    /** A problem that stops reading (an encoding error, a line too long to be a record): it has the last word. */
    fatal(problem: CsvProblem): void {
      stopped = true;
      report(problem);
    },

    finish(): CsvValidationReport {
      if (stopped) {
        // Reading stopped early: "empty" or "no records" would describe what was not read.
      } else if (!headerSeen) {
        report({
          severity: "error",
          line: 1,
          message:
            "the file is empty (no header, no records; blank lines and a byte-order mark alone count as empty); uploading it would disable every host in iLobby",
        });
      } else if (headerOk && records === 0) {
        report({
          severity: "error",
          line: 2,
          message: "the file has a header but no records; uploading it would disable every host in iLobby",
        });
      }
      return {
        valid: errors === 0,
        records,
        errors,
        warnings,
        problems,
        problemsOmitted,
        recordsPerSite,
      };
    },
  };
}
