// Bundles the CLI into one CommonJS file (dist/cli.cjs): the npm bin runs it, and the single-executable builds
// embed it. TypeScript (pulled in by cosmiconfig's TS-config loader) stays out: we never load TS configs.
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

await build({
  entryPoints: ["src/main.ts"],
  outfile: "dist/cli.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node24",
  sourcemap: "linked",
  external: ["typescript", "@napi-rs/keyring"],
  define: { __VERSION__: JSON.stringify(version) },
  logLevel: "warning",
  // A third less source for V8 to load at every start (docs/benchmarks.md, "Start-up"); identifiers are not
  // renamed, so stack traces keep their function names.
  minifyWhitespace: true,
  minifySyntax: true,
});
