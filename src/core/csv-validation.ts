/**
 * Checks an iLobby CSV record by record, so a file of any size can be streamed through it. Pure: the caller
 * parses the file and feeds header and records in; this decides what is wrong and where.
 */
import { COLUMNS, MAX_NAME_LENGTH } from "./columns.ts";
import { emailKey, isWellFormedEmail } from "./email.ts";
import { checkSite, describeSiteProblem } from "./sites.ts";

export type ProblemSeverity = "error" | "warning";

export interface CsvProblem {
  severity: ProblemSeverity;
  line: number;
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
  maxProblems?: number;
}

const EMAIL_INDEX = COLUMNS.indexOf("EMAIL");
const SITE_INDEX = COLUMNS.indexOf("SITE");

export function createCsvValidator(options: CsvValidatorOptions = {}) {
  const maxProblems = options.maxProblems ?? 1000;
  const problems: CsvProblem[] = [];
  const firstLineOfEmail = new Map<string, number>();
  const recordsPerSite: Record<string, number> = {};
  let problemsOmitted = 0;
  let errors = 0;
  let warnings = 0;
  let records = 0;
  let headerOk = false;

  const report = (problem: CsvProblem) => {
    if (problem.severity === "error") errors++;
    else warnings++;
    if (problems.length < maxProblems) problems.push(problem);
    else problemsOmitted++;
  };

  return {
    /** Returns false when the header is wrong: the records cannot be interpreted then. */
    header(fields: readonly string[], line = 1): boolean {
      const expected = COLUMNS.join(",");
      const actual = fields.join(",");
      if (actual === expected) {
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
      report({
        severity: "error",
        line,
        message: `the header must be exactly ${expected} (${details.join("; ")})`,
      });
      return false;
    },

    record(values: readonly string[], line: number): void {
      if (!headerOk) return;
      records++;
      if (values.length !== COLUMNS.length) {
        report({
          severity: "error",
          line,
          message: `has ${values.length} fields, expected ${COLUMNS.length}`,
        });
        return;
      }
      const email = values[EMAIL_INDEX] ?? "";
      if (email.trim() === "") {
        report({
          severity: "error",
          line,
          column: "EMAIL",
          message: "EMAIL is empty (iLobby matches records by EMAIL)",
        });
      } else if (!isWellFormedEmail(email.trim())) {
        report({
          severity: "error",
          line,
          column: "EMAIL",
          message: `"${email}" is not a well-formed email address`,
        });
      } else {
        const key = emailKey(email);
        const firstLine = firstLineOfEmail.get(key);
        if (firstLine === undefined) firstLineOfEmail.set(key, line);
        else {
          report({
            severity: "error",
            line,
            column: "EMAIL",
            message: `"${email}" duplicates line ${firstLine} (EMAIL is compared case-insensitively)`,
          });
        }
      }
      const site = values[SITE_INDEX] ?? "";
      const siteCheck = checkSite(site, options.sites);
      if (!siteCheck.ok)
        report({ severity: "error", line, column: "SITE", message: describeSiteProblem(site, siteCheck) });
      recordsPerSite[site] = (recordsPerSite[site] ?? 0) + 1;
      COLUMNS.forEach((column, index) => {
        const value = values[index] ?? "";
        if ((column === "FIRSTNAME" || column === "LASTNAME") && value.length > MAX_NAME_LENGTH) {
          report({
            severity: "warning",
            line,
            column,
            message: `longer than ${MAX_NAME_LENGTH} characters; iLobby may not sync it`,
          });
        }
        if (value !== value.trim()) {
          report({ severity: "warning", line, column, message: "has leading or trailing spaces" });
        }
      });
    },

    finish(): CsvValidationReport {
      if (headerOk && records === 0) {
        report({
          severity: "error",
          line: 1,
          message: "the file has no records; uploading it would disable every host in iLobby",
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

export type CsvValidator = ReturnType<typeof createCsvValidator>;
