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
import { describeHttpError, describeNetworkError, HttpStatusError } from "./http-errors.ts";

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
  if (error instanceof SyncError) return false;
  // Network errors and timeouts: undici reports them as TypeError("fetch failed") with a coded cause.
  return true;
}

export function createIlobbyClient(options: IlobbyClientOptions): IlobbyClient {
  const { dispatcher } = options.network;
  const log = options.log ?? (() => {});
  let token: AccessToken | undefined;

  const url = (path: string) => new URL(path, options.baseUrl).toString();

  async function send(endpoint: "token" | "upload", path: string, init: Parameters<typeof fetch>[1]) {
    try {
      const response = await fetch(url(path), {
        ...init,
        dispatcher,
        signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
      });
      const text = (await response.text()).slice(0, MAX_RESPONSE_TEXT);
      if (!response.ok)
        throw new HttpStatusError(endpoint, response.status, text, response.headers.get("retry-after"));
      return { status: response.status, text };
    } catch (error) {
      if (error instanceof HttpStatusError) throw error;
      const viaProxy = options.network.proxyFor(url(path)) !== undefined;
      throw describeNetworkError(error, url(path), viaProxy);
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
      if (error instanceof SyncError) throw error;
      const hint = (error as { hint?: string }).hint;
      throw new SyncError("ilobby", `${what} failed: ${errorMessage(error)}`, {
        cause:
          what === "upload" ? "the network failed; iLobby may or may not have received the file" : undefined,
        fix: `${hint ? `${hint}; ` : ""}the last-sync state was not advanced, so it is safe to run again`,
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
      send("token", options.tokenPath, {
        method: "POST",
        body,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      }),
    );
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new SyncError("ilobby", "the iLobby token endpoint did not answer with JSON", {
        cause: "ilobby.baseUrl or ilobby.tokenPath may point at something that is not the iLobby API",
        fix: "check ilobby.baseUrl and ilobby.tokenPath",
      });
    }
    if (typeof parsed.access_token !== "string" || parsed.access_token === "") {
      throw new SyncError("ilobby", "the iLobby token answer has no access_token", {
        fix: "check ilobby.baseUrl and ilobby.tokenPath",
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
    const file =
      payload.kind === "text"
        ? new Blob([payload.text], { type: "text/csv" })
        : await openAsBlob(payload.path, { type: "text/csv" }); // streamed from disk, never read whole
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
          return await send("upload", options.uploadPath, {
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
            return send("upload", options.uploadPath, {
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
