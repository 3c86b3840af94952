/**
 * All terminal output goes through here: human text on stderr/stdout, one JSON document on stdout with --json,
 * colour only on a terminal without NO_COLOR, and every line passed through the redactor.
 */
import pc from "picocolors";
import { EXIT_CODES, isSyncError } from "../core/errors.ts";
import type { Redactor } from "../core/redact.ts";

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface OutputOptions {
  json: boolean;
  verbose: boolean;
  env: NodeJS.ProcessEnv;
}

export class Output {
  readonly colors: ReturnType<typeof pc.createColors>;
  private progressShown = false;

  constructor(
    private readonly streams: Streams,
    readonly options: OutputOptions,
    readonly redactor: Redactor,
  ) {
    const color =
      Boolean(streams.stderr.isTTY) && !("NO_COLOR" in options.env) && options.env.TERM !== "dumb";
    this.colors = pc.createColors(color);
  }

  private write(stream: NodeJS.WritableStream, text: string): void {
    this.clearProgress();
    stream.write(`${this.redactor.redact(text)}\n`);
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
    this.streams.stderr.write(`\r${this.redactor.redact(message)}\x1b[K`);
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
    if (this.options.json)
      this.write(this.streams.stdout, JSON.stringify(this.redactor.redactValue(json()), null, 2));
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
      this.write(
        this.streams.stdout,
        JSON.stringify(
          this.redactor.redactValue({
            ok: false,
            exitCode,
            error: known
              ? {
                  category: error.category,
                  message: error.message,
                  cause: error.likelyCause,
                  fix: error.fix,
                  ...error.data,
                }
              : { category: "internal", message: String(error instanceof Error ? error.message : error) },
          }),
          null,
          2,
        ),
      );
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
