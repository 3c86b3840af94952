/** Builds the real adapters from a loaded config: the one place that knows which implementation serves each port. */
import type { Clock } from "../app/ports.ts";
import { systemClock } from "../app/ports.ts";
import { createIlobbyClient, type IlobbyClient } from "../adapters/ilobby/ilobby-client.ts";
import { trustedCertificates } from "../adapters/ilobby/trust.ts";
import { createLdapDirectory } from "../adapters/ldap/ldap-directory.ts";
import { createSecretSource, type Keychain } from "../adapters/secrets/secret-sources.ts";
import { type LoadedConfig, readPemFile } from "../adapters/files/config-file.ts";
import type { IlobbyConfig } from "../core/config/schema.ts";
import type { Output } from "./output.ts";

export interface Environment {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  keychain?: Keychain | undefined;
}

export function defaultEnvironment(env: NodeJS.ProcessEnv): Environment {
  return { env, clock: systemClock };
}

export function secretsFor(environment: Environment) {
  return createSecretSource({ env: environment.env, keychain: environment.keychain });
}

export async function directoryFor(loaded: LoadedConfig, environment: Environment, output: Output) {
  const { directory } = loaded.config;
  const password = await secretsFor(environment).get("bind-password");
  output.redactor.add(password);
  const caFile = directory.caFile ? loaded.resolvePath(directory.caFile) : undefined;
  const ca = caFile ? await readPemFile(caFile, "directory.caFile") : trustedCertificates();
  return createLdapDirectory({
    urls: directory.url,
    bindDn: directory.bindDn,
    password,
    ca,
    caFile,
    startTls: directory.startTls,
    pageSize: directory.pageSize,
    timeoutSeconds: directory.timeoutSeconds,
    log: (message) => output.verbose(message),
  });
}

export interface TargetSettings extends IlobbyConfig {
  /** The keychain/env name of this target's client secret. */
  secretName: string;
}

export async function ilobbyClientFor(
  loaded: LoadedConfig,
  settings: TargetSettings,
  environment: Environment,
  output: Output,
): Promise<IlobbyClient> {
  const clientSecret = await secretsFor(environment).get(settings.secretName);
  output.redactor.add(clientSecret);
  const extraCa = settings.caFile
    ? [await readPemFile(loaded.resolvePath(settings.caFile), "ilobby.caFile")]
    : [];
  if (settings.proxy) output.redactor.add(new URL(settings.proxy).password || undefined);
  return createIlobbyClient({
    baseUrl: settings.baseUrl,
    tokenPath: settings.tokenPath,
    uploadPath: settings.uploadPath,
    clientId: settings.clientId,
    clientSecret,
    ca: trustedCertificates(extraCa),
    proxy: settings.proxy,
    timeoutSeconds: settings.timeoutSeconds,
    retry: settings.retry,
    clock: environment.clock,
    log: (message) => output.verbose(message),
    onToken: (token) => output.redactor.add(token),
  });
}
