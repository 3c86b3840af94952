/**
 * Global setup of the suites that drive the built CLI: bundles src/ into dist/cli.cjs once before they run, so a
 * test never exercises a stale build of code that has changed since the last `npm run build`.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function buildCli(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "inherit" });
}
