/**
 * Outputs never follow links: the shared writer (src/adapters/files/private-file.ts) on a real file system, and
 * `run --output` / `log.file` through the built CLI against the sample directory and the iLobby emulator.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { writeConfigFile } from "../../src/adapters/files/new-config-file.ts";
import { appendPrivateFile, writePrivateFile } from "../../src/adapters/files/private-file.ts";
import { runCli } from "../support/cli.ts";
import { SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleConfig, type SampleWorld, startSampleWorld } from "../support/sample-world.ts";

const CLIENT = "outputs-client";
const CLIENT_SECRET = "outputs-client-secret-value";
const isRoot = process.getuid?.() === 0;

let world: SampleWorld;
let dir: string;

/** A file outside the run's folder that a link points at: it must come out of every test unchanged. */
function victim(): string {
  const path = join(dir, "precious.txt");
  writeFileSync(path, "do not replace me\n", { mode: 0o644 });
  return path;
}

function fifo(path: string): string {
  execFileSync("mkfifo", [path]);
  return path;
}

function writeConfig(change: (config: SampleConfig) => void = () => {}): void {
  const config = world.config(CLIENT);
  change(config);
  world.writeConfig(dir, config);
}

const run = (args: string[]) =>
  runCli(["run", ...args], {
    cwd: dir,
    timeoutMs: 30_000,
    env: { ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password, ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET },
  });

beforeAll(async () => {
  world = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET } });
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  world.emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-outputs-"));
});

describe("the private-file writer", () => {
  it("replaces a regular file atomically, owner-only", async () => {
    const path = join(dir, "out", "file.csv");
    await writePrivateFile(path, "one\n", "test file");
    writeFileSync(path, "old\n", { mode: 0o644 });
    chmodSync(path, 0o644);
    await writePrivateFile(path, "two\n", "test file");
    expect(readFileSync(path, "utf8")).toBe("two\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("refuses a symbolic link, a folder and a FIFO, and leaves them as they were", async () => {
    const target = victim();
    const link = join(dir, "link.csv");
    symlinkSync(target, link);
    await expect(writePrivateFile(link, "x", "test file")).rejects.toThrow(/it is a symbolic link/);
    expect(readFileSync(target, "utf8")).toBe("do not replace me\n");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);

    mkdirSync(join(dir, "folder"));
    await expect(writePrivateFile(join(dir, "folder"), "x", "test file")).rejects.toThrow(/it is a folder/);
    const pipe = fifo(join(dir, "pipe"));
    await expect(writePrivateFile(pipe, "x", "test file")).rejects.toThrow(/it is a FIFO/);
    expect(lstatSync(pipe).isFIFO()).toBe(true);
  });

  it.runIf(isRoot)("refuses a device file and leaves it a device", async () => {
    const device = join(dir, "null-device");
    execFileSync("mknod", [device, "c", "1", "3"]);
    await expect(writePrivateFile(device, "x", "test file")).rejects.toThrow(/it is a device/);
    expect(() => appendPrivateFile(device, "x", "test file")).toThrow(/it is a device/);
    expect(lstatSync(device).isCharacterDevice()).toBe(true);
  });

  it("appends owner-only, tightens an existing file to 0600, and refuses a link or a FIFO without blocking", () => {
    const log = join(dir, "new.log");
    appendPrivateFile(log, "a\n", "log.file");
    expect(statSync(log).mode & 0o777).toBe(0o600);
    const loose = join(dir, "loose.log");
    writeFileSync(loose, "before\n");
    chmodSync(loose, 0o644);
    appendPrivateFile(loose, "after\n", "log.file");
    expect(readFileSync(loose, "utf8")).toBe("before\nafter\n");
    expect(statSync(loose).mode & 0o777).toBe(0o600);

    const target = victim();
    const link = join(dir, "link.log");
    symlinkSync(target, link);
    expect(() => appendPrivateFile(link, "x\n", "log.file")).toThrow(/it is a symbolic link/);
    expect(readFileSync(target, "utf8")).toBe("do not replace me\n");
    expect(() => appendPrivateFile(fifo(join(dir, "log-pipe")), "x\n", "log.file")).toThrow(/FIFO/);
  });
});

describe("init's config writer", () => {
  it("--force replaces a config file but never what a link at its path points to", async () => {
    const config = join(dir, "ilobby-sync.yaml");
    await writeConfigFile(config, "a: 1\n", false);
    await expect(writeConfigFile(config, "a: 2\n", false)).rejects.toThrow(/already exists/);
    await writeConfigFile(config, "a: 2\n", true);
    expect(readFileSync(config, "utf8")).toBe("a: 2\n");

    const target = victim();
    const link = join(dir, "linked.yaml");
    symlinkSync(target, link);
    await expect(writeConfigFile(link, "a: 3\n", true)).rejects.toThrow(/it is a symbolic link/);
    expect(readFileSync(target, "utf8")).toBe("do not replace me\n");
  });
});

describe("run outputs", () => {
  it("--output to a symbolic link stops the run (exit 2) before anything is read or sent", async () => {
    writeConfig();
    const target = victim();
    symlinkSync(target, join(dir, "out.csv"));
    const result = await run(["--output", "out.csv"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /refusing to write the CSV output file to .*out\.csv: it is a symbolic link/,
    );
    expect(readFileSync(target, "utf8")).toBe("do not replace me\n");
    expect(world.emulator.requests).toHaveLength(0);
  });

  it("--output to a FIFO or a folder is refused at once (exit 2)", async () => {
    writeConfig();
    fifo(join(dir, "pipe.csv"));
    const piped = await run(["--dry-run", "--output", "pipe.csv"]);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/it is a FIFO/);
    mkdirSync(join(dir, "folder.csv"));
    const folder = await run(["--dry-run", "--output", "folder.csv"]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/it is a folder/);
  });

  it("log.file as a symbolic link stops the run (exit 2); the file it points to is untouched", async () => {
    const target = victim();
    symlinkSync(target, join(dir, "sync.log"));
    writeConfig((config) => {
      config.log = { file: "sync.log" };
    });
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/refusing to write the log.file to .*sync\.log: it is a symbolic link/);
    expect(readFileSync(target, "utf8")).toBe("do not replace me\n");
    expect(world.emulator.requests).toHaveLength(0);
  });

  it("creates log.file 0600 and tightens an existing one to 0600", async () => {
    writeConfig((config) => {
      config.log = { file: "logs/sync.log" };
    });
    expect((await run(["--dry-run"])).code).toBe(0);
    const log = join(dir, "logs", "sync.log");
    expect(statSync(log).mode & 0o777).toBe(0o600);
    chmodSync(log, 0o644);
    expect((await run(["--dry-run"])).code).toBe(0);
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expect(existsSync(log) && readFileSync(log, "utf8").trim().split("\n").length).toBeGreaterThan(4);
  });
});
