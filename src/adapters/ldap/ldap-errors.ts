/**
 * Turns ldapts and TLS errors into messages that tell an administrator what happened and what to do. LDAP results
 * are recognised by ldapts's typed errors (one class per result code); AD puts the reason for a failed bind in the
 * diagnostic text as "data NNN" (hex sub-codes).
 */
import {
  ConfidentialityRequiredError,
  InvalidCredentialsError,
  InvalidDNSyntaxError,
  NoSuchObjectError,
  StrongAuthRequiredError,
  TimeLimitExceededError,
} from "ldapts";
import { describeBindNameProblem } from "../../core/bind-name.ts";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import { OLD_TLS_CODES, UNTRUSTED_CERT_CODES } from "../tls-error-codes.ts";

const BIND_SUBCODES: Record<string, { cause: string; fix: string }> = {
  "525": {
    cause: "the bind account does not exist",
    fix: "check directory.bindDn: a full DN, a UPN (svc@corp.example.com) or DOMAIN\\user",
  },
  "52e": {
    cause: "the bind password is wrong (or the bindDn names a different account)",
    fix: "store the right password with `ilobby-sync secret set bind-password` and check directory.bindDn",
  },
  "530": {
    cause: "the bind account may not log on at this time",
    fix: "check the account's logon hours in AD",
  },
  "531": {
    cause: "the bind account may not log on from this computer",
    fix: "check the account's 'Log On To' list",
  },
  "532": {
    cause: "the bind account's password has expired",
    fix: "reset it in AD, then `ilobby-sync secret set bind-password`",
  },
  "533": {
    cause: "the bind account is disabled in AD",
    fix: "enable the service account or use another one",
  },
  "701": { cause: "the bind account has expired", fix: "extend the account's expiry date in AD" },
  "773": {
    cause: "the bind account must change its password",
    fix: "set a new password in AD and store it again",
  },
  "775": {
    cause: "the bind account is locked out",
    fix: "unlock it in AD (too many wrong passwords were tried)",
  },
};

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "EPIPE",
]);

/** Errors where another domain controller may do better: try the next URL. */
export function isConnectionFailure(error: unknown): boolean {
  const code = errorCode(error) ?? "";
  return (
    NETWORK_CODES.has(code) ||
    UNTRUSTED_CERT_CODES.has(code) ||
    OLD_TLS_CODES.has(code) ||
    code === "ERR_TLS_CERT_ALTNAME_INVALID" ||
    code === "CERT_HAS_EXPIRED" ||
    /Connection timeout|socket hang up|Connection closed/i.test(errorMessage(error))
  );
}

export function describeConnectError(error: unknown, url: string, caFile: string | undefined): SyncError {
  const code = errorCode(error) ?? "";
  const message = errorMessage(error);
  const data = { url, code };
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return new SyncError(
      "directory",
      `${url}: the domain controller's certificate is not trusted (${code})`,
      {
        cause: caFile
          ? `the certificate was not issued by the CA in directory.caFile (${caFile})`
          : "the certificate was issued by your enterprise CA, which Node does not know",
        fix: "set directory.caFile to your enterprise root CA certificate (PEM); export it with `certutil -ca.cert ca.cer` on a CA server or from the DC's certificate chain",
        error,
        data,
      },
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new SyncError("directory", `${url}: the certificate does not match the host name (${message})`, {
      cause: "the URL uses a name or IP address that is not in the certificate's subject alternative names",
      fix: "use the domain controller's DNS name exactly as in its certificate (e.g. ldaps://dc1.corp.example.com)",
      error,
      data,
    });
  }
  if (code === "CERT_HAS_EXPIRED") {
    return new SyncError("directory", `${url}: the domain controller's certificate has expired`, {
      fix: "renew the DC's LDAPS certificate (autoenrolment or the Certificates MMC)",
      error,
      data,
    });
  }
  if (OLD_TLS_CODES.has(code) || /unsupported protocol|protocol version/i.test(message)) {
    return new SyncError("directory", `${url}: the domain controller does not offer TLS 1.2 or newer`, {
      cause: "the server only speaks TLS 1.0/1.1, which are insecure and refused",
      fix: "enable TLS 1.2 on the domain controller (Schannel settings), or use another DC",
      error,
      data,
    });
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new SyncError("directory", `${url}: the host name does not resolve`, {
      fix: "check the name in directory.url and this machine's DNS settings",
      error,
      data,
    });
  }
  if (NETWORK_CODES.has(code) || /Connection timeout/i.test(message)) {
    return new SyncError("directory", `${url}: cannot connect (${code || message})`, {
      cause:
        "the domain controller is down, or a firewall blocks the port (636 for LDAPS, 3269 for the Global Catalog)",
      fix: "check that the DC is reachable from this machine on that port, or list another DC in directory.url",
      error,
      data,
    });
  }
  return new SyncError("directory", `${url}: ${message}`, { error, data });
}

export function describeBindError(error: unknown, url: string, bindDn: string): SyncError {
  if (error instanceof InvalidCredentialsError) {
    const subcode = /data ([0-9a-f]{3})/i.exec(error.message)?.[1]?.toLowerCase();
    // A name AD cannot parse as an account looks like a wrong password (52e) or a missing account (525).
    const unusableName = subcode === "52e" || subcode === "525" ? describeBindNameProblem(bindDn) : undefined;
    const known = unusableName ?? (subcode ? BIND_SUBCODES[subcode] : undefined);
    return new SyncError("directory", `${url}: bind as "${bindDn}" was refused (invalid credentials)`, {
      cause: known?.cause ?? "the account or the password is wrong",
      fix:
        known?.fix ??
        "check directory.bindDn (DN, UPN or DOMAIN\\user) and store the password with `ilobby-sync secret set bind-password`",
      error,
      data: { url, subcode },
    });
  }
  if (error instanceof StrongAuthRequiredError || error instanceof ConfidentialityRequiredError) {
    return new SyncError("directory", `${url}: the server requires an encrypted connection for binds`, {
      fix: "use an ldaps:// URL, or set directory.startTls: true for ldap:// URLs",
      error,
    });
  }
  return describeConnectError(error, url, undefined);
}

export function describeSearchError(error: unknown, url: string, base: string): SyncError {
  if (error instanceof NoSuchObjectError) {
    // AD names the deepest part of the DN that does exist: where the typo starts.
    const bestMatch = /best match of:\s*'([^']*)'/.exec(error.message)?.[1];
    return new SyncError("directory", `search base "${base}" does not exist on ${url}`, {
      cause: `a typo in the OU's distinguished name, or the OU was renamed or moved${
        bestMatch ? ` (the directory has "${bestMatch}", but nothing below it by that name)` : ""
      }`,
      fix: "check directory.searchBases; copy the DN from the OU's distinguishedName attribute in AD",
      error,
    });
  }
  if (error instanceof InvalidDNSyntaxError) {
    return new SyncError("directory", `search base "${base}" is not a distinguished name`, {
      fix: "write each search base as a DN, e.g. OU=Staff,DC=corp,DC=example,DC=com (copy it from the OU's distinguishedName attribute)",
      error,
    });
  }
  if (error instanceof TimeLimitExceededError) {
    return new SyncError("directory", `the search under "${base}" exceeded directory.timeoutSeconds`, {
      fix: "raise directory.timeoutSeconds or narrow the search bases; nothing was uploaded",
      error,
    });
  }
  return new SyncError(
    "directory",
    `the search under "${base}" on ${url} failed part-way: ${errorMessage(error)}`,
    {
      cause: "the connection to the domain controller was lost or the server refused the search",
      fix: "nothing was uploaded (a partial result would disable hosts); run again when the DC is reachable",
      error,
    },
  );
}
