// Runs commands under GNU time for wall time and peak memory, alternating the compared commands so that noise from
// other work on the machine lands on both, and reduces the runs to medians.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const GNU_TIME = "/usr/bin/time";
/** No single measured command may run longer than this; the bench stays bounded on a slow or stuck machine. */
const COMMAND_TIMEOUT_MS = 5 * 60_000;
/** Process groups of the commands being timed, so an interrupted bench can end them. */
const activeGroups = new Set();

export function killActiveCommands() {
  for (const group of activeGroups) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Runs a command to completion and returns its stdout; throws with its stderr when it fails. */
export function runQuiet(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.trim()}`)),
    );
  });
}

/**
 * One timed run: wall time from just before the spawn to the exit, peak resident memory (GNU time %M, KiB) of the
 * command and every process it waited for. stdout goes to `stdoutFile` (or is discarded).
 */
export async function timeCommand(command, args, { env, cwd, stdoutFile } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), "ilobby-bench-time-"));
  const rssFile = join(scratch, "rss");
  const stdoutFd = stdoutFile ? openSync(stdoutFile, "w") : "ignore";
  try {
    const loadBefore = loadavg()[0];
    const started = performance.now();
    const child = spawn(GNU_TIME, ["-f", "%M", "-o", rssFile, command, ...args], {
      stdio: ["ignore", stdoutFd, "pipe"],
      env: env ?? process.env,
      cwd,
      detached: true, // its own process group, so a timeout can end the command and its children only
    });
    activeGroups.add(child.pid);
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const timer = setTimeout(() => process.kill(-child.pid, "SIGKILL"), COMMAND_TIMEOUT_MS);
    const exitCode = await new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    const wallMs = performance.now() - started;
    clearTimeout(timer);
    activeGroups.delete(child.pid);
    if (exitCode !== 0) {
      throw new Error(`${command} ${args.join(" ")} exited ${exitCode}: ${stderr.trim()}`);
    }
    const peakRssKb = Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1));
    return { wallMs, peakRssKb, loadBefore };
  } finally {
    if (typeof stdoutFd === "number") closeSync(stdoutFd);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Lines of a file that match a pattern (rows of a CSV the CLI wrote, say). */
export function countLines(path, pattern) {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => pattern.test(line)).length;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs each variant `runs` times, interleaved and in alternating order (A B, B A, ...), after one untimed warm-up
 * of each (page cache, slapd's caches). Every variant is { name, run: () => Promise<{wallMs, peakRssKb}> }.
 */
export async function alternate(variants, runs, { before, log = () => {} } = {}) {
  for (const variant of variants) {
    await before?.(variant);
    await variant.run();
  }
  const samples = Object.fromEntries(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      await before?.(variant);
      const sample = await variant.run();
      samples[variant.name].push(sample);
      log(
        `  ${variant.name} run ${round + 1}/${runs}: ${(sample.wallMs / 1000).toFixed(2)} s, ${(sample.peakRssKb / 1024).toFixed(0)} MB`,
      );
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, summarize(list)]));
}

export function summarize(samples) {
  const walls = samples.map((sample) => sample.wallMs);
  const peaks = samples.map((sample) => sample.peakRssKb);
  return {
    runs: samples.length,
    medianWallMs: median(walls),
    minWallMs: Math.min(...walls),
    maxWallMs: Math.max(...walls),
    medianPeakRssKb: median(peaks),
    maxPeakRssKb: Math.max(...peaks),
    medianLoadBefore: median(samples.map((sample) => sample.loadBefore)),
    samples,
  };
}

/** A stop() for a server child process: SIGTERM, SIGKILL after 10 s, resolved once it has exited. */
export function stopperFor(child) {
  const exited = once(child, "exit");
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
}
