/**
 * Entry point: runs the CLI with the real process. The only place that ends the process. `--version` alone is
 * answered before the program (commander and the commands) is even initialised: it is what a package manager or
 * a monitoring script runs, and it costs the time of an empty Node (docs/benchmarks.md, "Start-up").
 */
declare const __VERSION__: string;
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(`${typeof __VERSION__ === "string" ? __VERSION__ : "0.0.0-dev"}\n`);
} else {
  Promise.all([import("./cli/program.ts"), import("./cli/wiring.ts")])
    .then(([{ runCli }, { defaultEnvironment }]) =>
      runCli({
        argv,
        cwd: process.cwd(),
        environment: defaultEnvironment(process.env),
        stdout: process.stdout,
        stderr: process.stderr,
      }),
    )
    .then(
      (code) => {
        // Exit explicitly: a scheduler must not wait on an idle keep-alive socket.
        process.stdout.write("", () => process.exit(code));
      },
      (error: unknown) => {
        process.stderr.write(`internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
        process.exit(1);
      },
    );
}
