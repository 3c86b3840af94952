#!/usr/bin/env node
// The bundle is built and tested for Node 24 (undici 8 does not even load on Node 20): say so rather than crash.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `error: ilobby-sync needs Node.js 24 or newer; this is Node.js ${process.versions.node}\n` +
      "  fix:   install Node.js 24 LTS, or use the single-file binary, which needs no Node (docs/install.md)\n",
  );
  process.exit(2);
}
require("../dist/cli.cjs");
