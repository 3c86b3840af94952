import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Output } from "../../src/cli/output.ts";
import { decodeConfigBytes, parseConfigText } from "../../src/core/config/index.ts";
import { MAX_EXPANDED_VALUES } from "../../src/core/config/parse.ts";
import { createRedactor, hideOptionValues } from "../../src/core/redact.ts";
import { escapeJsonText, escapeTerminalText } from "../../src/core/terminal-text.ts";

const MINIMAL = "ilobby: { clientId: a }\ndirectory: { url: ldaps://dc, bindDn: a, searchBases: [a] }\n";

describe("YAML aliases", () => {
  it("refuses a billion-laughs document fast, naming the key and the line", () => {
    const levels = "abcdefghij";
    const lines = [`a: &a [${Array(10).fill('"lol"').join(", ")}]`];
    for (let level = 1; level < levels.length; level++) {
      const name = levels[level];
      lines.push(
        `${name}: &${name} [${Array(10)
          .fill(`*${levels[level - 1]}`)
          .join(", ")}]`,
      );
    }
    const started = Date.now();
    const result = parseConfigText(`${MINIMAL}${lines.join("\n")}\n`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      {
        path: "e[7]",
        line: 7,
        message: expect.stringMatching(
          `the alias \\*d makes the file expand to more than ${MAX_EXPANDED_VALUES}`,
        ),
      },
    ]);
  });

  it("refuses an alias inside what it names (infinite)", () => {
    const result = parseConfigText(`${MINIMAL}sites: &s [Toronto, *s]\n`);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatchObject({ path: "sites[1]", line: 3 });
  });

  it("keeps ordinary reuse of a list", () => {
    const result = parseConfigText(
      "directory: { url: ldaps://dc, bindDn: a, searchBases: [a] }\nsites: &all [Toronto, Montreal]\n" +
        "targets:\n  - { name: one, clientId: x, sites: *all }\n  - { name: two, clientId: y, sites: *all }\n",
    );
    expect(result.ok).toBe(true);
  });
});

describe("config encoding", () => {
  it("decodes UTF-8, with or without a byte-order mark", () => {
    expect(decodeConfigBytes(Buffer.from("site: Montréal\n"))).toEqual({
      ok: true,
      text: "site: Montréal\n",
    });
    expect(decodeConfigBytes(Buffer.from("\uFEFFa: 1\n"))).toEqual({ ok: true, text: "a: 1\n" });
  });

  it("names the first line that is not UTF-8 (Windows-1252 Montréal)", () => {
    const result = decodeConfigBytes(Buffer.from("a: 1\nb: 2\nsite: Montréal\nd: é\n", "latin1"));
    expect(result).toEqual({
      ok: false,
      problems: [{ path: "", line: 3, message: expect.stringMatching(/this line is not UTF-8/) }],
    });
  });

  it("says UTF-16 when the file is UTF-16", () => {
    const result = decodeConfigBytes(Buffer.from("\uFEFFa: é\n", "utf16le"));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]?.message).toMatch(/UTF-16/);
  });
});

describe("timeout maxima", () => {
  it.each([
    ["ilobby: { clientId: a, timeoutSeconds: 2147484 }", "ilobby.timeoutSeconds"],
    ["ilobby: { clientId: a, retry: { maxSeconds: 99999999 } }", "ilobby.retry.maxSeconds"],
    ["ilobby: { clientId: a, retry: { initialDelayMs: 3000000000 } }", "ilobby.retry.initialDelayMs"],
  ])("%s is refused", (ilobby, path) => {
    const result = parseConfigText(
      `${ilobby}\ndirectory: { url: ldaps://dc, bindDn: a, searchBases: [a] }\n`,
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((problem) => problem.path)).toEqual([path]);
  });

  it("directory.timeoutSeconds too", () => {
    const result = parseConfigText(
      "ilobby: { clientId: a }\ndirectory: { url: ldaps://dc, bindDn: a, searchBases: [a], timeoutSeconds: 1e9 }\n",
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]?.message).toMatch(/at most 86400/);
  });
});

describe("terminal text", () => {
  it("shows control characters as escapes, keeps line breaks, tabs and ordinary Unicode", () => {
    expect(escapeTerminalText("Eve\x1b]0;pwned\x07\x1b[31m")).toBe("Eve\\x1b]0;pwned\\x07\\x1b[31m");
    expect(escapeTerminalText("a\rb\x9bc\u202Ed")).toBe("a\\x0db\\x9bc\\u202ed");
    expect(escapeTerminalText("Inés Ñúñez\n\tMontréal 日本")).toBe("Inés Ñúñez\n\tMontréal 日本");
  });

  it("keeps JSON valid: C1 and bidi characters become \\u escapes", () => {
    const json = escapeJsonText(JSON.stringify({ name: "a\x1b\x9b\u202Eb" }));
    expect(json).toBe('{"name":"a\\u001b\\u009b\\u202eb"}');
    expect(JSON.parse(json)).toEqual({ name: "a\x1b\x9b\u202Eb" });
  });
});

describe("Output on a colour terminal", () => {
  const terminal = () => {
    const stream = Object.assign(new PassThrough(), { isTTY: true });
    let text = "";
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    return { stream, text: () => text };
  };

  it("colours its own labels and escapes everything that came from outside", () => {
    const stdout = terminal();
    const stderr = terminal();
    const output = new Output(
      { stdout: stdout.stream, stderr: stderr.stream },
      { json: false, verbose: true, env: {} },
      createRedactor(),
    );
    output.warn("skipped Eve\x1b]0;pwned\x07\x1b[31m (no EMAIL)");
    output.info(`forged \uE00031\uE001 marker`);
    expect(stderr.text()).toBe(
      "\x1b[33mwarning:\x1b[39m skipped Eve\\x1b]0;pwned\\x07\\x1b[31m (no EMAIL)\nforged \uE00031\uE001 marker\n",
    );
  });
});

describe("hideOptionValues", () => {
  it("keeps the option's name and hides its value", () => {
    expect(hideOptionValues("error: unknown option '--password=hunter2-long'\n")).toBe(
      "error: unknown option '--password=...'\n",
    );
    expect(hideOptionValues("error: unknown option '-phunter2'")).toBe("error: unknown option '-p...'");
    expect(hideOptionValues("error: unknown option '--pasword'\n(Did you mean --password?)")).toBe(
      "error: unknown option '--pasword'\n(Did you mean --password?)",
    );
    expect(hideOptionValues("error: unknown option '-x'")).toBe("error: unknown option '-x'");
  });
});
