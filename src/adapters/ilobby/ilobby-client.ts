/**
 * The iLobby partner API over undici: OAuth2 client-credentials token, then a multipart CSV upload, timeouts, and
 * retries with backoff, over the network path it is given (trusted CAs, TLS >= 1.2, the proxy decision). The
 * token stays in memory and is never used past its expiry.
 */
import { openAsBlob } from "node:fs";
import pRetry from "p-retry";
import { FormData, fetch } from "undici";
import type { AddressBookTarget, Clock, CsvPayload, UploadReceipt } from "../../app/ports.ts";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";
import type { NetworkPath } from "../network/network-path.ts";
import {
  describeHttpError,
  describeNetworkError,
  endpointUrl,
  HttpStatusError,
  isHtmlPage,
  NetworkFailure,
  notIlobbyAnswer,
  refusedRedirect,
} from "./http-errors.ts";

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** No retry starts after this many seconds from the first attempt. */
  maxSeconds: number;
  initialDelayMs: number;
}

export interface IlobbyClientOptions {
  baseUrl: string;
  tokenPath: string;
  uploadPath: string;
  clientId: string;
  clientSecret: string;
  /** The way out (built with ilobby.proxy, ilobby.caFile and the environment); closed with the client. */
  network: NetworkPath;
  timeoutSeconds: number;
  retry: RetryPolicy;
  clock: Clock;
  log?: (message: string) => void;
  /** Told each new token, so output can redact it. */
  onToken?: (token: string) => void;
  /** File name of the multipart part, as the vendor's script sends it. */
  uploadFileName?: string;
}

export interface AccessToken {
  value: string;
  expiresAt: number;
}

/** Tokens are treated as expired this long before the server says, so one never expires mid-request. */
const EXPIRY_MARGIN_MS = 30_000;
const MAX_RESPONSE_TEXT = 2000;

export interface IlobbyClient extends AddressBookTarget {
  getToken(): Promise<AccessToken>;
  close(): Promise<void>;
}

function retryAfterMs(error: unknown, now: number): number | undefined {
  if (!(error instanceof HttpStatusError) || !error.retryAfter) return undefined;
  const seconds = Number(error.retryAfter);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(error.retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isRetryable(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.status === 429 || error.status >= 500;
  return error instanceof NetworkFailure;
}

export function createIlobbyClient(options: IlobbyClientOptions): IlobbyClient {
  const { dispatcher } = options.network;
  const log = options.log ?? (() => {});
  let token: AccessToken | undefined;

  const endpoints = {
    token: endpointUrl(options.baseUrl, options.tokenPath, "ilobby.tokenPath"),
    upload: endpointUrl(options.baseUrl, options.uploadPath, "ilobby.uploadPath"),
  };

  async function send(endpoint: "token" | "upload", init: Parameters<typeof fetch>[1]) {
    const url = endpoints[endpoint];
    try {
      const response = await fetch(url, {
        ...init,
        dispatcher,
        // Both requests are POSTs carrying the secret or the address book: a redirect is reported, never followed.
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
      });
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        throw refusedRedirect(endpoint, url, response.status, response.headers.get("location"));
      }
      const text = (await response.text()).slice(0, MAX_RESPONSE_TEXT);
      if (!response.ok)
        throw new HttpStatusError(endpoint, response.status, text, response.headers.get("retry-after"));
      if (isHtmlPage(text)) throw notIlobbyAnswer(endpoint, url, response.status, text);
      return { status: response.status, text };
    } catch (error) {
      if (error instanceof HttpStatusError || error instanceof SyncError) throw error;
      throw describeNetworkError(error, url, options.network.proxyFor(url) !== undefined);
    }
  }

  /** Runs one request with the retry policy: network errors, 429 and 5xx are retried; other 4xx never. */
  async function withRetries<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const started = options.clock.now();
    try {
      return await pRetry(attempt, {
        retries: options.retry.attempts - 1,
        minTimeout: options.retry.initialDelayMs,
        factor: 2,
        randomize: true, // jitter: many agents behind one proxy must not retry in lock-step
        maxRetryTime: options.retry.maxSeconds * 1000,
        shouldRetry: ({ error }) => isRetryable(error),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!isRetryable(error) || retriesLeft === 0) return;
          const waitMs = retryAfterMs(error, options.clock.now());
          const elapsed = options.clock.now() - started;
          log(`${what}: attempt ${attemptNumber} failed (${errorMessage(error)}); retrying`);
          if (waitMs !== undefined) {
            if (elapsed + waitMs > options.retry.maxSeconds * 1000) {
              throw error; // the server asks us to wait past our time budget: give up now, clearly
            }
            log(`${what}: the server asked to retry after ${Math.round(waitMs / 1000)} s`);
            await new Promise((resolve) => setTimeout(resolve, waitMs));
          }
        },
      });
    } catch (error) {
      if (error instanceof HttpStatusError) throw describeHttpError(error, { clientId: options.clientId });
      // A SyncError says its own cause; anything else that is not the network is a bug, reported as one.
      if (!(error instanceof NetworkFailure)) throw error;
      throw new SyncError("ilobby", `${what} failed: ${error.message}`, {
        cause:
          what === "upload" ? "the network failed; iLobby may or may not have received the file" : undefined,
        fix: `${error.hint ? `${error.hint}; ` : ""}the last-sync state was not advanced, so it is safe to run again`,
        error,
      });
    }
  }

  async function requestToken(): Promise<AccessToken> {
    const body = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: options.clientId,
      client_secret: options.clientSecret,
    });
    const { text } = await withRetries("token request", () =>
      send("token", {
        method: "POST",
        body,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      }),
    );
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SyncError("ilobby", "the iLobby token endpoint did not answer with JSON", {
        cause: "ilobby.baseUrl or ilobby.tokenPath may point at something that is not the iLobby API",
        fix: "check ilobby.baseUrl and ilobby.tokenPath",
      });
    }
    const parsed = (typeof json === "object" && json !== null ? json : {}) as {
      access_token?: unknown;
      expires_in?: unknown;
    };
    if (typeof parsed.access_token !== "string" || parsed.access_token === "") {
      // The shape, never the values: a misnamed field may hold the token itself.
      const shape =
        typeof json === "object" && json !== null && !Array.isArray(json)
          ? `an object with ${Object.keys(json).length ? `the keys ${Object.keys(json).join(", ")}` : "no keys"}`
          : `JSON ${json === null ? "null" : Array.isArray(json) ? "list" : typeof json}`;
      throw new SyncError("ilobby", `the iLobby token answer is ${shape}, without an access_token`, {
        cause:
          "the endpoint at ilobby.baseUrl and ilobby.tokenPath is not iLobby's token endpoint, or it failed",
        fix: "check ilobby.baseUrl and ilobby.tokenPath; the state was not advanced, so it is safe to run again",
      });
    }
    // Without expires_in the token is used for this one request only.
    const lifetimeMs =
      typeof parsed.expires_in === "number" ? parsed.expires_in * 1000 - EXPIRY_MARGIN_MS : 0;
    options.onToken?.(parsed.access_token);
    log("obtained an iLobby access token");
    return { value: parsed.access_token, expiresAt: options.clock.now() + Math.max(0, lifetimeMs) };
  }

  async function validToken(): Promise<string> {
    if (!token || options.clock.now() >= token.expiresAt) token = await requestToken();
    return token.value;
  }

  async function formFor(payload: CsvPayload): Promise<FormData> {
    let file: Blob;
    try {
      file =
        payload.kind === "text"
          ? new Blob([payload.text], { type: "text/csv" })
          : await openAsBlob(payload.path, { type: "text/csv" }); // streamed from disk, never read whole
    } catch (error) {
      // openAsBlob throws at once, without an errno, when the file that was just checked is gone.
      throw new SyncError(
        "config",
        `the CSV file ${(payload as { path: string }).path} can no longer be read`,
        {
          cause: "it was moved, deleted or locked after it was checked",
          fix: "nothing was uploaded and the state was not advanced; run the upload again once the file is in place",
          error,
        },
      );
    }
    const form = new FormData();
    form.append("file", file, options.uploadFileName ?? "adextract.csv");
    return form;
  }

  return {
    getToken: async () => {
      await validToken();
      return token as AccessToken;
    },

    async upload(payload: CsvPayload): Promise<UploadReceipt> {
      let refreshedAfter401 = false;
      const { status, text } = await withRetries("upload", async () => {
        const bearer = await validToken();
        try {
          return await send("upload", {
            method: "POST",
            body: await formFor(payload),
            headers: { authorization: `Bearer ${bearer}` },
          });
        } catch (error) {
          // One fresh token after a 401: the token may have expired or been revoked since it was issued.
          if (error instanceof HttpStatusError && error.status === 401 && !refreshedAfter401) {
            refreshedAfter401 = true;
            token = undefined;
            log("upload: iLobby answered 401; requesting a fresh token once");
            const fresh = await validToken();
            return send("upload", {
              method: "POST",
              body: await formFor(payload),
              headers: { authorization: `Bearer ${fresh}` },
            });
          }
          throw error;
        }
      });
      return { status, message: text };
    },

    async close() {
      token = undefined;
      await options.network
        .close()
        .catch((error: unknown) => log(`closing connections: ${errorCode(error) ?? error}`));
    },
  };
}
