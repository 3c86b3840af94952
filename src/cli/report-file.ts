/** Writes the HTML change report (`--report <file.html>`): owner-only, as it lists people. */
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
