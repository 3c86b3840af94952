/** The command-line program: global options, one registration per command, and the single exit-code decision. */
import { Command, CommanderError, Option } from "commander";
import { EXIT_CODE_MEANINGS, EXIT_CODES } from "../core/errors.ts";
import { createRedactor, hideOptionValues } from "../core/redact.ts";
import { registerApply } from "./commands/apply.ts";
import { registerDoctor } from "./commands/doctor.ts";
import { registerInit } from "./commands/init.ts";
import { registerNotify } from "./commands/notify.ts";
import { registerRun } from "./commands/run.ts";
import { registerSchedule } from "./commands/schedule.ts";
import { registerSecret } from "./commands/secret.ts";
import { registerUpload } from "./commands/upload.ts";
import { registerValidate } from "./commands/validate.ts";
import { createCommandContext } from "./context.ts";
import { SyncNotifications } from "./notifications.ts";
import { Output, type Streams } from "./output.ts";
import type { Environment } from "./wiring.ts";

declare const __VERSION__: string;

export interface CliOptions extends Streams {
  argv: readonly string[];
  cwd: string;
  environment: Environment;
}

interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
}

function exitCodeHelp(): string {
  const lines = Object.entries(EXIT_CODES).map(
    ([name, code]) => `  ${String(code).padStart(2)}  ${EXIT_CODE_MEANINGS[name as keyof typeof EXIT_CODES]}`,
  );
  return `\nExit codes:\n${lines.join("\n")}\n`;
}

export async function runCli(options: CliOptions): Promise<number> {
  const redactor = createRedactor();
  const env = options.environment.env;
  let exitCode: number = EXIT_CODES.ok;
  let output: Output | undefined;

  const version = typeof __VERSION__ === "string" ? __VERSION__ : "0.0.0-dev";
  const program = new Command("ilobby-sync")
    .description("Keep the iLobby Address Book in sync with Active Directory or Microsoft Entra ID.")
    .version(version, "-V, --version")
    .addOption(
      new Option(
        "-c, --config <file>",
        "config file (default: ilobby-sync.yaml found in the working directory)",
      ),
    )
    .option("--json", "print one machine-readable JSON document on stdout")
    .option("-v, --verbose", "explain each step; stack traces on errors")
    .option("--no-color", "no colours (also when NO_COLOR is set or output is not a terminal)")
    .addHelpText("after", exitCodeHelp())
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => options.stdout.write(text),
      writeErr: (text) => options.stderr.write(redactor.redact(text)),
      outputError: (text, write) => write(hideOptionValues(text)),
    });

  const globals = () => program.opts<GlobalOptions>();
  const getOutput = () => {
    if (!output) {
      const { json, verbose, color } = globals();
      output = new Output(
        options,
        {
          json: Boolean(json),
          verbose: Boolean(verbose),
          env: color === false ? { ...env, NO_COLOR: "1" } : env,
        },
        redactor,
      );
    }
    return output;
  };
  const notifications = new SyncNotifications(options.environment, getOutput, version);
  const context = createCommandContext({
    output: getOutput,
    environment: options.environment,
    cwd: options.cwd,
    configPath: () => globals().config,
    setExitCode: (code) => {
      exitCode = code;
    },
    notifications,
  });

  registerRun(program, context);
  registerValidate(program, context);
  registerUpload(program, context);
  registerApply(program, context);
  registerSecret(program, context);
  registerSchedule(program, context);
  registerInit(program, context);
  registerDoctor(program, context);
  registerNotify(program, context, version);

  let failure: unknown;
  try {
    await program.parseAsync([...options.argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.config;
    }
    failure = error;
    exitCode = getOutput().error(error);
  }
  // The event is decided by the final exit code; a notification never changes it.
  await notifications.finish(exitCode, failure);
  return exitCode;
}
