// Start-up cost of the single executable: `ilobby-sync --version` from the Linux binary against the same Node 24
// starting an empty script (`node -e 0`), and the npm route (`node dist/cli.cjs --version`) for reference.
//   node scripts/bench-startup.mjs [--runs 60] [--rounds 6] [--binary dist/bin/ilobby-sync-linux-x64]
// The commands alternate in rounds so that a burst of load on the machine hits all of them alike; each command's
// times are pooled over the rounds, and medians are reported. hyperfine times the runs when it is installed
// (Debian package hyperfine); otherwise a loop of spawnSync timed with process.hrtime, which adds the same few
// hundred microseconds of spawn overhead to every command.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "60" },
    rounds: { type: "string", default: "6" },
    binary: { type: "string", default: join(ROOT, "dist", "bin", "ilobby-sync-linux-x64") },
  },
});
const runsPerRound = Math.max(1, Math.round(Number(values.runs) / Number(values.rounds)));
const binary = resolve(values.binary);
if (!existsSync(binary))
  throw new Error(`${binary} is missing: run \`npm run build:bin -- --platform linux-x64\``);

const commands = [
  { label: "node -e 0 (empty script)", file: process.execPath, args: ["-e", "0"] },
  { label: "ilobby-sync --version (binary)", file: binary, args: ["--version"] },
  {
    label: "node dist/cli.cjs --version (npm route)",
    file: process.execPath,
    args: [join(ROOT, "dist", "cli.cjs"), "--version"],
  },
];

const hasHyperfine = spawnSync("hyperfine", ["--version"], { stdio: "ignore" }).status === 0;

/** Seconds per run of each command, for one round. */
function timeRound() {
  if (hasHyperfine) {
    const dir = mkdtempSync(join(tmpdir(), "ilobby-bench-"));
    try {
      const report = join(dir, "report.json");
      const quoted = commands.map(({ file, args }) => [file, ...args].map((part) => `'${part}'`).join(" "));
      execFileSync(
        "hyperfine",
        ["-N", "--warmup", "3", "--runs", String(runsPerRound), "--export-json", report, ...quoted],
        {
          stdio: "ignore",
        },
      );
      return JSON.parse(readFileSync(report, "utf8")).results.map((result) => result.times);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const times = commands.map(() => []);
  for (let run = 0; run < runsPerRound; run++) {
    commands.forEach(({ file, args }, index) => {
      const started = process.hrtime.bigint();
      const result = spawnSync(file, args, { stdio: "ignore" });
      if (result.status !== 0) throw new Error(`${file} ${args.join(" ")} exited with ${result.status}`);
      times[index].push(Number(process.hrtime.bigint() - started) / 1e9);
    });
  }
  return times;
}

const median = (numbers) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const ms = (seconds) => `${(seconds * 1000).toFixed(1)} ms`;

const pooled = commands.map(() => []);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [index, times] of timeRound().entries()) pooled[index].push(...times);
}
const medians = pooled.map(median);

console.log(
  `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, load average ${loadavg()[0].toFixed(2)}; Node ${process.version}; ` +
    `${hasHyperfine ? "hyperfine -N" : "spawnSync + process.hrtime"}, ${values.rounds} rounds × ${runsPerRound} runs`,
);
console.log("\n| command | median | min | runs |\n|---|---:|---:|---:|");
commands.forEach(({ label }, index) => {
  console.log(
    `| \`${label}\` | ${ms(medians[index])} | ${ms(Math.min(...pooled[index]))} | ${pooled[index].length} |`,
  );
});
console.log(
  `\nbinary / empty Node: ${(medians[1] / medians[0]).toFixed(2)}×; npm route / empty Node: ${(medians[2] / medians[0]).toFixed(2)}×`,
);
