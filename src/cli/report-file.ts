/** Writes the HTML change report (`--report <file.html>`): owner-only, as it lists people. */
import { resolve } from "node:path";
import type { ChangeReport } from "../core/change-report.ts";
import type { Output } from "./output.ts";

export async function writeReport(path: string, report: ChangeReport, output: Output): Promise<void> {
  const [{ renderChangeReport }, { writePrivateFile }] = await Promise.all([
    import("../core/change-report.ts"),
    import("../adapters/files/private-file.ts"),
  ]);
  await writePrivateFile(path, renderChangeReport(report), "HTML report");
  output.verbose(`change report written to ${path}`);
}

/** --report's file, checked before the command does anything: a link, device, FIFO or folder there stops it. */
export async function checkedReportPath(
  cwd: string,
  report: string | undefined,
): Promise<string | undefined> {
  if (!report) return undefined;
  const path = resolve(cwd, report);
  const { checkOutputPath } = await import("../adapters/files/private-file.ts");
  await checkOutputPath(path, "HTML report");
  return path;
}
