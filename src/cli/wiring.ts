/**
 * Builds the real adapters from a loaded config: the one place that knows which implementation serves each port.
 * Adapters are imported when first used, so --help, --version, validate and secret start without loading zod,
 * ldapts, undici, TLS or the lock-file code (docs/benchmarks.md, "Start-up").
 */

import type { LoadedConfig } from "../adapters/files/config-file.ts";
import type { IlobbyClient } from "../adapters/ilobby/ilobby-client.ts";
import { createOsKeychain } from "../adapters/secrets/keychain.ts";
import { createSecretSource, type Keychain } from "../adapters/secrets/secret-sources.ts";
import type { Clock, RunLog } from "../app/ports.ts";
import { systemClock } from "../app/ports.ts";
import { DEFAULT_KEYCHAIN_SERVICE } from "../core/config/defaults.ts";
import type { Config } from "../core/config/schema.ts";
import type { ResolvedTarget } from "../core/targets.ts";
import type { Output } from "./output.ts";

export interface Environment {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Opens the keychain of a service name (config `keychain.service`); absent where none may be used. */
  openKeychain?: ((service: string) => Keychain) | undefined;
}

export function defaultEnvironment(env: NodeJS.ProcessEnv): Environment {
  // The native addon loads only when a secret is actually read from the keychain.
  return { env, clock: systemClock, openKeychain: (service) => createOsKeychain(service) };
}

/** The keychain for this config, or for the default service when there is no config (the `secret` commands). */
export function keychainFor(environment: Environment, config: Config | undefined): Keychain | undefined {
  return environment.openKeychain?.(config?.keychain.service ?? DEFAULT_KEYCHAIN_SERVICE);
}

export function secretsFor(environment: Environment, config: Config) {
  return createSecretSource({ env: environment.env, keychain: keychainFor(environment, config) });
}

/** Told each verified certificate a run's connection was shown: `endpoint` is fit to print. */
export type CertificateListener = (endpoint: string, validTo: string) => void;

/**
 * The source each `directory` block's `type` selects, in config order, with its secrets from the keychain or
 * environment (redacted everywhere).
 */
export async function directoryFor(
  loaded: LoadedConfig,
  environment: Environment,
  output: Output,
  onCertificate?: CertificateListener,
) {
  const { openDirectorySources } = await import("../adapters/directory-sources.ts");
  return openDirectorySources({ ...sourceContextFor(loaded, environment, output), onCertificate });
}

export function sourceContextFor(loaded: LoadedConfig, environment: Environment, output: Output) {
  return {
    config: loaded.config,
    secrets: secretsFor(environment, loaded.config),
    env: environment.env,
    resolvePath: loaded.resolvePath,
    verbose: (message: string) => output.verbose(message),
    redact: (value: string | undefined) => output.redactor.add(value),
  };
}

export async function ilobbyClientFor(
  loaded: LoadedConfig,
  target: ResolvedTarget,
  environment: Environment,
  output: Output,
  onCertificate?: CertificateListener,
): Promise<IlobbyClient> {
  const { connection } = target;
  const clientSecret = await secretsFor(environment, loaded.config).get(target.secretName);
  output.redactor.add(clientSecret);
  const [{ createIlobbyClient }, network] = await Promise.all([
    import("../adapters/ilobby/ilobby-client.ts"),
    networkPathFor(
      loaded,
      connection,
      environment,
      output,
      onCertificate && ((validTo) => onCertificate(`iLobby ${connection.baseUrl}`, validTo)),
    ),
  ]);
  return createIlobbyClient({
    ...connection,
    network,
    clientId: target.clientId,
    clientSecret,
    clock: environment.clock,
    log: (message) => output.verbose(`${target.name}: ${message}`),
    onToken: (token) => output.redactor.add(token),
  });
}

/**
 * The network path to iLobby (adapters/network/network-path.ts): ilobby.proxy, else the proxy variables of the
 * injected environment; system and Node roots plus ilobby.caFile. Every iLobby client (run, upload, init, doctor's
 * token check) is built on it; doctor's TLS check inspects the same path built from the same settings (probes.ts).
 */
async function networkPathFor(
  loaded: LoadedConfig,
  connection: Pick<ResolvedTarget["connection"], "baseUrl" | "caFile" | "proxy" | "timeoutSeconds">,
  environment: Environment,
  output: Output,
  onCertificate?: (validTo: string) => void,
) {
  const [{ readPemFile }, { createNetworkPath }] = await Promise.all([
    import("../adapters/files/config-file.ts"),
    import("../adapters/network/network-path.ts"),
  ]);
  const extraCa = connection.caFile
    ? [await readPemFile(loaded.resolvePath(connection.caFile), "ilobby.caFile")]
    : [];
  const network = createNetworkPath({
    proxy: connection.proxy,
    env: environment.env,
    extraCa,
    timeoutMs: connection.timeoutSeconds * 1000,
    onCertificate,
  });
  const proxy = network.proxyFor(connection.baseUrl);
  for (const password of proxy ? proxyPasswords(proxy) : []) output.redactor.add(password);
  return network;
}

/** Read by every run and upload, --dry-run included: a wrong ilobby.caFile shows in the preview, not at night. */
export async function checkIlobbyCaFile(loaded: LoadedConfig): Promise<void> {
  const { caFile } = loaded.config.ilobby;
  if (!caFile) return;
  const { readPemFile } = await import("../adapters/files/config-file.ts");
  await readPemFile(loaded.resolvePath(caFile), "ilobby.caFile");
}

/** A proxy URL's password as written and as sent, for the redactor. */
function proxyPasswords(proxyUrl: string): string[] {
  const { password } = new URL(proxyUrl);
  return password ? [password, decodeURIComponent(password)] : [];
}

async function stateDirectoryFor(loaded: LoadedConfig) {
  const { defaultStateDir } = await import("../adapters/state/file-state-store.ts");
  return loaded.config.stateDir ? loaded.resolvePath(loaded.config.stateDir) : defaultStateDir();
}

export async function stateStoreFor(loaded: LoadedConfig) {
  const { createFileStateStore } = await import("../adapters/state/file-state-store.ts");
  return createFileStateStore(await stateDirectoryFor(loaded));
}

/** Saved plans live in <stateDir>/plans. */
export async function planFilesFor(loaded: LoadedConfig) {
  const { createPlanFiles } = await import("../adapters/files/plan-files.ts");
  return createPlanFiles(await stateDirectoryFor(loaded));
}

/** log.file, when set, as this run's JSON-lines log: every line carries the run id and the command. */
export async function runLogFor(
  loaded: LoadedConfig,
  run: { runId: string; command: string },
  environment: Environment,
  output: Output,
): Promise<RunLog> {
  const { createJsonLinesLog, silentLog } = await import("../adapters/files/json-log.ts");
  const file = loaded.config.log.file;
  if (!file) return silentLog;
  return createJsonLinesLog({
    path: loaded.resolvePath(file),
    ...run,
    clock: environment.clock,
    redactor: output.redactor,
    onError: (message) => output.warn(message),
  });
}

/** log.file's path, checked before the command does anything: a link, device, FIFO or folder there stops it. */
export async function checkedLogPath(loaded: LoadedConfig): Promise<string | undefined> {
  const file = loaded.config.log.file;
  if (!file) return undefined;
  const path = loaded.resolvePath(file);
  const { checkOutputPath } = await import("../adapters/files/private-file.ts");
  await checkOutputPath(path, "log.file");
  return path;
}
