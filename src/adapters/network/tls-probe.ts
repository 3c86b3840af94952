/**
 * Looks at a server the way ilobby-sync's clients connect to it (TLS 1.2 or newer, the same trusted CAs, the same
 * host name) but without hanging up on a bad certificate, so `doctor` can report what it found: the protocol, the
 * chain, whether it is trusted and whether it names the host. StartTLS goes through ldapts, as in a run; an
 * HTTP CONNECT proxy takes one request, spoken here with node:http. Failures are Node's own errors (with their
 * codes), for the callers' describe* functions.
 */
import { lookup } from "node:dns/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
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

export interface TlsTarget {
  host: string;
  port: number;
  /** minVersion, ca and servername exactly as the real client passes them. */
  tls: ConnectionOptions;
  /** LDAP on a plain port: ask for StartTLS first. */
  startTls?: boolean | undefined;
  /** HTTP(S) proxy to tunnel through with CONNECT. */
  proxy?: string | undefined;
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

// ---- HTTP CONNECT proxy ----

function tunnel(proxyUrl: string, host: string, port: number, tls: ConnectionOptions, timeoutMs: number) {
  const proxy = new URL(proxyUrl);
  const secure = proxy.protocol === "https:";
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const credentials = proxy.username
    ? `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`
    : undefined;
  return new Promise<Socket>((resolve, reject) => {
    const request = (secure ? httpsRequest : httpRequest)({
      host: proxy.hostname.replace(/^\[|\]$/g, ""),
      port: Number(proxy.port) || (secure ? 443 : 80),
      method: "CONNECT",
      path: authority,
      headers: {
        host: authority,
        ...(credentials
          ? { "proxy-authorization": `Basic ${Buffer.from(credentials).toString("base64")}` }
          : {}),
      },
      timeout: timeoutMs,
      ...(secure ? { ca: tls.ca, minVersion: tls.minVersion } : {}),
    });
    request.once("connect", (response, socket) => {
      if (response.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(
        Object.assign(
          new Error(`the proxy refused the tunnel to ${authority} (HTTP ${response.statusCode})`),
          {
            code: "ERR_PROXY_TUNNEL",
            status: response.statusCode,
          },
        ),
      );
    });
    request.once("timeout", () => request.destroy(timeoutError("the proxy", timeoutMs, "ETIMEDOUT")));
    request.once("error", reject);
    request.end();
  });
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
  const socket = target.proxy
    ? await tunnel(target.proxy, target.host, target.port, target.tls, target.timeoutMs)
    : undefined;
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      ...target.tls,
      ...(socket ? { socket } : { host: target.host, port: target.port }),
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
