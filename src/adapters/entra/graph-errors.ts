/** Turns identity-platform, Graph and network failures into messages that say what happened and what to do. */
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { OLD_TLS_CODES, UNTRUSTED_CERT_CODES } from "../tls-error-codes.ts";

export const USER_READ_ALL = "User.Read.All";
export const GROUP_MEMBER_READ_ALL = "GroupMember.Read.All";

/** Where an administrator grants an application permission (the README and docs/entra-id.md say the same). */
export function grantPermissionFix(clientId: string, permissions: readonly string[]): string {
  return (
    `in the Entra admin center open App registrations > ${clientId} > API permissions > Add a permission > ` +
    `Microsoft Graph > Application permissions, add ${permissions.join(" and ")}, then "Grant admin consent"`
  );
}

/** A Graph answer other than 2xx, with Graph's own error code and message. */
export class GraphStatusError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly graphMessage: string,
    readonly retryAfter: string | null,
    readonly url: string,
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ""}${graphMessage ? `: ${graphMessage}` : ""}`);
    this.name = "GraphStatusError";
  }
}

/** What a request was for, so a refusal can name the permission it needs and the setting that names it. */
export interface GraphRequestPurpose {
  what: string;
  permissions: readonly string[];
  /** A 404 here means this setting names something that does not exist. */
  notFoundSetting?: string;
}

export function describeGraphStatus(
  error: GraphStatusError,
  purpose: GraphRequestPurpose,
  clientId: string,
): SyncError {
  const said = error.graphMessage ? ` Graph said: ${error.graphMessage}` : "";
  const data = { status: error.status, graphCode: error.code };
  if (error.status === 403) {
    return new SyncError(
      "directory",
      `Microsoft Graph refused ${purpose.what} (HTTP 403 ${error.code}): the app lacks the permission ${purpose.permissions.join(" + ")}.`,
      {
        cause: `the app registration ${clientId} has not been granted ${purpose.permissions.join(" and ")} (application permissions, with admin consent)`,
        fix: `${grantPermissionFix(clientId, purpose.permissions)}; nothing was uploaded`,
        error,
        data: { ...data, missingPermissions: purpose.permissions },
      },
    );
  }
  if (error.status === 401) {
    return new SyncError(
      "directory",
      `Microsoft Graph refused the access token for ${purpose.what} (HTTP 401).${said}`,
      {
        cause:
          "the token was rejected twice: it may be for another cloud (graphUrl and authorityUrl must match) or revoked",
        fix: "check directory.graphUrl and directory.authorityUrl, then run `ilobby-sync doctor`; nothing was uploaded",
        error,
        data,
      },
    );
  }
  if (error.status === 404 && purpose.notFoundSetting !== undefined) {
    return new SyncError("config", `${purpose.what}: not found in the tenant (HTTP 404).${said}`, {
      cause: `${purpose.notFoundSetting} names an object id that does not exist (or was deleted)`,
      fix: `check ${purpose.notFoundSetting}: use the group's Object ID from the Entra admin center (Groups > the group > Overview)`,
      error,
      data,
    });
  }
  if (error.status === 429 || error.status >= 500) {
    return new SyncError(
      "directory",
      `Microsoft Graph kept failing ${purpose.what} (HTTP ${error.status}) after the retries.${said}`,
      {
        cause: error.status === 429 ? "the tenant is being throttled" : "Microsoft Graph is having problems",
        fix: "nothing was uploaded and the last upload was kept; it is safe to run again later",
        error,
        data,
      },
    );
  }
  return new SyncError(
    "directory",
    `Microsoft Graph refused ${purpose.what} (HTTP ${error.status}).${said}`,
    {
      cause: error.status === 400 ? "a mapped attribute may not be a property of a Graph user" : undefined,
      fix:
        error.status === 400
          ? "check that every attribute in `mapping` is a Microsoft Graph user property (givenName, surname, jobTitle, ...); nothing was uploaded"
          : "check directory.graphUrl; nothing was uploaded",
      error,
      data,
    },
  );
}

/** undici wraps socket and TLS failures as TypeError("fetch failed") with the real error as `cause`. */
export function describeGraphNetworkError(error: unknown, url: string, setting: string): SyncError {
  const root = (error as { cause?: unknown }).cause ?? error;
  const code = errorCode(root) ?? errorCode(error) ?? "";
  const host = new URL(url).host;
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return new SyncError("directory", `the certificate presented for ${host} is not trusted (${code})`, {
      cause:
        "a TLS-inspecting proxy or firewall re-signs traffic with its own CA, or an unknown CA signed it",
      fix: "set directory.caFile to that CA's certificate (PEM); your network team can export it",
      error,
    });
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new SyncError("directory", `the certificate for ${host} does not match the host name`, {
      fix: `check the host in ${setting}`,
      error,
    });
  }
  if (OLD_TLS_CODES.has(code)) {
    return new SyncError("directory", `${host} offers no TLS version this tool accepts (1.2 or newer)`, {
      fix: `check ${setting}`,
      error,
    });
  }
  const timedOut =
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    /timeout|aborted/i.test(errorMessage(root));
  return new SyncError(
    "directory",
    `could not reach ${host}: ${timedOut ? "timed out" : errorMessage(root)}${code && !timedOut ? ` (${code})` : ""}`,
    {
      cause: timedOut
        ? "the network or Microsoft is slow, or a firewall drops the traffic"
        : "DNS, a firewall or a proxy blocks the way out",
      fix: `check ${setting}, the network and HTTPS_PROXY/NO_PROXY (raise directory.timeoutSeconds when it is only slow); nothing was uploaded`,
      error,
    },
  );
}

/** Identity-platform error codes (AADSTSnnnn) an administrator can act on, with the setting to fix. */
const TOKEN_ERRORS: ReadonlyArray<{
  codes: readonly number[];
  cause: string;
  fix: string;
  category?: "config";
}> = [
  {
    codes: [90002, 900023],
    cause: "directory.tenantId names no tenant in this cloud",
    fix: "set directory.tenantId to the tenant's primary domain (contoso.onmicrosoft.com) or its Directory (tenant) ID",
    category: "config",
  },
  {
    codes: [700016],
    cause: "directory.clientId names no application in this tenant",
    fix: "set directory.clientId to the Application (client) ID shown on the app registration's Overview page",
    category: "config",
  },
  {
    codes: [7000215, 7000222],
    cause: "the client secret is wrong or has expired",
    fix: "create a new client secret (App registrations > Certificates & secrets) and store it with `ilobby-sync secret set entra-client-secret`",
  },
  {
    codes: [700027, 700024, 7000274],
    cause:
      "the certificate in directory.certificateFile is not the one uploaded to the app registration, or its key does not match",
    fix: "upload the certificate (public part) under App registrations > Certificates & secrets, or point directory.certificateFile at the matching PEM",
  },
];

/** msal's ServerError carries the identity platform's `error` and `error_description`. */
export function describeTokenError(error: unknown, authority: string): SyncError {
  const message = errorMessage(error);
  const aadsts = Number(/AADSTS(\d+)/.exec(message)?.[1] ?? Number.NaN);
  const known = TOKEN_ERRORS.find((entry) => entry.codes.includes(aadsts));
  const firstLine = message.split(/\r?\n/)[0] ?? message;
  if (known !== undefined) {
    return new SyncError(
      known.category ?? "directory",
      `Microsoft Entra ID refused the token request: ${firstLine}`,
      {
        cause: known.cause,
        fix: `${known.fix}; nothing was uploaded`,
        error,
        data: { aadsts },
      },
    );
  }
  return new SyncError("directory", `could not get an access token from ${authority}: ${firstLine}`, {
    cause: "directory.authorityUrl, tenantId or clientId is wrong, or the identity platform is unreachable",
    fix: "run `ilobby-sync doctor`; check directory.authorityUrl, tenantId, clientId and the credential; nothing was uploaded",
    error,
  });
}
