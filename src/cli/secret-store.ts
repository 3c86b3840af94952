/**
 * What `secret` and `init` share to store secrets: the keychain they store into, the warning when a source read
 * before the keychain would win, and reading standard input. Commands import this, never each other.
 */
import { type Keychain, resolveSecret } from "../adapters/secrets/secret-sources.ts";
import type { Config } from "../core/config/schema.ts";
import { SyncError } from "../core/errors.ts";
import type { Output } from "./output.ts";
import { type Environment, keychainFor } from "./wiring.ts";

/** The keychain that `secret set` (and `init`) store into; an error when this process has none. */
export function requireKeychain(environment: Environment, config: Config | undefined): Keychain {
  const keychain = keychainFor(environment, config);
  if (!keychain) {
    throw new SyncError("secret", "no OS keychain is available to this process", {
      fix: "supply the secrets through ILOBBY_SYNC_<NAME>, ILOBBY_SYNC_<NAME>_FILE or $CREDENTIALS_DIRECTORY",
    });
  }
  return keychain;
}

/** Warns when a source that comes before the keychain holds the secret, so the keychain's value is not used. */
export async function warnIfShadowed(name: string, environment: Environment, output: Output): Promise<void> {
  const earlier = await resolveSecret(name, { env: environment.env });
  if (!earlier) return;
  output.redactor.add(earlier.value);
  output.warn(
    `${name} also comes from ${earlier.origin} ${earlier.location}, which is read before the keychain and wins`,
  );
}

export async function readStream(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}
