// The Microsoft Entra ID (Graph) source at directory scale: `run --dry-run --output` with `directory.type: entra`
// against `curl` paging the same Graph emulator (same $select, same $top, every @odata.nextLink followed), with
// N synthetic users (10,000 and 100,000 in a full run). The emulator runs as its own process, so its memory is
// in neither figure. Used by scripts/bench.mjs; `node bench/graph.mjs [--quick]` runs this part alone.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { alternate, countLines, runQuiet, stopperFor } from "./measure.mjs";

const CLIENT_ID = "bbbbbbbb-0000-4000-8000-00000000bea7";
const CLIENT_SECRET = "bench-entra-client-secret";
/** Graph's largest page, the CLI's default directory.pageSize for Entra. */
const PAGE_SIZE = 999;
/** What the default Entra mapping selects (plus the id and what decides who is left out), in the CLI's order. */
const SELECT = [
  "id",
  "accountEnabled",
  "userType",
  "givenName",
  "surname",
  "jobTitle",
  "department",
  "mail",
  "userPrincipalName",
  "mobilePhone",
  "businessPhones",
  "officeLocation",
].join(",");

export const GRAPH_PLANS = {
  full: { userCounts: [10_000, 100_000], runs: 5 },
  quick: { userCounts: [2_000, 10_000], runs: 2 },
};

async function startGraphEmulatorProcess({ root, nodeBinary, users }) {
  const child = spawn(
    nodeBinary,
    [
      "--import",
      "tsx",
      "test/graph-emulator/main.ts",
      "--client",
      `${CLIENT_ID}=${CLIENT_SECRET}`,
      "--users",
      String(users),
    ],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  const stop = stopperFor(child);
  const lines = createInterface({ input: child.stdout });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const [first] = await Promise.race([
      once(lines, "line"),
      once(child, "exit").then(([code]) => {
        throw new Error(`the Graph emulator exited (${code}) before it listened`);
      }),
    ]);
    return { ...JSON.parse(first), stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timeout);
  }
}

/** The reference: a token with curl, then curl for each page, the next URL taken from @odata.nextLink. */
const CURL_PAGING_SCRIPT = `set -e
token=$(curl -sS --fail --cacert "$CA_FILE" \\
  --data-urlencode grant_type=client_credentials --data-urlencode "client_id=$CLIENT_ID" \\
  --data-urlencode "client_secret=$CLIENT_SECRET" --data-urlencode "scope=$GRAPH_URL/.default" \\
  "$GRAPH_URL/$TENANT_ID/oauth2/v2.0/token" | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')
url="$GRAPH_URL/v1.0/users?\\$select=$SELECT&\\$top=$PAGE_SIZE"
page="$WORK/page.json"
while [ -n "$url" ]; do
  curl -sS --fail --cacert "$CA_FILE" -H "Authorization: Bearer $token" -o "$page" "$url"
  cat "$page"
  echo
  url=$(grep -o '"@odata.nextLink":"[^"]*"' "$page" | sed 's/^"@odata.nextLink":"//; s/"$//') || true
done`;

function writeEntraConfig(path, { graph, stateDir }) {
  writeFileSync(
    path,
    [
      "ilobby:",
      "  clientId: bench-ilobby-client",
      "directory:",
      "  type: entra",
      `  tenantId: ${graph.tenantId}`,
      `  clientId: ${CLIENT_ID}`,
      `  authorityUrl: ${graph.url}`,
      `  graphUrl: ${graph.url}`,
      `  caFile: ${graph.caFile}`,
      `  pageSize: ${PAGE_SIZE}`,
      `stateDir: ${stateDir}`,
      "",
    ].join("\n"),
  );
}

export async function benchGraph({ root, nodeBinary, cli, work, plan, log, withServer, timeCommand, keep }) {
  const outcomes = [];
  for (const users of plan.userCounts) {
    log(`\n# Entra ID (Graph) source, ${users.toLocaleString("en")} users`);
    const dir = join(work, `graph-${users}`);
    mkdirSync(dir, { recursive: true });
    const emulator = await startGraphEmulatorProcess({ root, nodeBinary, users });
    outcomes.push(
      await withServer(emulator, async (graph) => {
        const configFile = join(dir, "ilobby-sync.yaml");
        writeEntraConfig(configFile, { graph, stateDir: join(dir, "state") });
        const csvFile = join(dir, "dry-run.csv");
        const pagesFile = join(dir, "curl-pages.jsonl");
        const env = Object.fromEntries(
          Object.entries(process.env).filter(([name]) => !name.startsWith("ILOBBY_SYNC_")),
        );
        const results = await alternate(
          [
            {
              name: "ilobby-sync",
              run: () =>
                timeCommand(
                  nodeBinary,
                  [cli, "run", "--dry-run", "--output", csvFile, "--config", configFile],
                  {
                    env: {
                      ...env,
                      ILOBBY_SYNC_ENTRA_CLIENT_SECRET: CLIENT_SECRET,
                      NO_COLOR: "1",
                      NO_PROXY: "127.0.0.1",
                    },
                    cwd: dir,
                  },
                ),
            },
            {
              name: "curl",
              run: () =>
                timeCommand("sh", ["-c", CURL_PAGING_SCRIPT], {
                  env: {
                    ...env,
                    CA_FILE: graph.caFile,
                    CLIENT_ID,
                    CLIENT_SECRET,
                    GRAPH_URL: graph.url,
                    TENANT_ID: graph.tenantId,
                    SELECT,
                    PAGE_SIZE: String(PAGE_SIZE),
                    WORK: dir,
                  },
                  stdoutFile: pagesFile,
                }),
            },
          ],
          plan.runs,
          { log },
        );
        const found = {
          "ilobby-sync rows": countLines(csvFile, /\S/) - 1,
          "curl users": (readFileSync(pagesFile, "utf8").match(/"id":"/g) ?? []).length,
        };
        if (Object.values(found).some((count) => count !== users)) {
          throw new Error(`expected ${users} users each; found ${JSON.stringify(found)}`);
        }
        return { users, pageSize: PAGE_SIZE, ...results };
      }),
    );
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
  return outcomes;
}

const fmt = {
  s: (ms) => `${(ms / 1000).toFixed(2)} s`,
  mb: (kb) => `${Math.round(kb / 1024)} MB`,
  ratio: (a, b) => `${(a / b).toFixed(2)}x`,
};

/** The Markdown table of a Graph bench run, for docs/benchmarks.md. */
export function graphTable(outcomes) {
  const rows = outcomes.map((point) => {
    const cli = point["ilobby-sync"];
    const { curl } = point;
    return `| ${point.users.toLocaleString("en")} | ${fmt.s(cli.medianWallMs)} | ${fmt.mb(cli.medianPeakRssKb)} | ${fmt.s(curl.medianWallMs)} | ${fmt.mb(curl.medianPeakRssKb)} | ${fmt.ratio(cli.medianWallMs, curl.medianWallMs)} |`;
  });
  return [
    "| users | ilobby-sync `run --dry-run --output` | peak RSS | curl paging | peak RSS | time ratio |",
    "|---:|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}

export const GRAPH_BEGIN =
  "<!-- bench:graph:begin (generated by `npm run bench`; edits here are overwritten) -->";
export const GRAPH_END = "<!-- bench:graph:end -->";

/** Writes the summary file and replaces the generated Graph table in docs/benchmarks.md. */
export function writeGraphReport(root, outcomes, { mode, updateDocs }) {
  const resultsDir = join(root, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const brief = ({ samples, ...rest }) => rest;
  const summary = outcomes.map((point) => ({
    users: point.users,
    pageSize: point.pageSize,
    cli: brief(point["ilobby-sync"]),
    curl: brief(point.curl),
    ratio: point["ilobby-sync"].medianWallMs / point.curl.medianWallMs,
  }));
  const written = [];
  const summaryFile = join(resultsDir, mode === "full" ? "graph-summary.json" : `graph-${mode}.json`);
  writeFileSync(
    summaryFile,
    `${JSON.stringify({ mode, date: new Date().toISOString(), graph: summary }, null, 2)}\n`,
  );
  written.push(summaryFile);
  const docs = join(root, "docs", "benchmarks.md");
  if (updateDocs && existsSync(docs)) {
    const text = readFileSync(docs, "utf8");
    const begin = text.indexOf(GRAPH_BEGIN);
    const end = text.indexOf(GRAPH_END);
    if (begin >= 0 && end > begin) {
      writeFileSync(
        docs,
        `${text.slice(0, begin + GRAPH_BEGIN.length)}\n${graphTable(outcomes)}\n${text.slice(end)}`,
      );
      written.push(docs);
    }
  }
  return written;
}

// `node bench/graph.mjs [--quick] [--keep]`: this part of the bench alone (after `npm run build`).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { quick: { type: "boolean" }, keep: { type: "boolean" } },
    strict: true,
  });
  const { timeCommand } = await import("./measure.mjs");
  const root = fileURLToPath(new URL("..", import.meta.url));
  const localNode = join(root, "node_modules", ".bin", "node");
  const nodeBinary = existsSync(localNode) ? localNode : process.execPath;
  const mode = values.quick ? "quick" : "full";
  const work = mkdtempSync(join(tmpdir(), "ilobby-bench-graph-"));
  const log = (message) => process.stderr.write(`${message}\n`);
  const withServer = async (server, body) => {
    try {
      return await body(server);
    } finally {
      await server.stop();
    }
  };
  try {
    await runQuiet("curl", ["--version"]);
    const outcomes = await benchGraph({
      root,
      nodeBinary,
      cli: join(root, "dist", "cli.cjs"),
      work,
      plan: GRAPH_PLANS[mode],
      log,
      withServer,
      timeCommand,
      keep: values.keep,
    });
    log(`\n${graphTable(outcomes)}`);
    log(`results: ${writeGraphReport(root, outcomes, { mode, updateDocs: mode === "full" }).join(", ")}`);
  } finally {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
}
