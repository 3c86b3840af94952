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

/** undici wraps socket and TLS failures as TypeError("fetch failed") with the real error as `cause`. */
export function describeNetworkError(error: unknown, url: string, viaProxy: boolean): SyncError | Error {
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
    return Object.assign(new Error(described), { code: `PROXY_${status}`, hint: fix });
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
    // Retryable: returned as a plain Error so the retry loop sees a network failure.
    return Object.assign(new Error(`cannot connect to ${host} (${code})`), {
      code,
      hint: viaProxy
        ? "check the proxy address in ilobby.proxy or HTTPS_PROXY and that the proxy is running"
        : `${PROXY_HINT}; otherwise check the firewall`,
    });
  }
  if (/timeout|aborted/i.test(`${code} ${message} ${(error as Error).name}`)) {
    return Object.assign(new Error(`${host} did not answer in time`), {
      code: code || "TIMEOUT",
      hint: viaProxy
        ? "check that the proxy is running"
        : `${PROXY_HINT}; otherwise raise ilobby.timeoutSeconds`,
    });
  }
  return Object.assign(new Error(`request to ${host} failed: ${message}`), { code });
}
