/**
 * init's conversation: questions and hidden prompts on the terminal, each test's result as it comes; without a
 * terminal, secrets from the environment or from lines of standard input, and no questions at all.
 */

import type { InitDialog, InitSecrets } from "../app/init.ts";
import { BIND_PASSWORD_SECRET_NAME, ENTRA_CLIENT_SECRET_NAME } from "../core/config/directory-secrets.ts";
import { SyncError } from "../core/errors.ts";
import { MINIMUM_SECRET_LENGTH } from "../core/redact.ts";
import { DEFAULT_CLIENT_SECRET_NAME, environmentVariableFor } from "../core/secret-names.ts";
import type { Output } from "./output.ts";
import { promptHidden, promptLine } from "./prompt.ts";
import { renderCheck } from "./render-checks.ts";
import { readStream } from "./secret-store.ts";

/** The secrets known before any question; the notification webhook is optional and comes from its own variable. */
type AskedSecret = Exclude<keyof InitSecrets, "notifyWebhook">;

const SECRET_VARIABLES: Record<AskedSecret, string> = {
  bindPassword: environmentVariableFor(BIND_PASSWORD_SECRET_NAME),
  entraClientSecret: environmentVariableFor(ENTRA_CLIENT_SECRET_NAME),
  clientSecret: environmentVariableFor(DEFAULT_CLIENT_SECRET_NAME),
};

export function terminalDialog(output: Output): InitDialog {
  const { stdin, stderr } = process;
  const interactive = Boolean(stdin.isTTY);
  return {
    interactive,
    async ask(question, defaultAnswer) {
      if (!interactive) {
        // runInit asks only on a terminal; reaching this is a bug, reported as one.
        throw new Error(`init asked "${question}" without a terminal`);
      }
      return promptLine(question, stdin, stderr, defaultAnswer);
    },
    async askSecret(question) {
      for (;;) {
        const value = await promptHidden(question, stdin, stderr);
        if (value.length >= MINIMUM_SECRET_LENGTH) {
          output.redactor.add(value);
          return value;
        }
        output.warn(
          `that is too short for a password or client secret (at least ${MINIMUM_SECRET_LENGTH} characters)`,
        );
      }
    },
    report: (check) => output.info(renderCheck(check, output.colors)),
    say: (message) => output.info(message),
  };
}

/**
 * The secrets known before any question: ILOBBY_SYNC_BIND_PASSWORD / ILOBBY_SYNC_CLIENT_SECRET, and without a
 * terminal one line of standard input for each of them not in the environment, bind password first.
 */
export async function knownSecrets(
  env: NodeJS.ProcessEnv,
  needed: boolean,
  output: Output,
  /** The secrets of the chosen source, in the order standard input gives them (initSecretsFor). */
  wanted: readonly AskedSecret[] = ["bindPassword", "clientSecret"],
): Promise<InitSecrets> {
  const known: InitSecrets = {};
  if (!needed) return known;
  // On a terminal the source may still be chosen: every secret of the environment is taken.
  const keys = process.stdin.isTTY ? (Object.keys(SECRET_VARIABLES) as AskedSecret[]) : wanted;
  for (const key of keys) {
    const variable = SECRET_VARIABLES[key];
    if (env[variable]) known[key] = env[variable];
  }
  const missing = keys.filter((key) => !known[key]);
  if (missing.length > 0 && !process.stdin.isTTY) {
    const lines = (await readStream(process.stdin)).split(/\r?\n/);
    for (const [index, key] of missing.entries()) {
      const line = lines[index];
      if (line) known[key] = line;
    }
  }
  for (const [key, value] of Object.entries(known) as [AskedSecret, string][]) {
    output.redactor.add(value);
    if (value.length < MINIMUM_SECRET_LENGTH) {
      throw new SyncError(
        "secret",
        `the ${key === "bindPassword" ? "bind password" : key === "entraClientSecret" ? "Entra client secret" : "client secret"} given is too short`,
        {
          cause: `a client secret or password has at least ${MINIMUM_SECRET_LENGTH} characters`,
          fix: `check ${SECRET_VARIABLES[key]} or the line piped in for it`,
        },
      );
    }
  }
  return known;
}
