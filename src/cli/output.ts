/**
 * All terminal output goes through here: human text on stderr/stdout, one JSON document on stdout with --json,
 * colour only on a terminal without NO_COLOR, and every line passed through the redactor and escaped: directory
 * data is untrusted, and a control character in it must not act on the terminal.
 */
import { EXIT_CODES, errorJson, isSyncError } from "../core/errors.ts";
import type { Redactor } from "../core/redact.ts";
import { escapeJsonText, escapeTerminalText } from "../core/terminal-text.ts";

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  env: NodeJS.ProcessEnv;
}

/** The styles the commands use. Each returns its text marked, to be coloured once the whole line is escaped. */
export interface Palette {
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

/** SGR codes (open, close) of each style. */
const STYLES: Record<keyof Palette, [number, number]> = {
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  bold: [1, 22],
  dim: [2, 22],
};

export class Output {
  readonly colors: Palette;
  private progressShown = false;
  /**
   * Our own colour codes travel as private-use markers with a key chosen at random for each run, so outside text
   * can neither contain nor forge them; they become ANSI codes only after everything else has been escaped.
   */
  private readonly styleMarker: RegExp | undefined;

  constructor(
    private readonly streams: Streams,
    readonly options: OutputOptions,
    readonly redactor: Redactor,
  ) {
    const color =
      Boolean(streams.stderr.isTTY) && !("NO_COLOR" in options.env) && options.env.TERM !== "dumb";
    const key = color ? crypto.randomUUID().replaceAll("-", "") : "";
    this.styleMarker = color ? new RegExp(`\uE000${key}(\\d+)\uE001`, "g") : undefined;
    const style =
      ([open, close]: [number, number]) =>
      (text: string) =>
        color ? `\uE000${key}${open}\uE001${text}\uE000${key}${close}\uE001` : text;
    this.colors = {
      red: style(STYLES.red),
      yellow: style(STYLES.yellow),
      green: style(STYLES.green),
      bold: style(STYLES.bold),
      dim: style(STYLES.dim),
    };
  }

  /** Redacted, escaped, then coloured: the order matters (escaping first would hide secrets from the redactor). */
  private terminalText(text: string): string {
    const safe = escapeTerminalText(this.redactor.redact(text));
    return this.styleMarker ? safe.replace(this.styleMarker, "\x1b[$1m") : safe;
  }

  private write(stream: NodeJS.WritableStream, text: string): void {
    this.clearProgress();
    stream.write(`${this.terminalText(text)}\n`);
  }

  private writeJson(value: unknown): void {
    this.clearProgress();
    this.streams.stdout.write(
      `${escapeJsonText(JSON.stringify(this.redactor.redactValue(value), null, 2))}\n`,
    );
  }

  /** Progress notes go to stderr, so stdout carries only the result (or the --json document). */
  info(message: string): void {
    this.write(this.streams.stderr, message);
  }

  verbose(message: string): void {
    if (this.options.verbose) this.write(this.streams.stderr, this.colors.dim(message));
  }

  warn(message: string): void {
    this.write(this.streams.stderr, `${this.colors.yellow("warning:")} ${message}`);
  }

  /** A live counter while paging a large directory, only when a person is watching. */
  progress(message: string): void {
    if (!this.streams.stderr.isTTY) return;
    this.streams.stderr.write(`\r${this.terminalText(message)}\x1b[K`);
    this.progressShown = true;
  }

  private clearProgress(): void {
    if (this.progressShown) {
      this.streams.stderr.write("\r\x1b[K");
      this.progressShown = false;
    }
  }

  /** The command's result: human text on stdout, or the JSON document with --json. */
  result(human: () => string, json: () => unknown): void {
    if (this.options.json) this.writeJson(json());
    else this.write(this.streams.stdout, human());
  }

  /**
   * Prints a failure and returns the exit code. Stack traces only with --verbose. `inResult`: the failure is
   * already part of the printed result (one target of several), so --json prints no second document.
   */
  error(error: unknown, options: { inResult?: boolean } = {}): number {
    const known = isSyncError(error);
    const exitCode = known ? error.exitCode : EXIT_CODES.internal;
    if (this.options.json && !options.inResult) {
      this.writeJson({
        ok: false,
        exitCode,
        error: known
          ? errorJson(error)
          : { category: "internal", message: String(error instanceof Error ? error.message : error) },
      });
    }
    const lines: string[] = [];
    if (known) {
      lines.push(`${this.colors.red("error:")} ${error.message}`);
      if (error.likelyCause) lines.push(`  cause: ${error.likelyCause}`);
      if (error.fix) lines.push(`  fix:   ${error.fix}`);
    } else {
      lines.push(
        `${this.colors.red("internal error:")} ${error instanceof Error ? error.message : String(error)}`,
      );
      lines.push(
        "  This is a bug in ilobby-sync. Please report it with the output of the same command with --verbose.",
      );
    }
    if (this.options.verbose || !known) {
      let cause: unknown = error;
      while (cause instanceof Error) {
        if (this.options.verbose && cause.stack) lines.push(this.colors.dim(cause.stack));
        cause = cause.cause;
      }
    }
    this.write(this.streams.stderr, lines.join("\n"));
    return exitCode;
  }
}
