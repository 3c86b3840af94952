/** Turns HTTP and network failures of the iLobby API into messages that say what to do. */
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { OLD_TLS_CODES, UNTRUSTED_CERT_CODES } from "../tls-error-codes.ts";

export class HttpStatusError extends Error {
  constructor(
    readonly endpoint: "token" | "upload",
    readonly status: number,
    readonly body: string,
    readonly retryAfter: string | null,
  ) {
    super(`HTTP ${status}${body ? `: ${body}` : ""}`);
    this.name = "HttpStatusError";
  }
}

/**
 * The URL of an endpoint: a path on `baseUrl`'s own scheme, host and port, never elsewhere. The schema already
 * refuses `//host/...`; this holds for any path that reaches the client.
 */
export function endpointUrl(baseUrl: string, path: string, key: string): string {
  const base = new URL(baseUrl);
  const url = new URL(path, base);
  if (url.origin !== base.origin) {
    throw new SyncError(
      "config",
      `${key} leads to ${url.origin}, not to ilobby.baseUrl's host ${base.host}`,
      {
        cause: "a path starting with // or \\ names another host",
        fix: `set ${key} to a path on ${base.host}, starting with a single /`,
      },
    );
  }
  return url.toString();
}

const SENT_BY = { token: "the client secret", upload: "the address book" } as const;

/**
 * The token request and the upload are never redirected: a 307/308 to http:// once delivered the client secret
 * and the whole CSV in clear text. Where the redirect leads decides the explanation.
 */
export function refusedRedirect(
  endpoint: "token" | "upload",
  requestUrl: string,
  status: number,
  location: string | null,
): SyncError {
  const from = new URL(requestUrl);
  let to: URL | undefined;
  try {
    to = location ? new URL(location, from) : undefined;
  } catch {
    to = undefined;
  }
  const key = endpoint === "token" ? "ilobby.tokenPath" : "ilobby.uploadPath";
  const where = to ? to.toString() : "an address it did not give";
  const cause =
    to?.protocol === "http:"
      ? `following it would send ${SENT_BY[endpoint]} unencrypted`
      : to && to.origin === from.origin
        ? `the ${endpoint} endpoint has moved on the same host`
        : `following it would send ${SENT_BY[endpoint]} to another host; a proxy, web filter or captive portal may be answering instead of iLobby`;
  return new SyncError(
    "ilobby",
    `the iLobby ${endpoint} request was redirected (HTTP ${status}) to ${where}; ilobby-sync does not follow it`,
    {
      cause,
      fix:
        to && to.origin === from.origin && to.protocol === "https:"
          ? `if ${to.pathname} is iLobby's ${endpoint} endpoint, set ${key} to it; the state was not advanced`
          : "check ilobby.baseUrl and the proxy or firewall in between; the state was not advanced, so it is safe to run again",
      data: { status, location },
    },
  );
}

/**
 * iLobby answers with JSON (token) or a line of text (upload). A web page is someone else's answer: a web filter,
 * a captive portal or a proxy's login page, which answer 200 without passing anything on.
 */
export function isHtmlPage(body: string): boolean {
  return /^\s*(<\?xml[^>]*>\s*)?<(!doctype\s+html|html|head|body|title|meta)\b/i.test(body);
}

export function notIlobbyAnswer(
  endpoint: "token" | "upload",
  requestUrl: string,
  status: number,
  body: string,
): SyncError {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
  return new SyncError(
    "ilobby",
    `the iLobby ${endpoint} request was answered with a web page (HTTP ${status}${title ? `, "${title}"` : ""}), not by iLobby`,
    {
      cause: `a web filter, captive portal or proxy on the way to ${new URL(requestUrl).host} answered instead of iLobby`,
      fix:
        endpoint === "upload"
          ? "ask your network team to let this machine reach iLobby; iLobby did not confirm the upload, so the state was not advanced and it is safe to run again"
          : "ask your network team to let this machine reach iLobby, or check ilobby.baseUrl and ilobby.tokenPath",
      data: { status, body },
    },
  );
}

export function describeHttpError(error: HttpStatusError, context: { clientId: string }): SyncError {
  const server = error.body ? ` The server said: ${error.body}` : "";
  if (error.endpoint === "token" && (error.status === 400 || error.status === 401)) {
    return new SyncError("ilobby", `iLobby refused the client credentials (HTTP ${error.status}).${server}`, {
      cause: `the client id "${context.clientId}" or its secret is wrong, or the key was revoked in the portal`,
      fix: "check ilobby.clientId and store the secret again with `ilobby-sync secret set client-secret`",
      error,
      data: { status: error.status },
    });
  }
  if (error.status === 401 || error.status === 403) {
    return new SyncError("ilobby", `iLobby refused the upload (HTTP ${error.status}).${server}`, {
      cause: "the API key may lack address-book permission, or the token was rejected twice",
      fix: "check the API key's permissions in the iLobby portal",
      error,
      data: { status: error.status },
    });
  }
  if (error.status === 429 || error.status >= 500) {
    return new SyncError("ilobby", `iLobby kept failing (HTTP ${error.status}) after all retries.${server}`, {
      cause: "the iLobby service is busy or having problems",
      fix: "nothing was changed by this run; it is safe to run again later",
      error,
      data: { status: error.status },
    });
  }
  return new SyncError(
    "ilobby",
    `iLobby rejected the ${error.endpoint} request (HTTP ${error.status}).${server}`,
    {
      cause: error.endpoint === "upload" ? "the CSV or the request was not accepted" : undefined,
      fix:
        error.endpoint === "upload"
          ? "check the file with `ilobby-sync validate`, and the URL settings ilobby.baseUrl and ilobby.uploadPath"
          : "check ilobby.baseUrl and ilobby.tokenPath",
      error,
      data: { status: error.status },
    },
  );
}

/** Networks that reach the internet only through a proxy fail these ways when none is configured. */
const PROXY_HINT =
  "if this network reaches the internet only through a proxy, set ilobby.proxy (or HTTPS_PROXY)";

/** undici's ProxyAgent reports a refused CONNECT only in a message, which fetch wraps in one or two causes. */
function refusedTunnelStatus(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const status = /Proxy response \((\d{3})\) !== 200/.exec(errorMessage(current))?.[1];
    if (status) return status;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The network itself failed (connection, timeout, reset): retried, and reported as a network failure. */
export class NetworkFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "NetworkFailure";
  }
}

/** undici wraps socket and TLS failures as TypeError("fetch failed") with the real error as `cause`. */
export function describeNetworkError(
  error: unknown,
  url: string,
  viaProxy: boolean,
): SyncError | NetworkFailure {
  const root = (error as { cause?: unknown }).cause ?? error;
  const code = errorCode(root) ?? errorCode(error) ?? "";
  const message = errorMessage(root);
  const host = new URL(url).host;
  const proxyStatus = refusedTunnelStatus(error);
  if (proxyStatus) {
    const status = Number(proxyStatus);
    const described = `the proxy refused the tunnel to ${host} (HTTP ${status})`;
    const fix =
      status === 407
        ? "check the user name and password in the proxy URL (ilobby.proxy or HTTPS_PROXY)"
        : "check that the proxy allows HTTPS (CONNECT) to the iLobby host";
    if (status === 407 || status === 403) {
      return new SyncError("ilobby", described, { fix, data: { proxyStatus: status } });
    }
    // Other refusals (a busy or failing proxy) are worth a retry.
    return new NetworkFailure(described, `PROXY_${status}`, fix);
  }
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return new SyncError("ilobby", `the certificate presented for ${host} is not trusted (${code})`, {
      cause: viaProxy
        ? "a TLS-inspecting proxy or firewall re-signs traffic with its own CA"
        : "a TLS-inspecting firewall or an unknown CA signed the certificate",
      fix: "set ilobby.caFile to that CA's certificate (PEM); your network team can export it",
    });
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new SyncError("ilobby", `the certificate for ${host} does not match the host name`, {
      cause: viaProxy ? "the TLS-inspecting proxy's certificate does not name this host" : undefined,
      fix: "check the host in ilobby.baseUrl (use the name the certificate carries, not an IP address)",
    });
  }
  if (code === "CERT_HAS_EXPIRED") {
    return new SyncError("ilobby", `the certificate presented for ${host} has expired`, {
      cause: viaProxy ? "a TLS-inspecting proxy may present its own, expired certificate" : undefined,
      fix: "check this machine's clock; if a proxy or firewall presents the certificate, ask your network team to renew it",
    });
  }
  if (OLD_TLS_CODES.has(code)) {
    return new SyncError("ilobby", `${host} does not offer TLS 1.2 or newer`, {
      fix: "check ilobby.baseUrl; iLobby requires TLS 1.2",
    });
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new SyncError("ilobby", `cannot resolve ${host}`, {
      cause: viaProxy
        ? "the proxy host name does not resolve"
        : "no DNS for the iLobby host from this machine",
      fix: viaProxy ? "check the proxy host in ilobby.proxy or HTTPS_PROXY" : `check DNS; ${PROXY_HINT}`,
    });
  }
  if (
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "ECONNREFUSED" ||
    code === "ETIMEDOUT" ||
    code === "EHOSTUNREACH" ||
    code === "ENETUNREACH"
  ) {
    return new NetworkFailure(
      `cannot connect to ${host} (${code})`,
      code,
      viaProxy
        ? "check the proxy address in ilobby.proxy or HTTPS_PROXY and that the proxy is running"
        : `${PROXY_HINT}; otherwise check the firewall`,
    );
  }
  if (/timeout|aborted/i.test(`${code} ${message} ${(error as Error).name}`)) {
    return new NetworkFailure(
      `${host} did not answer in time`,
      code || "TIMEOUT",
      viaProxy ? "check that the proxy is running" : `${PROXY_HINT}; otherwise raise ilobby.timeoutSeconds`,
    );
  }
  return new NetworkFailure(`request to ${host} failed: ${message}`, code);
}
