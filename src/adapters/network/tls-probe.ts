/**
 * Looks at a server the way ilobby-sync's clients connect to it (TLS 1.2 or newer, the same trusted CAs, the same
 * host name) but without hanging up on a bad certificate, so `doctor` can report what it found: the protocol, the
 * chain, whether it is trusted and whether it names the host. StartTLS goes through ldapts, as in a run; HTTPS
 * goes through the run's network path (same proxy decision, same undici tunnel). Failures are the clients' own
 * errors (with their codes), for the callers' describe* functions.
 */
import { lookup } from "node:dns/promises";
import { isIP, connect as netConnect, type Socket } from "node:net";
import {
  type ConnectionOptions,
  checkServerIdentity,
  type DetailedPeerCertificate,
  type PeerCertificate,
  type TLSSocket,
  connect as tlsConnect,
} from "node:tls";
import { Client } from "ldapts";
import type { CertificateFacts } from "../../core/doctor.ts";
import { createInspectingNetworkPath, type NetworkPathOptions } from "./network-path.ts";

export interface TlsTarget {
  host: string;
  port: number;
  /** minVersion, ca and servername exactly as the real client passes them. */
  tls: ConnectionOptions;
  /** LDAP on a plain port: ask for StartTLS first. */
  startTls?: boolean | undefined;
  timeoutMs: number;
}

export interface TlsInspection {
  protocol: string;
  chain: CertificateFacts[];
  /** OpenSSL's verdict on the chain, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE; undefined = trusted. */
  authorizationError?: string | undefined;
  /** Node's host-name check (code ERR_TLS_CERT_ALTNAME_INVALID); undefined = the name matches. */
  hostnameError?: Error | undefined;
}

function timeoutError(what: string, timeoutMs: number, code: string): Error {
  return Object.assign(new Error(`${what}: no answer within ${timeoutMs / 1000} s`), { code });
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function resolveHost(host: string, timeoutMs: number): Promise<string[]> {
  const addresses = await withTimeout(lookup(host, { all: true }), timeoutMs, () =>
    timeoutError(`DNS lookup of ${host}`, timeoutMs, "EAI_AGAIN"),
  );
  return addresses.map((address) => address.address);
}

function openTcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(timeoutError(`connecting to ${host}:${port}`, timeoutMs, "ETIMEDOUT"));
    });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.setTimeout(0);
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

export async function connectTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  (await openTcp(host, port, timeoutMs)).destroy();
}

// ---- LDAP StartTLS ----

/**
 * Upgrades a plain LDAP connection with ldapts, as the real client does, and returns the TLS socket it made: the
 * `createSecureConnection` hook hands ldapts a socket that reports a bad certificate instead of hanging up.
 */
async function startTls(target: TlsTarget, inspect: ConnectionOptions): Promise<TLSSocket> {
  let secure: TLSSocket | undefined;
  const client = new Client({
    url: `ldap://${isIP(target.host) === 6 ? `[${target.host}]` : target.host}:${target.port}`,
    connectTimeout: target.timeoutMs,
    timeout: target.timeoutMs,
    createSecureConnection: ((options: ConnectionOptions) => {
      secure = tlsConnect({ ...options, ...inspect });
      return secure;
    }) as typeof tlsConnect,
  });
  try {
    await withTimeout(client.startTLS({ ...target.tls }), target.timeoutMs, () =>
      timeoutError("StartTLS", target.timeoutMs, "ETIMEDOUT"),
    );
  } catch (error) {
    secure?.destroy();
    await client.unbind().catch(() => {});
    throw error;
  }
  if (!secure) throw new Error("ldapts did not open a TLS connection");
  return secure;
}

// ---- The handshake ----

function distinguishedName(name: PeerCertificate["subject"] | undefined): string {
  if (!name) return "(none)";
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : value}`)
    .join(", ");
}

/** Leaf first, then each issuer as far as it is known (the server's chain or the trusted roots). */
function chainOf(leaf: DetailedPeerCertificate): CertificateFacts[] {
  const chain: CertificateFacts[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = leaf;
  while (current?.fingerprint256 && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push({
      subject: distinguishedName(current.subject),
      issuer: distinguishedName(current.issuer),
      validFrom: new Date(current.valid_from).toISOString(),
      validTo: new Date(current.valid_to).toISOString(),
      subjectAltNames: current.subjectaltname,
    });
    current = current.issuerCertificate;
  }
  return chain;
}

// Accept any certificate here so the facts can be reported; the verdicts are taken as the real client takes them.
const REPORT_ANY_CERTIFICATE: ConnectionOptions = {
  rejectUnauthorized: false,
  checkServerIdentity: () => undefined,
};

function inspect(secure: TLSSocket, verifiedName: string): TlsInspection {
  const leaf = secure.getPeerCertificate(true);
  return {
    protocol: secure.getProtocol() ?? "unknown",
    chain: chainOf(leaf),
    authorizationError: secure.authorized ? undefined : String(secure.authorizationError),
    hostnameError: checkServerIdentity(verifiedName, leaf),
  };
}

export async function inspectTls(target: TlsTarget): Promise<TlsInspection> {
  const verifiedName = target.tls.servername ?? target.host;
  if (target.startTls) {
    const secure = await startTls(target, REPORT_ANY_CERTIFICATE);
    const inspection = inspect(secure, verifiedName);
    secure.destroy();
    return inspection;
  }
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      ...target.tls,
      host: target.host,
      port: target.port,
      ...REPORT_ANY_CERTIFICATE,
    });
    secure.setTimeout(target.timeoutMs, () =>
      secure.destroy(timeoutError("the TLS handshake", target.timeoutMs, "ETIMEDOUT")),
    );
    secure.once("error", reject);
    secure.once("secureConnect", () => {
      const inspection = inspect(secure, verifiedName);
      secure.destroy();
      resolve(inspection);
    });
  });
}

/**
 * Connects to an https:// URL through the network path built from `options` (direct or through the proxy it
 * decides, with its CAs) and reports the server's certificate instead of refusing it. Nothing is sent over the
 * connection: it is closed as soon as the handshake is done, so the request made to open it fails by design.
 */
export async function inspectHttpsTls(
  options: NetworkPathOptions,
  url: string,
  timeoutMs: number,
): Promise<TlsInspection> {
  const verifiedName = new URL(url).hostname.replace(/^\[|\]$/g, "");
  let inspection: TlsInspection | undefined;
  const path = createInspectingNetworkPath({ ...options, timeoutMs }, (socket) => {
    inspection ??= inspect(socket, verifiedName);
  });
  try {
    await path.dispatcher.request({
      origin: new URL(url).origin,
      path: "/",
      method: "HEAD",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (!inspection) throw error; // otherwise the error is INSPECTED: the connection was closed by design
  } finally {
    await path.close().catch(() => {});
  }
  if (!inspection) throw new Error(`no TLS connection was made to ${url}`);
  return inspection;
}
