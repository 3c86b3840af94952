/**
 * Access tokens for Microsoft Graph through @azure/msal-node (Microsoft's maintained library): the OAuth2
 * client-credentials grant with a client secret, or with a client assertion signed by the app's certificate.
 * msal's own HTTP client ignores an extra trusted CA (FACTS.md), so it is given ours: undici over the same
 * dispatcher as the Graph reads.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import type {
  ConfidentialClientApplication,
  Configuration,
  INetworkModule,
  NetworkRequestOptions,
  NetworkResponse,
} from "@azure/msal-node";
import { type Dispatcher, fetch } from "undici";
import { errorMessage, SyncError } from "../../core/errors.ts";
import { describeGraphNetworkError, describeTokenError } from "./graph-errors.ts";

export type EntraCredential =
  | { kind: "secret"; secret: string }
  /** `pem` holds the certificate and its unencrypted private key; `file` is named in messages. */
  | { kind: "certificate"; pem: string; file: string };

export interface EntraTokenOptions {
  authorityUrl: string;
  tenantId: string;
  clientId: string;
  graphUrl: string;
  credential: EntraCredential;
  dispatcher: Dispatcher;
  timeoutSeconds: number;
  log?: (message: string) => void;
  /** Told each new token, so output can redact it. */
  onToken?: (token: string) => void;
}

export interface EntraTokens {
  /** A valid token (msal caches it until shortly before it expires); `fresh` skips the cache. */
  get(fresh?: boolean): Promise<{ token: string; expiresOn: Date | null }>;
}

/** The certificate's SHA-256 thumbprint, its base64 DER for `x5c`, and its key as PKCS#8 PEM. */
export function readCertificateCredential(
  pem: string,
  file: string,
): NonNullable<Configuration["auth"]["clientCertificate"]> {
  const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const keyBlock =
    /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(
      pem,
    )?.[0];
  if (certificateBlock === undefined || keyBlock === undefined) {
    throw new SyncError("config", `${file} must hold the certificate and its private key (PEM)`, {
      cause: `found ${certificateBlock ? "a certificate" : "no certificate"} and ${keyBlock ? "a key" : "no private key"}`,
      fix: "concatenate both into one file: cat entra.crt entra.key > entra.pem (the key unencrypted, file mode 0600)",
    });
  }
  let privateKey: string;
  try {
    privateKey = createPrivateKey(keyBlock).export({ type: "pkcs8", format: "pem" }).toString();
  } catch (error) {
    throw new SyncError("config", `the private key in ${file} cannot be read: ${errorMessage(error)}`, {
      cause: /ENCRYPTED/.test(keyBlock)
        ? "the key is encrypted with a passphrase"
        : "the key is damaged or not a PEM key",
      fix: "store the key unencrypted: openssl pkey -in key.pem -out plain.pem (and keep the file mode 0600)",
      error,
    });
  }
  const certificate = new X509Certificate(certificateBlock);
  if (!certificate.checkPrivateKey(createPrivateKey(privateKey))) {
    throw new SyncError("config", `the private key in ${file} does not belong to its certificate`, {
      fix: "put the certificate and the key that was generated with it into one PEM file",
    });
  }
  return {
    thumbprintSha256: certificate.fingerprint256.replaceAll(":", ""),
    privateKey,
    x5c: certificateBlock,
  };
}

/** msal's INetworkModule over undici, so the extra CA, the proxy decision and timeouts apply to tokens too. */
function networkClient(options: EntraTokenOptions, failures: unknown[]): INetworkModule {
  async function send<T>(
    method: "GET" | "POST",
    url: string,
    request: NetworkRequestOptions | undefined,
    timeoutMs: number | undefined,
  ): Promise<NetworkResponse<T>> {
    try {
      const response = await fetch(url, {
        method,
        headers: request?.headers,
        ...(method === "POST" ? { body: request?.body ?? "" } : {}),
        dispatcher: options.dispatcher,
        signal: AbortSignal.timeout(timeoutMs ?? options.timeoutSeconds * 1000),
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        // A proxy's or firewall's HTML page: msal reports a missing field; keep what was said for our message.
        body = {
          error: "non_json_response",
          error_description: `HTTP ${response.status}: ${text.slice(0, 200)}`,
        };
      }
      return { headers, body: body as T, status: response.status };
    } catch (error) {
      failures.push(error);
      throw error;
    }
  }
  return {
    sendGetRequestAsync: (url, request, timeout) => send("GET", url, request, timeout),
    sendPostRequestAsync: (url, request) => send("POST", url, request, undefined),
  };
}

export function createEntraTokens(options: EntraTokenOptions): EntraTokens {
  const authority = `${options.authorityUrl.replace(/\/+$/, "")}/${encodeURIComponent(options.tenantId)}`;
  const networkFailures: unknown[] = [];
  const auth: Configuration["auth"] = {
    clientId: options.clientId,
    authority,
    // The authority is trusted as configured: no instance discovery call to login.microsoftonline.com, which
    // would fail for a sovereign cloud behind a firewall and for the test emulator.
    knownAuthorities: [new URL(options.authorityUrl).host],
    ...(options.credential.kind === "secret"
      ? { clientSecret: options.credential.secret }
      : { clientCertificate: readCertificateCredential(options.credential.pem, options.credential.file) }),
  };
  // msal is loaded on first use: it is most of the bundle's start-up cost, and LDAP-only runs never need it.
  let application: Promise<ConfidentialClientApplication> | undefined;
  const loadApplication = async () => {
    const msal = await import("@azure/msal-node");
    return new msal.ConfidentialClientApplication({
      auth,
      system: {
        networkClient: networkClient(options, networkFailures),
        loggerOptions: {
          // Errors only, and never personal data: msal's messages may carry URLs, not secrets.
          logLevel: msal.LogLevel.Error,
          piiLoggingEnabled: false,
          loggerCallback: (_level, message) => options.log?.(`msal: ${message}`),
        },
      },
    });
  };
  let lastToken: string | undefined;
  const scope = `${options.graphUrl.replace(/\/+$/, "")}/.default`;

  return {
    async get(fresh = false) {
      networkFailures.length = 0;
      let result: Awaited<ReturnType<ConfidentialClientApplication["acquireTokenByClientCredential"]>>;
      try {
        application ??= loadApplication();
        result = await (await application).acquireTokenByClientCredential({
          scopes: [scope],
          skipCache: fresh,
        });
      } catch (error) {
        const networkFailure = networkFailures.at(-1);
        if (networkFailure !== undefined)
          throw describeGraphNetworkError(networkFailure, authority, "directory.authorityUrl");
        throw describeTokenError(error, authority);
      }
      if (result === null || result.accessToken === "") {
        throw new SyncError("directory", `${authority} answered the token request without a token`, {
          fix: "check directory.authorityUrl (it must be the Microsoft identity platform of your cloud)",
        });
      }
      if (result.accessToken !== lastToken) {
        // msal answers from its cache until shortly before expiry: say so only when the token is new.
        lastToken = result.accessToken;
        options.onToken?.(result.accessToken);
        options.log?.(`obtained a Microsoft Graph access token${fresh ? " (a fresh one)" : ""}`);
      }
      return { token: result.accessToken, expiresOn: result.expiresOn };
    },
  };
}
