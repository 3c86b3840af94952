/** `doctor`: the first-hour checklist. Uploads nothing; every check runs and says pass, warn, fail or skip. */
import type { Command } from "commander";
import type { CheckResult } from "../../core/checks.ts";
import { checksExitCode, countByStatus } from "../../core/checks.ts";
import type { CommandContext } from "../context.ts";
import { renderChecklist } from "../render-checks.ts";

const EXIT_CODE_HELP = `
Exit code: 0 when no check failed (warnings are fine); otherwise the code of the first failed check's category:
  2 config (invalid or missing config, unwritable state directory), 4 directory, 5 iLobby, 6 nothing to upload,
  8 secrets or keychain.
`;

export function registerDoctor(program: Command, context: CommandContext): void {
  program
    .command("doctor")
    .description(
      "check the setup without uploading: config, secrets and keychain, state directory, each directory URL " +
        "(DNS, TCP, TLS), the bind, each search base and group, attribute coverage, iLobby (proxy, TLS, token) " +
        "and each notification channel (TCP, TLS; nothing sent)",
    )
    .addHelpText("after", EXIT_CODE_HELP)
    .action(async () => {
      const { output, environment } = context;
      // Loaded on use: the checks need ldapts, undici and TLS, which other commands' start-up should not pay for.
      const { doctorWithoutConfig, runDoctor } = await import("../../app/doctor.ts");
      let path: string | undefined;
      let checks: CheckResult[];
      try {
        const loaded = await context.loadConfig();
        path = loaded.path;
        const { doctorPorts } = await import("../probes.ts");
        checks = await runDoctor(loaded.config, loaded.path, await doctorPorts(loaded, environment, output));
      } catch (error) {
        if (path) throw error;
        checks = doctorWithoutConfig(error);
      }
      const exitCode = checksExitCode(checks);
      output.result(
        () => renderChecklist(checks, output.colors),
        () => ({ ok: exitCode === 0, exitCode, config: path ?? null, counts: countByStatus(checks), checks }),
      );
      context.setExitCode(exitCode);
    });
}
