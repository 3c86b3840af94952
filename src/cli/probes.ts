/**
 * The ports of `doctor` and `init`, built from the real adapters with the real clients' trust settings: TLS 1.2 or
 * newer; directory.caFile or the system and Node roots for the directory; for iLobby the run's network path (its
 * proxy decision, those roots plus ilobby.caFile). Failures are translated by the same describe* functions a run uses.
 */

import { dirname, resolve } from "node:path";
import { type LoadedConfig, readPemFile } from "../adapters/files/config-file.ts";
import { configRelativePath } from "../adapters/files/new-config-file.ts";
import { checkWritableDirectory } from "../adapters/files/writable-directory.ts";
import { describeNetworkError } from "../adapters/ilobby/http-errors.ts";
import { tlsOptionsFor } from "../adapters/ldap/ldap-directory.ts";
import { describeConnectError } from "../adapters/ldap/ldap-errors.ts";
import { routeFor } from "../adapters/network/network-path.ts";
import {
  connectTcp,
  inspectHttpsTls,
  inspectTls,
  resolveHost,
  type TlsInspection,
} from "../adapters/network/tls-probe.ts";
import { trustedCertificates } from "../adapters/network/trust.ts";
import { resolveSecret } from "../adapters/secrets/secret-sources.ts";
import type { DoctorPorts, EndpointProbe, HttpsProbe } from "../app/doctor.ts";
import type { InitPorts } from "../app/init.ts";
import type { Config } from "../core/config/schema.ts";
import type { TlsFacts } from "../core/doctor.ts";
import { isSyncError, SyncError } from "../core/errors.ts";
import { proxyInEffect } from "../core/proxy.ts";
import { BIND_PASSWORD_SECRET_NAME, environmentVariableFor } from "../core/secret-names.ts";
import type { ResolvedTarget } from "../core/targets.ts";
import type { Output } from "./output.ts";
import { directoryFor, type Environment, ilobbyClientFor, keychainFor, stateStoreFor } from "./wiring.ts";

/** Each probe step gets this long: a check must never hang the checklist. */
const PROBE_TIMEOUT_MS = 10_000;
/** A token request during a check: one attempt and a short timeout, so a failure shows in seconds. */
const TOKEN_TIMEOUT_SECONDS = 20;

function factsFrom(inspection: TlsInspection, describe: (error: Error) => unknown): TlsFacts {
  const { authorizationError } = inspection;
  return {
    protocol: inspection.protocol,
    chain: inspection.chain,
    trustProblem: authorizationError
      ? describe(Object.assign(new Error(authorizationError), { code: authorizationError }))
      : undefined,
    hostnameProblem: inspection.hostnameError ? describe(inspection.hostnameError) : undefined,
  };
}

function hostAndPort(url: URL, defaultPort: number) {
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) || defaultPort };
}

export interface DirectoryTrust {
  /** Resolved path of directory.caFile, if set. */
  caFile?: string | undefined;
  startTls: boolean;
}

export function directoryEndpointProbe(trust: DirectoryTrust): EndpointProbe {
  let ca: Promise<string | string[]> | undefined;
  const trusted = () =>
    (ca ??= trust.caFile
      ? readPemFile(trust.caFile, "directory.caFile")
      : Promise.resolve(trustedCertificates()));
  const describe = (error: unknown, url: string) =>
    isSyncError(error) ? error : describeConnectError(error, url, trust.caFile);
  const endpoint = (url: string) => {
    const parsed = new URL(url);
    return { parsed, ...hostAndPort(parsed, parsed.protocol === "ldaps:" ? 636 : 389) };
  };
  return {
    renewal:
      "renew the domain controller's LDAPS certificate before it expires (certificate autoenrolment or the Certificates MMC)",
    async resolve(url) {
      try {
        return await resolveHost(endpoint(url).host, PROBE_TIMEOUT_MS);
      } catch (error) {
        throw describe(error, url);
      }
    },
    async connect(url) {
      const { host, port } = endpoint(url);
      try {
        await connectTcp(host, port, PROBE_TIMEOUT_MS);
      } catch (error) {
        throw describe(error, url);
      }
    },
    async tls(url) {
      const { parsed, host, port } = endpoint(url);
      const startTls = parsed.protocol === "ldap:";
      if (startTls && !trust.startTls) {
        throw new SyncError("config", `${url}: plain LDAP would send the bind password unencrypted`, {
          fix: "use ldaps:// (port 636, or 3269 for the Global Catalog) or set directory.startTls: true",
        });
      }
      try {
        const tls = tlsOptionsFor(parsed, await trusted());
        const inspection = await inspectTls({ host, port, tls, startTls, timeoutMs: PROBE_TIMEOUT_MS });
        return factsFrom(inspection, (error) => describe(error, url));
      } catch (error) {
        throw describe(error, url);
      }
    },
  };
}

export interface IlobbyTrust {
  /** Resolved path of ilobby.caFile, if set. */
  caFile?: string | undefined;
  proxy?: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** What the HTTP client says about a failed connection, always as a SyncError. */
function describeIlobbyFailure(error: unknown, url: string, viaProxy: boolean): SyncError {
  if (isSyncError(error)) return error;
  const described = describeNetworkError(error, url, viaProxy);
  if (isSyncError(described)) return described;
  return new SyncError("ilobby", described.message, { fix: (described as { hint?: string }).hint, error });
}

/** TLS to iLobby over the run's network path: the same proxy decision, CAs and undici tunnel as the token. */
export function ilobbyTlsProbe(trust: IlobbyTrust): HttpsProbe {
  const base = { proxy: trust.proxy, env: trust.env };
  return {
    renewal:
      "iLobby renews its own certificate; if a TLS-inspecting proxy presents this one, ask your network team to renew it",
    route: (url) => routeFor(base, url),
    async tls(url) {
      const viaProxy = proxyInEffect(routeFor(base, url)) !== undefined;
      const extraCa = trust.caFile ? [await readPemFile(trust.caFile, "ilobby.caFile")] : [];
      try {
        const inspection = await inspectHttpsTls({ ...base, extraCa }, url, PROBE_TIMEOUT_MS);
        return factsFrom(inspection, (error) => describeIlobbyFailure(error, url, viaProxy));
      } catch (error) {
        throw describeIlobbyFailure(error, url, viaProxy);
      }
    },
  };
}

/** The target with a single quick attempt: a check reports a failure, it does not wait out the retries. */
function forOneAttempt(target: ResolvedTarget): ResolvedTarget {
  const { connection } = target;
  return {
    ...target,
    connection: {
      ...connection,
      timeoutSeconds: Math.min(connection.timeoutSeconds, TOKEN_TIMEOUT_SECONDS),
      retry: { ...connection.retry, attempts: 1 },
    },
  };
}

export async function doctorPorts(
  loaded: LoadedConfig,
  environment: Environment,
  output: Output,
): Promise<DoctorPorts> {
  const { config } = loaded;
  const keychain = keychainFor(environment, config);
  const state = await stateStoreFor(loaded);
  const pathOf = (path: string | undefined) => (path ? loaded.resolvePath(path) : undefined);
  return {
    now: () => environment.clock.now(),
    directoryEndpoint: directoryEndpointProbe({
      caFile: pathOf(config.directory.caFile),
      startTls: config.directory.startTls,
    }),
    ilobbyEndpoint: ilobbyTlsProbe({
      caFile: pathOf(config.ilobby.caFile),
      proxy: config.ilobby.proxy,
      env: environment.env,
    }),
    openDirectory: () => directoryFor(loaded, environment, output),
    tokenSource: (target) => ilobbyClientFor(loaded, forOneAttempt(target), environment, output),
    secrets: {
      async outsideKeychain(name) {
        const found = await resolveSecret(name, { env: environment.env });
        output.redactor.add(found?.value);
        return found && { origin: found.origin, location: found.location };
      },
      keychain: keychain && {
        describe: () => keychain.describe(),
        async has(name) {
          const value = await keychain.get(name);
          output.redactor.add(value);
          return value !== undefined;
        },
      },
    },
    stateDir: {
      location: state.location,
      checkWritable: () => checkWritableDirectory(state.location, "stateDir"),
    },
  };
}

/**
 * init's ports: a draft config is "loaded" from where it will be written, and the typed secrets stand in the
 * environment, so the directory and the token client are built exactly as a run builds them.
 */
export function initPorts(options: {
  configFile: string;
  cwd: string;
  environment: Environment;
  output: Output;
}): InitPorts {
  const { environment, output } = options;
  const folder = dirname(options.configFile);
  const loadedDraft = (config: Config): LoadedConfig => ({
    config,
    path: options.configFile,
    resolvePath: (path) => resolve(folder, path),
  });
  const withSecret = (variable: string, value: string): Environment => {
    output.redactor.add(value);
    // No keychain: the draft must be tested with the secret just typed, not one stored earlier.
    return { ...environment, env: { ...environment.env, [variable]: value }, openKeychain: undefined };
  };
  return {
    now: () => environment.clock.now(),
    configPath: (path) => configRelativePath(resolve(options.cwd, path), folder),
    directoryEndpoint: (draft) =>
      directoryEndpointProbe({
        caFile: draft.directory.caFile ? resolve(folder, draft.directory.caFile) : undefined,
        startTls: draft.directory.startTls,
      }),
    openDirectory: (draft, password) =>
      directoryFor(
        loadedDraft(draft),
        withSecret(environmentVariableFor(BIND_PASSWORD_SECRET_NAME), password),
        output,
      ),
    tokenSource: (draft, target, secret) =>
      ilobbyClientFor(
        loadedDraft(draft),
        forOneAttempt(target),
        withSecret(environmentVariableFor(target.secretName), secret),
        output,
      ),
  };
}
