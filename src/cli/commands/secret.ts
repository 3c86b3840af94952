/**
 * `secret set|delete|list`: manage the secrets in the OS keychain. A value is read from a hidden prompt or from
 * standard input, never from the command line (where `ps` and shell history would show it), and never printed.
 */

import type { Command } from "commander";
import { type Keychain, resolveSecret, type SecretOrigin } from "../../adapters/secrets/secret-sources.ts";
import { BIND_PASSWORD_SECRET_NAME } from "../../core/config/directory-secrets.ts";
import type { Config } from "../../core/config/schema.ts";
import { SyncError } from "../../core/errors.ts";
import { MINIMUM_SECRET_LENGTH } from "../../core/redact.ts";
import {
  DEFAULT_CLIENT_SECRET_NAME,
  environmentVariableFor,
  SECRET_NAME_PATTERN,
} from "../../core/secret-names.ts";
import { secretNamesFor } from "../../core/targets.ts";
import type { CommandContext } from "../context.ts";
import type { Output } from "../output.ts";
import { promptHidden } from "../prompt.ts";
import { readStream, requireKeychain, warnIfShadowed } from "../secret-store.ts";

/** The secrets a sync with this config reads; without a config, those of the single-target setup. */
function knownSecretNames(config: Config | undefined): string[] {
  return config ? secretNamesFor(config) : [DEFAULT_CLIENT_SECRET_NAME, BIND_PASSWORD_SECRET_NAME];
}

function checkedName(name: string): string {
  // The rejected text is not echoed: it may be a secret typed in the wrong place.
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new SyncError("config", "the secret name given is not a valid name", {
      fix: `use lower-case letters, digits, '.', '_' or '-', e.g. ${DEFAULT_CLIENT_SECRET_NAME} or ${BIND_PASSWORD_SECRET_NAME}; the value itself is never an argument: it is prompted for or read from standard input`,
    });
  }
  return name;
}

/**
 * A name this configuration does not read may be a secret typed where its name belongs: it is redacted from all
 * output (with the environment variable made of it) unless it has the shape of the names ilobby-sync uses.
 */
function hideIfNotAName(name: string, output: Output): boolean {
  if (/^(client-secret(-[a-z0-9][a-z0-9._-]*)?|bind-password)$/.test(name)) return false;
  output.redactor.add(name);
  output.redactor.add(environmentVariableFor(name).slice("ILOBBY_SYNC_".length));
  return true;
}

interface SecretScope {
  keychain: Keychain;
  knownNames: string[];
}

async function secretScope(context: CommandContext): Promise<SecretScope> {
  const loaded = await context.loadConfigIfAny();
  if (loaded) context.output.verbose(`config: ${loaded.path}`);
  const keychain = requireKeychain(context.environment, loaded?.config);
  return { keychain, knownNames: knownSecretNames(loaded?.config) };
}

function withoutOneTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

/** A hidden prompt (typed twice) on a terminal, otherwise all of standard input, so scripts can pipe it. */
async function readSecretValue(name: string): Promise<string> {
  const { stdin, stderr } = process;
  let value: string;
  if (stdin.isTTY) {
    value = await promptHidden(`Value of ${name} (typing is hidden): `, stdin, stderr);
    if (value !== "" && (await promptHidden("Type it again: ", stdin, stderr)) !== value) {
      throw new SyncError("secret", "the two entries differ: nothing was stored", {
        fix: `run \`ilobby-sync secret set ${name}\` again`,
      });
    }
  } else {
    value = withoutOneTrailingNewline(await readStream(stdin));
  }
  if (value === "") {
    throw new SyncError("secret", `no value was given for ${name}: nothing was stored`, {
      fix: `type it at the prompt, or pipe it in: printf %s "$VALUE" | ilobby-sync secret set ${name}`,
    });
  }
  if (value.length < MINIMUM_SECRET_LENGTH) {
    throw new SyncError("secret", `the value given for ${name} is too short: nothing was stored`, {
      cause: `a client secret or password has at least ${MINIMUM_SECRET_LENGTH} characters`,
      fix: "check that the whole value was typed or piped in",
    });
  }
  return value;
}

type SecretSourceName = SecretOrigin | "missing";

interface SecretStatus {
  name: string;
  source: SecretSourceName;
  location?: string;
}

function renderStatuses(statuses: SecretStatus[], keychain: Keychain): string {
  const nameWidth = Math.max(...statuses.map((status) => status.name.length));
  const sourceWidth = Math.max(...statuses.map((status) => status.source.length));
  const lines = statuses.map((status) =>
    [status.name.padEnd(nameWidth), status.source.padEnd(sourceWidth), status.location ?? ""]
      .join("  ")
      .trimEnd(),
  );
  const missing = statuses.filter((status) => status.source === "missing");
  if (missing.length > 0) {
    lines.push(
      "",
      `Missing: store each with \`ilobby-sync secret set <name>\` (in ${keychain.describe()}) as the account that runs the sync, or see docs/secrets.md.`,
    );
  }
  return lines.join("\n");
}

export function registerSecret(program: Command, context: CommandContext): void {
  const secret = program
    .command("secret")
    .description(
      "store, delete or list the secrets (iLobby client secret, bind password, Entra client secret, notification secrets) in the OS keychain",
    );

  secret
    .command("set")
    .description(
      "store a secret in the OS keychain: typed at a hidden prompt, or read from standard input " +
        '(printf %s "$VALUE" | ilobby-sync secret set client-secret)',
    )
    .argument("<name>", "the secret's name, e.g. client-secret or bind-password (never the value)")
    // Anything more may be the value itself: refused below without commander echoing it back.
    .allowExcessArguments()
    .allowUnknownOption()
    .action(async (rawName: string, _options: unknown, command: Command) => {
      if (command.args.length > 1) {
        throw new SyncError("config", "`secret set` takes only the secret's name: nothing was stored", {
          cause: "a value on the command line shows in the process list and the shell history",
          fix: `if that was the secret, consider it exposed and change it; then type it at the prompt of \`ilobby-sync secret set ${checkedName(rawName)}\` or pipe it in`,
        });
      }
      const name = checkedName(rawName);
      const { output, environment } = context;
      const { keychain, knownNames } = await secretScope(context);
      if (!knownNames.includes(name)) {
        const reads = `(it reads ${knownNames.join(", ")})`;
        output.warn(
          hideIfNotAName(name, output)
            ? `this configuration does not read a secret of the name given ${reads}; the name is not shown in ` +
                "case it is the secret itself: if so, consider it exposed and change it"
            : `this configuration does not read a secret named ${name} ${reads}`,
        );
      }
      const value = await readSecretValue(name);
      output.redactor.add(value);
      await keychain.set(name, value);
      await warnIfShadowed(name, environment, output);
      output.result(
        () => `Stored ${name} in ${keychain.describe()}.`,
        () => ({ ok: true, name, stored: true, keychain: keychain.describe() }),
      );
    });

  secret
    .command("delete")
    .description("delete a secret from the OS keychain")
    .argument("<name>", "the secret's name, e.g. client-secret or bind-password")
    .action(async (rawName: string) => {
      const name = checkedName(rawName);
      const { output, environment } = context;
      const { keychain, knownNames } = await secretScope(context);
      if (!knownNames.includes(name)) hideIfNotAName(name, output);
      const deleted = await keychain.delete(name);
      await warnIfShadowed(name, environment, output);
      output.result(
        () =>
          deleted
            ? `Deleted ${name} from ${keychain.describe()}.`
            : `${name} was not in ${keychain.describe()}: nothing to delete.`,
        () => ({ ok: true, name, deleted, keychain: keychain.describe() }),
      );
    });

  secret
    .command("list")
    .description(
      "list the secrets this configuration reads and where each comes from (environment, file, " +
        "systemd-credential, keychain or missing); never their values",
    )
    .argument("[names...]", "more secret names to look up")
    .action(async (extraNames: string[]) => {
      const { output, environment } = context;
      const { keychain, knownNames } = await secretScope(context);
      const names = [...new Set([...knownNames, ...extraNames.map(checkedName)])];
      const statuses: SecretStatus[] = [];
      for (const name of names) {
        const found = await resolveSecret(name, { env: environment.env, keychain });
        output.redactor.add(found?.value);
        statuses.push(
          found ? { name, source: found.origin, location: found.location } : { name, source: "missing" },
        );
      }
      output.result(
        () => renderStatuses(statuses, keychain),
        () => ({
          ok: true,
          keychain: keychain.describe(),
          secrets: statuses.map((status) => ({
            ...status,
            environmentVariable: environmentVariableFor(status.name),
          })),
        }),
      );
    });
}
