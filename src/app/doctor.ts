/**
 * The `doctor` use case: every check an administrator needs in the first hour, run through small ports, each
 * reported pass/warn/fail/skip with its fix. Every check runs; one that depends on a failed check is skipped with
 * the reason, so a single run shows everything that is wrong. `init` reuses the same checks to test its answers.
 */

import { type CheckResult, failed, isUsable, passed, skipped } from "../core/checks.ts";
import type { Config } from "../core/config/schema.ts";
import { assessTls, type TlsFacts } from "../core/doctor.ts";
import { SyncError } from "../core/errors.ts";
import { type ProxyDecision, withoutPassword } from "../core/proxy.ts";
import { type ResolvedTarget, resolveTargets, secretNamesFor } from "../core/targets.ts";

/** A TLS handshake's facts; trust and host-name problems are reported in them, other failures thrown as SyncErrors. */
export interface TlsProbe {
  tls(url: string): Promise<TlsFacts>;
  /** What to do about a certificate that expires soon: it depends on who runs the server. */
  readonly renewal: string;
}

/** TLS of an HTTPS endpoint over the network path a run uses, and that path's proxy decision. */
export interface HttpsProbe extends TlsProbe {
  /** Which proxy (or none) a request to the URL goes through, and why. */
  route(url: string): ProxyDecision;
}

/** DNS, TCP and TLS of one endpoint; each throws a SyncError that says what to do. */
export interface EndpointProbe extends TlsProbe {
  resolve(url: string): Promise<string[]>;
  connect(url: string): Promise<void>;
}

export interface TokenSource {
  getToken(): Promise<unknown>;
  close(): Promise<void>;
}

export interface SecretLocation {
  origin: string;
  location: string;
}

export interface SecretProbe {
  /** Where a secret comes from before the keychain is asked (environment, file, systemd credential), if anywhere. */
  outsideKeychain(name: string): Promise<SecretLocation | undefined>;
  /** Absent when this system has no keychain to use. `has` throws a SyncError when it cannot be reached. */
  keychain?: { describe(): string; has(name: string): Promise<boolean> } | undefined;
}

/** A notification channel: reachable (TCP, then TLS), checked without sending anything. */
export interface NotifyEndpoint {
  id: string;
  title: string;
  /** The TLS facts of an HTTPS endpoint, or what an SMTP server accepted; throws a SyncError when unreachable. */
  check(): Promise<{ tls: TlsFacts } | { summary: string }>;
}

export interface DoctorPorts {
  now(): number;
  ilobbyEndpoint: HttpsProbe;
  /**
   * The directory source's own checks (for LDAP: DNS, TCP, TLS, bind, searches, groups, attribute coverage), given
   * the secret checks already run so a check that needs a missing secret is skipped.
   */
  directoryChecks(secretChecks: readonly CheckResult[]): Promise<CheckResult[]>;
  /** A token client for a target, with its secret; throws a SyncError. */
  tokenSource(target: ResolvedTarget): Promise<TokenSource>;
  secrets: SecretProbe;
  stateDir: { location: string; checkWritable(): Promise<void> };
  /** The configured notification channels (none without a notify block). */
  notifyEndpoints?: (() => Promise<NotifyEndpoint[]>) | undefined;
}

// ---- Checks that init reuses ----

/** The title names the URL already; a message that starts with it too would say it twice. */
function withoutUrl(check: CheckResult, url: string): CheckResult {
  const prefix = `${url}: `;
  return check.summary.startsWith(prefix) ? { ...check, summary: check.summary.slice(prefix.length) } : check;
}

/** DNS, then TCP, then TLS of one URL; a step whose predecessor failed is skipped. */
export async function endpointChecks(url: string, probe: EndpointProbe, now: number): Promise<CheckResult[]> {
  const dnsTitle = `DNS ${url}`;
  const tcpTitle = `TCP ${url}`;
  const tlsTitle = `TLS ${url}`;
  let dns: CheckResult;
  try {
    const addresses = await probe.resolve(url);
    dns = passed(`dns:${url}`, dnsTitle, `resolves to ${addresses.join(", ")}`);
  } catch (error) {
    dns = withoutUrl(failed(`dns:${url}`, dnsTitle, error), url);
  }
  if (!isUsable(dns)) {
    return [
      dns,
      skipped(`tcp:${url}`, tcpTitle, "the host name does not resolve"),
      skipped(`tls:${url}`, tlsTitle, "the host name does not resolve"),
    ];
  }
  let tcp: CheckResult;
  try {
    await probe.connect(url);
    tcp = passed(`tcp:${url}`, tcpTitle, "accepts connections");
  } catch (error) {
    tcp = withoutUrl(failed(`tcp:${url}`, tcpTitle, error), url);
  }
  if (!isUsable(tcp)) return [dns, tcp, skipped(`tls:${url}`, tlsTitle, "no TCP connection")];
  return [dns, tcp, await tlsCheck(url, probe, now)];
}

async function tlsCheck(url: string, probe: TlsProbe, now: number): Promise<CheckResult> {
  try {
    return withoutUrl(assessTls(`tls:${url}`, `TLS ${url}`, await probe.tls(url), now, probe.renewal), url);
  } catch (error) {
    return withoutUrl(failed(`tls:${url}`, `TLS ${url}`, error), url);
  }
}

export async function tokenCheck(
  target: ResolvedTarget,
  open: () => Promise<TokenSource>,
): Promise<CheckResult> {
  const id = `token:${target.name}`;
  const title = `token for client ${target.clientId}`;
  let source: TokenSource | undefined;
  try {
    source = await open();
    await source.getToken();
    return passed(id, title, "iLobby issued a token (nothing was uploaded)");
  } catch (error) {
    return failed(id, title, error);
  } finally {
    await source?.close();
  }
}

function proxyCheck(baseUrl: string, decision: ProxyDecision): CheckResult {
  const id = `proxy:${baseUrl}`;
  const title = `proxy for ${baseUrl}`;
  switch (decision.kind) {
    case "config":
      return passed(id, title, `ilobby.proxy: ${withoutPassword(decision.url)}`);
    case "environment":
      return passed(id, title, `${decision.variable}: ${withoutPassword(decision.url)}`);
    case "bypassed":
      return passed(
        id,
        title,
        `direct: NO_PROXY entry "${decision.noProxyEntry}" bypasses ${decision.variable} (${withoutPassword(decision.url)})`,
      );
    case "none":
      return passed(id, title, "direct (no ilobby.proxy, HTTPS_PROXY or HTTP_PROXY)");
  }
}

// ---- Checks of the machine ----

async function secretChecks(names: readonly string[], probe: SecretProbe): Promise<CheckResult[]> {
  const found = new Map<string, SecretLocation>();
  const unreadable = new Map<string, unknown>();
  for (const name of names) {
    try {
      const location = await probe.outsideKeychain(name);
      if (location) found.set(name, location);
    } catch (error) {
      unreadable.set(name, error);
    }
  }
  const needKeychain = names.filter((name) => !found.has(name) && !unreadable.has(name));
  const keychainTitle = "keychain";
  let keychain: CheckResult;
  let keychainError: unknown;
  if (needKeychain.length === 0) {
    keychain = skipped("keychain", keychainTitle, "not needed: every secret comes from outside the keychain");
  } else if (!probe.keychain) {
    keychainError = new SyncError("secret", "no OS keychain is available to this process", {
      fix: "supply the secrets through ILOBBY_SYNC_<NAME>, ILOBBY_SYNC_<NAME>_FILE or $CREDENTIALS_DIRECTORY",
    });
    keychain = failed("keychain", keychainTitle, keychainError);
  } else {
    const { keychain: store } = probe;
    try {
      for (const name of needKeychain) if (await store.has(name)) found.set(name, keychainLocation(store));
      keychain = passed("keychain", keychainTitle, `reachable: ${store.describe()}`);
    } catch (error) {
      keychainError = error;
      keychain = failed("keychain", keychainTitle, error);
    }
  }
  const checks = [keychain];
  for (const name of names) {
    const id = `secret:${name}`;
    const title = `secret ${name}`;
    const location = found.get(name);
    if (location) checks.push(passed(id, title, `from ${location.origin} ${location.location}`));
    else if (unreadable.has(name)) checks.push(failed(id, title, unreadable.get(name)));
    else if (keychainError)
      checks.push(skipped(id, title, "not found outside the keychain, which cannot be read"));
    else {
      checks.push(
        failed(
          id,
          title,
          new SyncError("secret", `the secret "${name}" is not set`, {
            fix: `store it with \`ilobby-sync secret set ${name}\` as the account that runs the sync, or see docs/secrets.md`,
          }),
        ),
      );
    }
  }
  return checks;
}

function keychainLocation(store: { describe(): string }): SecretLocation {
  return { origin: "keychain", location: store.describe() };
}

async function stateDirCheck(probe: DoctorPorts["stateDir"]): Promise<CheckResult> {
  const title = `state directory ${probe.location}`;
  try {
    await probe.checkWritable();
    return passed("state-dir", title, "writable");
  } catch (error) {
    return failed("state-dir", title, error);
  }
}

// ---- The whole checklist ----

async function ilobbyChecks(config: Config, ports: DoctorPorts, secrets: readonly CheckResult[]) {
  const checks: CheckResult[] = [];
  const targets = resolveTargets(config);
  const tlsByUrl = new Map<string, CheckResult>();
  for (const baseUrl of new Set(targets.map((target) => target.connection.baseUrl))) {
    checks.push(proxyCheck(baseUrl, ports.ilobbyEndpoint.route(baseUrl)));
    const tls = await tlsCheck(baseUrl, ports.ilobbyEndpoint, ports.now());
    tlsByUrl.set(baseUrl, tls);
    checks.push(tls);
  }
  for (const target of targets) {
    const secret = secrets.find((check) => check.id === `secret:${target.secretName}`);
    const title = `token for client ${target.clientId}`;
    if (!isUsable(secret)) {
      checks.push(skipped(`token:${target.name}`, title, `the ${target.secretName} secret is not available`));
    } else if (!isUsable(tlsByUrl.get(target.connection.baseUrl))) {
      checks.push(
        skipped(`token:${target.name}`, title, `the TLS check of ${target.connection.baseUrl} failed`),
      );
    } else {
      checks.push(await tokenCheck(target, () => ports.tokenSource(target)));
    }
  }
  return checks;
}

const NOTIFY_RENEWAL =
  "the service renews its own certificate; if a TLS-inspecting proxy presents this one, ask your network team";

async function notifyChecks(ports: DoctorPorts): Promise<CheckResult[]> {
  const endpoints = (await ports.notifyEndpoints?.()) ?? [];
  const checks: CheckResult[] = [];
  for (const endpoint of endpoints) {
    try {
      const found = await endpoint.check();
      checks.push(
        "tls" in found
          ? assessTls(endpoint.id, endpoint.title, found.tls, ports.now(), NOTIFY_RENEWAL)
          : passed(endpoint.id, endpoint.title, found.summary),
      );
    } catch (error) {
      checks.push(failed(endpoint.id, endpoint.title, error));
    }
  }
  return checks;
}

/** Without a valid config only the config check can run; the rest are listed so the checklist is complete. */
export function doctorWithoutConfig(error: unknown): CheckResult[] {
  const reason = "needs a valid config file";
  return [
    failed("config", "config file", error),
    skipped("secrets", "secrets and keychain", reason),
    skipped("state-dir", "state directory", reason),
    skipped("directory", "directory: DNS, TCP, TLS, bind, searches, attribute coverage", reason),
    skipped("ilobby", "iLobby: proxy, TLS, token", reason),
  ];
}

export async function runDoctor(config: Config, path: string, ports: DoctorPorts): Promise<CheckResult[]> {
  const checks: CheckResult[] = [passed("config", "config file", `${path} is valid`)];
  const secrets = await secretChecks(secretNamesFor(config), ports.secrets);
  checks.push(...secrets, await stateDirCheck(ports.stateDir));
  checks.push(...(await ports.directoryChecks(secrets)));
  checks.push(...(await ilobbyChecks(config, ports, secrets)));
  checks.push(...(await notifyChecks(ports)));
  return checks;
}
