/**
 * The CSV input path through the built CLI: hostile files get their exact verdict, line and column from `validate`
 * (issue 16, "files that are really valid"; issue 17, bounded input), and `upload` sends exactly the bytes it
 * checked, refuses what cannot be read twice and logs to log.file (issue 17), against the iLobby emulator.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { CLI_PATH, runCli } from "../support/cli.ts";

const HEADER = "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE";
const CLIENT = "csv-input-client";
const SECRET = "csv-input-secret-value-1";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ilobby-csv-input-"));
});

const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const lines = (...rows: string[]) => `${[HEADER, ...rows].join("\r\n")}\r\n`;
const person = (index: number, overrides: Partial<Record<"first" | "title" | "email", string>> = {}) =>
  `${overrides.first ?? `Ann${index}`},Lee,${overrides.title ?? ""},,${overrides.email ?? `ann${index}@example.test`},,,Toronto`;

interface Verdict {
  ok: boolean;
  problems: { line: number; column?: string; severity: string; message: string }[];
}

async function validate(path: string): Promise<{ code: number | null; verdict: Verdict; stdout: string }> {
  // An empty working directory: no config, so the file is checked on its own.
  const result = await runCli(["validate", path, "--json"], { cwd: dir, timeoutMs: 20_000 });
  return { code: result.code, verdict: JSON.parse(result.stdout) as Verdict, stdout: result.stdout };
}

/** `cat file | ilobby-sync ARGS...` in a shell: a real pipe on standard input (Node's spawn() gives a socket). */
async function fromShellPipe(path: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(
    "sh",
    ["-c", 'file="$1"; shift; cat "$file" | "$@"', "sh", path, process.execPath, CLI_PATH, ...args],
    {
      cwd: dir,
      env: { PATH: process.env.PATH, NO_COLOR: "1", ...env },
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const code = await new Promise((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

describe("validate: hostile files, each with its verdict, line and column", () => {
  const cases: {
    name: string;
    content: () => string | Buffer;
    problem: { line: number; column?: string; severity?: string; message: RegExp };
  }[] = [
    { name: "an empty file", content: () => "", problem: { line: 1, message: /the file is empty/ } },
    {
      name: "a UTF-8 BOM alone",
      content: () => "\uFEFF",
      problem: { line: 1, message: /the file is empty/ },
    },
    {
      name: "blank lines only",
      content: () => "\r\n\n\r\n",
      problem: { line: 1, message: /the file is empty/ },
    },
    {
      name: "a header with no rows",
      content: () => lines(),
      problem: { line: 2, message: /header but no records/ },
    },
    {
      name: "Windows-1252 (ANSI)",
      content: () =>
        Buffer.from(lines(person(1), "Ren\xe9e,L\xf3pez,,,renee@example.test,,,Toronto"), "latin1"),
      problem: {
        line: 3,
        column: "FIRSTNAME",
        message: /byte 0xE9 is not UTF-8 .*"é" in Windows-1252.*CSV UTF-8/,
      },
    },
    {
      name: "UTF-16 with a byte-order mark (Excel's Unicode text)",
      content: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines(person(1)), "utf16le")]),
      problem: { line: 1, column: "FIRSTNAME", message: /UTF-16.*CSV UTF-8/ },
    },
    {
      name: "UTF-16 without a byte-order mark",
      content: () => Buffer.from(lines(person(1)), "utf16le"),
      problem: { line: 1, message: /NUL bytes/ },
    },
    {
      name: "a NUL in a field",
      content: () => lines(person(1), person(2, { title: "Boss\u0000" })),
      problem: { line: 3, column: "TITLE", message: /U\+0000 \(NUL\) at character 5/ },
    },
    {
      name: "an ANSI escape in a name",
      content: () => lines(person(1, { first: "\u001b[31mAnn" })),
      problem: { line: 2, column: "FIRSTNAME", message: /U\+001B \(ESC\)/ },
    },
    {
      name: "a bare CR inside a field",
      content: () => lines(person(1, { title: "Head\rof sales" })),
      problem: { line: 2, column: "TITLE", message: /U\+000D/ },
    },
    {
      name: "a line break inside a quoted field",
      content: () => lines(person(1), `"Ann\nMarie",Lee,,,am@example.test,,,Toronto`),
      problem: { line: 3, column: "FIRSTNAME", message: /not closed on its line/ },
    },
    {
      name: "text after a closing quote",
      content: () => lines(`Ann,"Lee"x,,,a@example.test,,,Toronto`),
      problem: { line: 2, column: "LASTNAME", message: /after the closing quote/ },
    },
    {
      name: "a quote inside an unquoted field",
      content: () => lines(person(1), person(2, { title: 'The "Boss"' })),
      problem: { line: 3, column: "TITLE", message: /a quote inside a field/ },
    },
    {
      name: "a short row",
      content: () => lines(person(1), "Bob,Lee,,,bob@example.test"),
      problem: { line: 3, column: "MOBILE", message: /has 5 fields, expected 8/ },
    },
    {
      name: "an EMAIL of 255 characters",
      content: () => lines(person(1, { email: `${"a".repeat(60)}@${"b".repeat(190)}.test` })),
      problem: { line: 2, column: "EMAIL", message: /255 characters long; an email address has at most 254/ },
    },
    {
      name: "an EMAIL whose local part is 65 characters",
      content: () => lines(person(1, { email: `${"a".repeat(65)}@example.test` })),
      problem: { line: 2, column: "EMAIL", message: /the part before @ is 65 characters long/ },
    },
    {
      name: "a TITLE of 1,001 characters",
      content: () => lines(person(1), person(2), person(3, { title: "t".repeat(1001) })),
      problem: { line: 4, column: "TITLE", message: /1001 characters long; iLobby fields hold at most 1000/ },
    },
    {
      name: "a duplicate EMAIL in another case",
      content: () => lines(person(1), person(2), person(3, { email: "ANN1@Example.test" })),
      problem: { line: 4, column: "EMAIL", message: /duplicates line 2/ },
    },
  ];

  for (const { name, content, problem } of cases) {
    it(`refuses ${name} (exit 3)`, async () => {
      const { code, verdict } = await validate(file("hostile.csv", content()));
      expect(code).toBe(3);
      expect(verdict.ok).toBe(false);
      expect(verdict.problems[0]).toMatchObject({ severity: "error", ...problem });
    });
  }

  it("accepts a UTF-8 BOM, CRLF and LF lines, quoted commas, and warns about a 51-character name", async () => {
    const content = `\uFEFF${HEADER}\n${person(1)}\r\n"Lee, Ann",Lee,"Head of ""Sales""",,al@example.test,,,Toronto\n${person(3, { first: "n".repeat(51) })}`;
    const { code, verdict } = await validate(file("good.csv", content));
    expect(verdict.problems).toEqual([
      { severity: "warning", line: 4, column: "FIRSTNAME", message: expect.stringMatching(/longer than 50/) },
    ]);
    expect(code).toBe(0);
  });

  it("checks what comes through a pipe (validate reads its input once)", async () => {
    const result = await fromShellPipe(file("people.csv", lines(person(1), person(2))), [
      "validate",
      "/dev/stdin",
      "--json",
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, records: 2 });
  });

  it("stops /dev/zero at once", async () => {
    const started = Date.now();
    const { code, verdict } = await validate("/dev/zero");
    expect(code).toBe(3);
    expect(verdict.problems[0]).toMatchObject({ line: 1, message: expect.stringMatching(/NUL bytes/) });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("stops a 500 MB single-line file at its first 16,024 characters", async () => {
    const path = file("one-line.csv", "a".repeat(1 << 20));
    truncateSync(path, 500e6); // sparse: the rest of the line is never read
    const { code, verdict } = await validate(path);
    expect(code).toBe(3);
    expect(verdict.problems[0]).toMatchObject({
      line: 1,
      column: "FIRSTNAME",
      message: expect.stringMatching(/longer than 16,024 characters.*reading stopped/),
    });
  });

  it("reads a FIFO once, and ends on SIGTERM while it waits for a writer", async () => {
    const fifo = join(dir, "fifo.csv");
    execFileSync("mkfifo", [fifo]);
    const child = spawn(process.execPath, [CLI_PATH, "validate", fifo], { cwd: dir, stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill("SIGTERM");
    const signal = await new Promise((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    expect(signal).toBe("SIGTERM");
  });
});

describe("upload: the bytes checked are the bytes sent", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ clients: { [CLIENT]: SECRET } });
  });
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(() => emulator.reset());

  const config = () =>
    file(
      "ilobby-sync.yaml",
      `ilobby:
  clientId: ${CLIENT}
  baseUrl: ${emulator.url}
  caFile: ${emulator.caFile}
  retry: { attempts: 1, maxSeconds: 5, initialDelayMs: 50 }
directory: { url: ldaps://localhost:1, bindDn: unused, searchBases: [DC=unused] }
stateDir: ./state
log: { file: ./sync.log }
`,
    );
  const upload = (path: string, options: Parameters<typeof runCli>[1] = {}) =>
    runCli(["upload", path, "--config", config()], {
      cwd: dir,
      env: { ILOBBY_SYNC_CLIENT_SECRET: SECRET },
      timeoutMs: 30_000,
      ...options,
    });
  const uploads = () => emulator.requests.filter((request) => request.endpoint === "upload");

  it("sends the ten rows it checked when the file is replaced by one row before the send", async () => {
    const path = file("people.csv", lines(...Array.from({ length: 10 }, (_, index) => person(index))));
    const checkedBytes = statSync(path).size;
    emulator.queueFault("token", { kind: "slow", delayMs: 1500 });
    const running = upload(path);
    const deadline = Date.now() + 20_000;
    while (!emulator.requests.some((request) => request.endpoint === "token") && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(path, lines(person(0)));
    const result = await running;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(uploads()).toHaveLength(1);
    expect(uploads()[0]).toMatchObject({ status: 200, rows: 10, csvBytes: checkedBytes });
    expect(emulator.addressBook(CLIENT)).toHaveLength(10);
  });

  it("refuses a pipe (/dev/stdin) before any request: it could not be read twice (exit 2)", async () => {
    const result = await upload("/dev/stdin", { input: lines(person(1)) });
    expect(result.code).toBe(2);
    // A pipe from a shell, a socket from Node's spawn(): neither can be read twice.
    expect(result.stderr).toMatch(
      /is a (pipe \(FIFO\)|socket), not a regular file.*save the CSV to a file first/s,
    );
    expect(emulator.requests).toEqual([]);
  });

  it("refuses a shell pipe into /dev/stdin (exit 2)", async () => {
    const path = file("people.csv", lines(person(1)));
    const result = await fromShellPipe(path, ["upload", "/dev/stdin", "--config", config()], {
      ILOBBY_SYNC_CLIENT_SECRET: SECRET,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a pipe \(FIFO\), not a regular file/);
    expect(emulator.requests).toEqual([]);
  });

  it("refuses a FIFO at once, without waiting for a writer (exit 2)", async () => {
    const fifo = join(dir, "fifo.csv");
    execFileSync("mkfifo", [fifo]);
    const result = await upload(fifo, { timeoutMs: 10_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a pipe \(FIFO\), not a regular file/);
    expect(emulator.requests).toEqual([]);
  });

  it("never sends an empty body: an empty file or a BOM alone is invalid (exit 3)", async () => {
    for (const content of ["", "\uFEFF", "\r\n\r\n"]) {
      const result = await upload(file("empty.csv", content));
      expect(result.code).toBe(3);
      expect(result.stdout).toMatch(/the file is empty.*Nothing was uploaded/s);
    }
    expect(emulator.requests).toEqual([]);
  });

  it("writes log.file events as run does", async () => {
    const result = await upload(file("people.csv", lines(person(1), person(2))));
    expect(result.code).toBe(0);
    const events = readFileSync(join(dir, "sync.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string; command: string; records?: number });
    expect(events.map((event) => event.event)).toEqual([
      "run-started",
      "file-checked",
      "target-planned",
      "target-uploaded",
      "run-finished",
    ]);
    expect(events.every((event) => event.command === "upload")).toBe(true);
    expect(events[1]).toMatchObject({ valid: true, records: 2 });
  });
});
