/**
 * Where secrets come from, in order: ILOBBY_SYNC_<NAME>, ILOBBY_SYNC_<NAME>_FILE (container secrets),
 * $CREDENTIALS_DIRECTORY/<name> (systemd credentials), then the OS keychain.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { SecretSource } from "../../app/ports.ts";
import { errorCode, SyncError } from "../../core/errors.ts";
import { environmentVariableFor } from "../../core/secret-names.ts";

export interface Keychain {
  /** Returns undefined when the keychain works but holds no such secret; throws SyncError when unreachable. */
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  /** Returns false when there was no such secret to delete. */
  delete(name: string): Promise<boolean>;
  describe(): string;
}

export type SecretOrigin = "environment" | "file" | "systemd-credential" | "keychain";

export interface ResolvedSecret {
  value: string;
  origin: SecretOrigin;
  location: string;
}

export interface SecretResolverOptions {
  env: NodeJS.ProcessEnv;
  keychain?: Keychain | undefined;
}

function describeOrigin(origin: SecretOrigin): string {
  return origin === "systemd-credential" ? "systemd credential" : "secret file";
}

async function readSecretFile(
  path: string,
  origin: SecretOrigin,
  name: string,
): Promise<ResolvedSecret | undefined> {
  try {
    const value = (await readFile(path, "utf8")).replace(/\r?\n$/, "");
    if (value === "") {
      throw new SyncError("secret", `the ${describeOrigin(origin)} for "${name}" (${path}) is empty`, {
        fix: "write the secret into the file, without extra lines",
      });
    }
    return { value, origin, location: path };
  } catch (error) {
    if (error instanceof SyncError) throw error;
    if (errorCode(error) === "ENOENT" && origin === "systemd-credential") return undefined;
    throw new SyncError(
      "secret",
      `cannot read the ${describeOrigin(origin)} for "${name}" (${path}): ${errorCode(error)}`,
      {
        fix: "check the path and that this account may read it",
        error,
      },
    );
  }
}

export async function resolveSecret(
  name: string,
  options: SecretResolverOptions,
): Promise<ResolvedSecret | undefined> {
  const variable = environmentVariableFor(name);
  const direct = options.env[variable];
  if (direct) return { value: direct, origin: "environment", location: variable };
  const filePath = options.env[`${variable}_FILE`];
  if (filePath) return readSecretFile(filePath, "file", name);
  const credentials = options.env.CREDENTIALS_DIRECTORY;
  if (credentials) {
    const found = await readSecretFile(join(credentials, name), "systemd-credential", name);
    if (found) return found;
  }
  if (options.keychain) {
    const value = await options.keychain.get(name);
    if (value !== undefined) return { value, origin: "keychain", location: options.keychain.describe() };
  }
  return undefined;
}

export function createSecretSource(options: SecretResolverOptions): SecretSource {
  return {
    async get(name) {
      const found = await resolveSecret(name, options);
      if (found) return found.value;
      const variable = environmentVariableFor(name);
      throw new SyncError("secret", `the secret "${name}" is not set`, {
        cause: `looked in ${variable}, ${variable}_FILE, $CREDENTIALS_DIRECTORY/${name}${
          options.keychain ? ` and ${options.keychain.describe()}` : ""
        }`,
        fix: `store it with \`ilobby-sync secret set ${name}\` as the account that runs the sync, or set ${variable}`,
      });
    },
  };
}
