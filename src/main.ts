/** Entry point: runs the CLI with the real process. The only place that ends the process. */
import { runCli } from "./cli/program.ts";
import { defaultEnvironment } from "./cli/wiring.ts";

runCli({
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  environment: defaultEnvironment(process.env),
  stdout: process.stdout,
  stderr: process.stderr,
}).then(
  (code) => {
    // Exit explicitly: a scheduler must not wait on an idle keep-alive socket.
    process.stdout.write("", () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
