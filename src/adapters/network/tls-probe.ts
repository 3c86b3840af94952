/**
 * Looks at a server the way ilobby-sync's clients connect to it (TLS 1.2 or newer, the same trusted CAs, the same
 * host name) but without hanging up on a bad certificate, so `doctor` can report what it found: the protocol, the
 * chain, whether it is trusted and whether it names the host. LDAP StartTLS and HTTP CONNECT proxies take a few
 * bytes each and are spoken here directly. Failures are Node's own errors (with their codes), for the callers'
 * describe* functions.
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
  connect as tlsConnect,
} from "node:tls";
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

// ---- LDAP StartTLS (RFC 4511 extended operation 1.3.6.1.4.1.1466.20037) ----

const START_TLS_OID = "1.3.6.1.4.1.1466.20037";

function berLength(length: number): Buffer {
  return length < 0x80 ? Buffer.from([length]) : Buffer.from([0x81, length]);
}

function berElement(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), berLength(content.length), content]);
}

/** LDAPMessage { messageID 1, ExtendedRequest { requestName [0] StartTLS OID } } */
const START_TLS_REQUEST = berElement(
  0x30,
  Buffer.concat([
    berElement(0x02, Buffer.from([1])),
    berElement(0x77, berElement(0x80, Buffer.from(START_TLS_OID))),
  ]),
);

/** Tag, content start and end of the BER element at `offset`, or undefined while it is incomplete. */
function readElement(
  buffer: Buffer,
  offset: number,
): { tag: number; start: number; end: number } | undefined {
  const tag = buffer[offset];
  const first = buffer[offset + 1];
  if (tag === undefined || first === undefined) return undefined;
  let length = first;
  let start = offset + 2;
  if (first & 0x80) {
    const bytes = first & 0x7f;
    if (buffer.length < start + bytes) return undefined;
    length = buffer.subarray(start, start + bytes).reduce((total, byte) => total * 256 + byte, 0);
    start += bytes;
  }
  return buffer.length < start + length ? undefined : { tag, start, end: start + length };
}

/** The resultCode of a complete ExtendedResponse message, or undefined while more bytes are needed. */
function startTlsResultCode(buffer: Buffer): number | undefined {
  const message = readElement(buffer, 0);
  if (!message) return undefined;
  const messageId = readElement(buffer, message.start);
  const response = messageId && readElement(buffer, messageId.end);
  const resultCode = response && readElement(buffer, response.start);
  if (response?.tag !== 0x78 || resultCode?.tag !== 0x0a) {
    throw Object.assign(new Error("the server did not answer the StartTLS request"), { code: "EPROTO" });
  }
  return buffer[resultCode.start];
}

function requestStartTls(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = (error?: Error) => {
      socket.off("data", onData);
      socket.off("error", finish);
      socket.setTimeout(0);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const code = startTlsResultCode(received);
        if (code === undefined) return;
        finish(
          code === 0
            ? undefined
            : Object.assign(new Error(`the server refused StartTLS (LDAP result ${code})`), {
                code: "EPROTO",
              }),
        );
      } catch (error) {
        finish(error as Error);
      }
    };
    socket.on("data", onData);
    socket.once("error", finish);
    socket.setTimeout(timeoutMs, () => finish(timeoutError("StartTLS", timeoutMs, "ETIMEDOUT")));
    socket.write(START_TLS_REQUEST);
  });
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

export async function inspectTls(target: TlsTarget): Promise<TlsInspection> {
  let socket: Socket | undefined;
  if (target.proxy)
    socket = await tunnel(target.proxy, target.host, target.port, target.tls, target.timeoutMs);
  else if (target.startTls) {
    socket = await openTcp(target.host, target.port, target.timeoutMs);
    try {
      await requestStartTls(socket, target.timeoutMs);
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }
  const verifiedName = target.tls.servername ?? target.host;
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      ...target.tls,
      ...(socket ? { socket } : { host: target.host, port: target.port }),
      // Accept anything here so the facts can be reported; the verdicts are taken below, as the client takes them.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    secure.setTimeout(target.timeoutMs, () =>
      secure.destroy(timeoutError("the TLS handshake", target.timeoutMs, "ETIMEDOUT")),
    );
    secure.once("error", reject);
    secure.once("secureConnect", () => {
      const leaf = secure.getPeerCertificate(true);
      const inspection: TlsInspection = {
        protocol: secure.getProtocol() ?? "unknown",
        chain: chainOf(leaf),
        authorizationError: secure.authorized ? undefined : String(secure.authorizationError),
        hostnameError: checkServerIdentity(verifiedName, leaf),
      };
      secure.destroy();
      resolve(inspection);
    });
  });
}
