/**
 * The ports of `doctor` and `init`, built from the real adapters with the real clients' trust settings: TLS 1.2 or
 * newer; directory.caFile or the system and Node roots for the directory; for iLobby the run's network path (its
 * proxy decision, those roots plus ilobby.caFile). Failures are translated by the same describe* functions a run uses.
 */

import { dirname, resolve } from "node:path";
import { configOfSource, sourceFor } from "../adapters/directory-sources.ts";
import { type LoadedConfig, readPemFile } from "../adapters/files/config-file.ts";
import { configRelativePath } from "../adapters/files/new-config-file.ts";
import { checkWritableDirectory } from "../adapters/files/writable-directory.ts";
import { describeNetworkError } from "../adapters/ilobby/http-errors.ts";
import { ldapConnector } from "../adapters/ldap/index.ts";
import { bindCheck, groupCheck, searchBaseCheck } from "../adapters/ldap/ldap-checks.ts";
import { directoryEndpointProbe } from "../adapters/ldap/ldap-endpoint.ts";
import { routeFor } from "../adapters/network/network-path.ts";
import { factsFrom } from "../adapters/network/tls-facts.ts";
import { inspectHttpsTls } from "../adapters/network/tls-probe.ts";
import { resolveSecret } from "../adapters/secrets/secret-sources.ts";
import type { DoctorPorts, HttpsProbe } from "../app/doctor.ts";
import type { InitPorts } from "../app/init.ts";
import { type CheckResult, passed } from "../core/checks.ts";
import { BIND_PASSWORD_SECRET_NAME, ENTRA_CLIENT_SECRET_NAME } from "../core/config/directory-secrets.ts";
import type { Config, LdapDirectoryConfig } from "../core/config/schema.ts";
import { isSyncError, SyncError } from "../core/errors.ts";
import { proxyInEffect } from "../core/proxy.ts";
import { environmentVariableFor } from "../core/secret-names.ts";
import type { ResolvedTarget } from "../core/targets.ts";
import type { Output } from "./output.ts";
import {
  type Environment,
  ilobbyClientFor,
  keychainFor,
  secretsFor,
  sourceContextFor,
  stateStoreFor,
} from "./wiring.ts";

/** Each probe step gets this long: a check must never hang the checklist. */
const PROBE_TIMEOUT_MS = 10_000;
/** A token request during a check: one attempt and a short timeout, so a failure shows in seconds. */
const TOKEN_TIMEOUT_SECONDS = 20;

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
function ilobbyTlsProbe(trust: IlobbyTrust): HttpsProbe {
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
    ilobbyEndpoint: ilobbyTlsProbe({
      caFile: pathOf(config.ilobby.caFile),
      proxy: config.ilobby.proxy,
      env: environment.env,
    }),
    // Each source's own checks, in config order, each seeing the config as if it were the only source.
    async directoryChecks(secretChecks) {
      const checks: CheckResult[] = [];
      for (const [index, { block }] of config.sources.entries()) {
        const ownChecks = await sourceFor(block).doctorChecks(block, {
          ...sourceContextFor(loaded, environment, output),
          config: configOfSource(config, index),
          now: () => environment.clock.now(),
          secretChecks,
        });
        const prefix = config.sources.length > 1 ? `source ${index + 1} (${block.type}): ` : "";
        for (const check of ownChecks)
          checks.push(
            prefix
              ? { ...check, id: `source${index + 1}:${check.id}`, title: `${prefix}${check.title}` }
              : check,
          );
      }
      return checks;
    },
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
    notifyEndpoints: async () =>
      (await import("./notify-probes.ts")).notifyEndpoints(loaded, environment, output),
  };
}

/** init writes an LDAP config: its draft's directory block is always one. */
function ldapBlock(draft: Config): LdapDirectoryConfig {
  if (draft.directory.type !== "ldap")
    throw new Error(`init drafted a ${draft.directory.type} directory block`);
  return draft.directory;
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
    directoryEndpoint: (draft) => {
      const block = ldapBlock(draft);
      return directoryEndpointProbe({
        caFile: block.caFile ? resolve(folder, block.caFile) : undefined,
        startTls: block.startTls,
      });
    },
    async checkEntra(draft, secret) {
      const block = draft.directory;
      if (block.type !== "entra") throw new Error(`init drafted a ${block.type} directory block for Entra`);
      const variable = environmentVariableFor(ENTRA_CLIENT_SECRET_NAME);
      const withTyped =
        secret === undefined ? { ...environment, openKeychain: undefined } : withSecret(variable, secret);
      const { entraDoctorChecks } = await import("../adapters/entra/entra-checks.ts");
      return entraDoctorChecks(block, {
        config: draft,
        secrets: secretsFor(withTyped, draft),
        env: environment.env,
        resolvePath: loadedDraft(draft).resolvePath,
        verbose: (message) => output.verbose(message),
        redact: (value) => output.redactor.add(value),
        now: () => environment.clock.now(),
        // The secret was just typed (or comes from the environment): the token check uses it.
        secretChecks:
          secret === undefined
            ? []
            : [passed(`secret:${ENTRA_CLIENT_SECRET_NAME}`, ENTRA_CLIENT_SECRET_NAME, "given to init")],
      });
    },
    async openDirectory(draft, password) {
      const block = ldapBlock(draft);
      const loaded = loadedDraft(draft);
      const withPassword = withSecret(environmentVariableFor(BIND_PASSWORD_SECRET_NAME), password);
      const connect = await ldapConnector(block, {
        secrets: secretsFor(withPassword, draft),
        env: environment.env,
        resolvePath: loaded.resolvePath,
        verbose: (message) => output.verbose(message),
        redact: (value) => output.redactor.add(value),
      });
      return {
        checkBind: () => bindCheck(block.bindDn, connect(block)),
        checkSearchBase: (next, baseIndex) =>
          searchBaseCheck(next, ldapBlock(next), connect(ldapBlock(next)), baseIndex),
        checkGroup: (next, group) => groupCheck(next, ldapBlock(next), connect, group),
      };
    },
    tokenSource: (draft, target, secret) =>
      ilobbyClientFor(
        loadedDraft(draft),
        forOneAttempt(target),
        withSecret(environmentVariableFor(target.secretName), secret),
        output,
      ),
  };
}
