/** Renders checks (doctor's checklist, init's tests): one line each, then its details and fix, indented. */
import { type CheckResult, type CheckStatus, checksExitCode, countByStatus } from "../core/checks.ts";
import { EXIT_CODE_MEANINGS, EXIT_CODES } from "../core/errors.ts";
import type { Output } from "./output.ts";

type Colors = Output["colors"];

const LABELS: Record<CheckStatus, string> = { pass: "pass", warn: "warn", fail: "FAIL", skip: "skip" };
const INDENT = "      ";

function label(status: CheckStatus, colors: Colors): string {
  const text = LABELS[status];
  if (status === "pass") return colors.green(text);
  if (status === "warn") return colors.yellow(text);
  if (status === "fail") return colors.red(colors.bold(text));
  return colors.dim(text);
}

export function renderCheck(check: CheckResult, colors: Colors): string {
  const [first = "", ...rest] = check.summary.split("\n");
  const lines = [`${label(check.status, colors)}  ${colors.bold(check.title)}: ${first}`];
  for (const more of rest) lines.push(`${INDENT}${more.trim()}`);
  for (const detail of check.details) lines.push(`${INDENT}${detail}`);
  if (check.fix) lines.push(`${INDENT}fix: ${check.fix}`);
  return lines.join("\n");
}

export function renderChecklist(checks: readonly CheckResult[], colors: Colors): string {
  const counts = countByStatus(checks);
  const lines = checks.map((check) => renderCheck(check, colors));
  lines.push(
    "",
    `${counts.pass} passed, ${counts.warn} warnings, ${counts.fail} failed, ${counts.skip} skipped`,
  );
  const exitCode = checksExitCode(checks);
  if (exitCode !== EXIT_CODES.ok) {
    const name = (Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]).find(
      (key) => EXIT_CODES[key] === exitCode,
    );
    lines.push(`exit code ${exitCode}${name ? `: ${EXIT_CODE_MEANINGS[name]}` : ""}`);
  }
  return lines.join("\n");
}
