/**
 * A local emulator of the iLobby partner API (token + address-book CSV upload) for tests, the demo and
 * benchmarks. HTTPS only, on 127.0.0.1, with a certificate from its own throw-away CA so clients verify TLS
 * for real. Faults can be queued to exercise the client's error handling.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import busboy from "busboy";
import { startHttpsTestServer } from "../support/https-test-server.ts";
import { AddressBook, type AddressBookEntry, formatSummary } from "./address-book.js";
import { handleAdminRequest } from "./admin-api.js";
import { type CsvReadResult, readCsvUpload } from "./csv-upload.js";
import {
  drain,
  htmlReply,
  jsonReply,
  mediaType,
  messageOf,
  type Reply,
  readSmallBody,
  sendReply,
  textReply,
} from "./http-helpers.js";

export type { AddressBookEntry } from "./address-book.js";

export interface EmulatorOptions {
  /** clientId -> secret */
  clients?: Record<string, string>;
  /** default 3600 */
  tokenTtlSeconds?: number;
  /** default 0: an ephemeral port */
  port?: number;
  /** Where the CA and server certificate go; default a new temp dir, removed on stop(). */
  dir?: string;
  /** Lifetime of the server certificate; default 30 days (pki.ts), which `doctor` reports as expiring soon. */
  certificateDays?: number;
}

export type Fault =
  | { kind: "status"; status: number; body?: string; retryAfterSeconds?: number }
  /** Handle the request normally (an upload does change the book) but hold the answer back for delayMs. */
  | { kind: "slow"; delayMs: number }
  /** Destroy the socket once the first part of the request body has arrived. */
  | { kind: "reset" }
  /** Upload: treat the presented token as expired (401). Token: hand out a token that is already expired. */
  | { kind: "expire-token" }
  /** Answer with a redirect (301, 302, 303, 307 or 308) to `location`, as a proxy or a moved server would. */
  | { kind: "redirect"; status: number; location: string }
  /** Answer 200 with an HTML page, as a web filter or captive portal does instead of iLobby; the book is unchanged. */
  | { kind: "html"; body?: string };

export type FaultEndpoint = "token" | "upload";

export interface RecordedRequest {
  endpoint: FaultEndpoint | "other";
  method: string;
  path: string;
  /** 0 when no answer was sent (a "reset" fault, or the client went away). */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Date.now() when the request arrived */
  at: number;
  /** Token requests: the client_id sent; uploads: the client the token belongs to. */
  clientId?: string;
  /** Token requests: the form as sent, secrets included (tests assert on them). */
  form?: Record<string, string>;
  csvBytes?: number;
  /** SHA-256 (hex) of the CSV bytes received. */
  csvSha256?: string;
  rows?: number;
  uploadFilename?: string;
  uploadFieldName?: string;
}

export interface Emulator {
  /** https://127.0.0.1:PORT */
  url: string;
  caFile: string;
  caPem: string;
  /** Required in the x-emulator-admin header by the admin API under /_emulator/. */
  adminKey: string;
  requests: RecordedRequest[];
  /** Sorted by EMAIL lower-case. */
  addressBook(clientId: string): AddressBookEntry[];
  /** Replaces the client's whole book. */
  seedAddressBook(clientId: string, entries: AddressBookEntry[]): void;
  setClient(clientId: string, secret: string): void;
  /** Applies `fault` to the next `times` requests to `endpoint` (default 1). */
  queueFault(endpoint: FaultEndpoint, fault: Fault, times?: number): void;
  clearFaults(): void;
  expireAllTokens(): void;
  /** Back to a fresh start: no books, recorded requests, faults or tokens (clients stay). */
  reset(): void;
  stop(): Promise<void>;
}

const TOKEN_PATH = "/auth/connect/token";
const UPLOAD_PATH = "/addressbook/uploadcsv";
const ADMIN_PREFIX = "/_emulator/";
const TOKEN_BODY_LIMIT_BYTES = 64 * 1024;

const CAPTIVE_PORTAL_PAGE =
  "<!DOCTYPE html>\n<html><head><title>Access blocked</title></head>" +
  "<body><h1>This site is blocked by your organisation's web filter</h1></body></html>\n";

type TokenCheck = { clientId: string } | { clientId?: string; problem: string };

class IlobbyEmulator implements Emulator {
  readonly requests: RecordedRequest[] = [];
  readonly adminKey = randomBytes(24).toString("base64url");
  url = "";
  readonly #clients: Map<string, string>;
  readonly #tokenTtlMs: number;
  readonly #tokens = new Map<string, { clientId: string; expiresAt: number }>();
  readonly #books = new Map<string, AddressBook>();
  readonly #faults: Record<FaultEndpoint, Fault[]> = { token: [], upload: [] };
  /** Aborts held-back "slow" answers on stop(). */
  readonly #stopping = new AbortController();

  constructor(
    readonly caFile: string,
    readonly caPem: string,
    options: EmulatorOptions,
    readonly stop: () => Promise<void>,
  ) {
    this.#clients = new Map(Object.entries(options.clients ?? {}));
    this.#tokenTtlMs = (options.tokenTtlSeconds ?? 3600) * 1000;
  }

  addressBook(clientId: string): AddressBookEntry[] {
    return this.#book(clientId).entries();
  }

  seedAddressBook(clientId: string, entries: AddressBookEntry[]): void {
    this.#book(clientId).replace(entries);
  }

  setClient(clientId: string, secret: string): void {
    this.#clients.set(clientId, secret);
  }

  queueFault(endpoint: FaultEndpoint, fault: Fault, times = 1): void {
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError(`times must be a positive integer: ${times}`);
    for (let i = 0; i < times; i++) this.#faults[endpoint].push(fault);
  }

  clearFaults(): void {
    this.#faults.token.length = 0;
    this.#faults.upload.length = 0;
  }

  expireAllTokens(): void {
    for (const token of this.#tokens.values()) token.expiresAt = 0;
  }

  reset(): void {
    this.requests.length = 0;
    this.#books.clear();
    this.#tokens.clear();
    this.clearFaults();
  }

  abortPendingReplies(): void {
    this.#stopping.abort();
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "https://127.0.0.1").pathname;
    if (path.startsWith(ADMIN_PREFIX)) {
      await handleAdminRequest(this, request, response, path.slice(ADMIN_PREFIX.length));
      return;
    }
    const endpoint = path === TOKEN_PATH ? "token" : path === UPLOAD_PATH ? "upload" : "other";
    const record: RecordedRequest = {
      endpoint,
      method: request.method ?? "",
      path,
      status: 0,
      headers: { ...request.headers },
      at: Date.now(),
    };
    this.requests.push(record);
    try {
      const reply = await this.#answer(endpoint, request, record);
      if (reply === undefined) return;
      record.status = reply.status;
      sendReply(response, reply);
    } catch (error) {
      if (request.socket.destroyed) return; // the client went away (or stop()): nobody to answer
      record.status = 500;
      sendReply(response, textReply(500, `Emulator error: ${messageOf(error)}`));
    }
  }

  /** Works out the answer, applying the next queued fault; undefined when the connection was dropped. */
  async #answer(
    endpoint: RecordedRequest["endpoint"],
    request: IncomingMessage,
    record: RecordedRequest,
  ): Promise<Reply | undefined> {
    if (endpoint === "other") {
      await drain(request);
      return textReply(404);
    }
    const fault = this.#faults[endpoint].shift();
    if (fault?.kind === "reset") {
      await firstBodyChunk(request);
      request.socket.destroy();
      return undefined;
    }
    if (fault?.kind === "status") {
      await drain(request);
      const retryAfter = fault.retryAfterSeconds;
      return textReply(
        fault.status,
        fault.body,
        retryAfter === undefined ? {} : { "retry-after": `${retryAfter}` },
      );
    }
    if (fault?.kind === "redirect") {
      await drain(request);
      return textReply(fault.status, undefined, { location: fault.location });
    }
    if (fault?.kind === "html") {
      await drain(request);
      return htmlReply(200, fault.body ?? CAPTIVE_PORTAL_PAGE);
    }
    if (request.method !== "POST") {
      await drain(request);
      return textReply(405, undefined, { allow: "POST" });
    }
    const expireToken = fault?.kind === "expire-token";
    const reply =
      endpoint === "token"
        ? await this.#issueToken(request, record, expireToken)
        : await this.#upload(request, record, expireToken);
    if (fault?.kind === "slow") await delay(fault.delayMs, undefined, { signal: this.#stopping.signal });
    return reply;
  }

  async #issueToken(
    request: IncomingMessage,
    record: RecordedRequest,
    alreadyExpired: boolean,
  ): Promise<Reply> {
    const body = await readSmallBody(request, TOKEN_BODY_LIMIT_BYTES);
    if (body === undefined) return oauthError(413, "invalid_request", "the body is too large");
    if (mediaType(request) !== "application/x-www-form-urlencoded") {
      return oauthError(400, "invalid_request", "expected an application/x-www-form-urlencoded body");
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    const clientId = form.client_id;
    record.form = form;
    record.clientId = clientId;
    if (clientId === undefined || form.client_secret === undefined) return oauthError(401, "invalid_client");
    if (this.#clients.get(clientId) !== form.client_secret) return oauthError(401, "invalid_client");
    if (form.grant_type === undefined) return oauthError(400, "invalid_request", "grant_type is missing");
    if (form.grant_type !== "client_credentials") return oauthError(400, "unsupported_grant_type");

    const token = randomBytes(32).toString("base64url");
    this.#tokens.set(token, { clientId, expiresAt: alreadyExpired ? 0 : Date.now() + this.#tokenTtlMs });
    return jsonReply(
      200,
      { access_token: token, expires_in: Math.round(this.#tokenTtlMs / 1000), token_type: "Bearer" },
      { "cache-control": "no-store", pragma: "no-cache" },
    );
  }

  #checkToken(authorization: string | undefined, forceExpired: boolean): TokenCheck {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
    if (token === undefined) return { problem: "missing bearer token" };
    const issued = this.#tokens.get(token);
    if (issued === undefined) return { problem: "invalid token" };
    if (forceExpired || issued.expiresAt <= Date.now()) {
      return { clientId: issued.clientId, problem: "token expired" };
    }
    return { clientId: issued.clientId };
  }

  async #upload(request: IncomingMessage, record: RecordedRequest, forceExpired: boolean): Promise<Reply> {
    const check = this.#checkToken(request.headers.authorization, forceExpired);
    record.clientId = check.clientId;
    if ("problem" in check) {
      await drain(request);
      return textReply(401, `Unauthorized: ${check.problem}`, {
        "www-authenticate": `Bearer error="invalid_token", error_description="${check.problem}"`,
      });
    }
    if (mediaType(request) !== "multipart/form-data") {
      await drain(request);
      return textReply(400, 'Expected a multipart/form-data upload with a file part named "file"');
    }

    const sync = this.#book(check.clientId).beginUpload();
    let fileParts = 0;
    let csv: Promise<CsvReadResult | Error> | undefined;
    let form: busboy.Busboy;
    try {
      form = busboy({ headers: request.headers });
    } catch (error) {
      await drain(request);
      return textReply(400, `Malformed multipart/form-data request: ${messageOf(error)}`);
    }
    form.on("file", (fieldName, stream, info) => {
      fileParts++;
      const isFirstPart = fileParts === 1;
      if (isFirstPart) {
        record.uploadFieldName = fieldName;
        record.uploadFilename = info.filename;
      }
      if (!isFirstPart || fieldName !== "file") {
        stream.resume(); // refused below, once the whole body is in
        return;
      }
      // Settles to a value, never rejects: nobody awaits it until the whole body is in.
      csv = readCsvUpload(stream, (row, line) => sync.add(row, line)).catch((error: unknown) =>
        error instanceof Error ? error : new Error(String(error)),
      );
    });
    try {
      await receiveBody(request, form);
    } catch (error) {
      if (request.destroyed) throw error; // the client went away mid-body
      await drain(request);
      return textReply(400, `Malformed multipart/form-data body: ${messageOf(error)}`);
    }

    const outcome = await csv;
    if (outcome instanceof Error) throw outcome;
    if (outcome === undefined) {
      return textReply(
        400,
        fileParts === 0
          ? 'Expected a file part named "file"; the upload has none'
          : `Expected the CSV in a part named "file", got "${record.uploadFieldName}"`,
      );
    }
    record.csvBytes = outcome.bytes;
    record.csvSha256 = outcome.sha256;
    record.rows = outcome.rows;
    if (outcome.error !== undefined) return textReply(400, outcome.error.message);
    if (fileParts > 1) return textReply(400, `Expected one file part, got ${fileParts}`);
    return textReply(200, formatSummary(sync.commit()));
  }

  #book(clientId: string): AddressBook {
    let book = this.#books.get(clientId);
    if (book === undefined) {
      book = new AddressBook();
      this.#books.set(clientId, book);
    }
    return book;
  }
}

function oauthError(status: number, error: string, description?: string): Reply {
  return jsonReply(status, description === undefined ? { error } : { error, error_description: description });
}

/**
 * Pipes the body into busboy until busboy has finished (which includes every file stream having ended).
 * Unlike stream.pipeline this leaves the request alive when busboy fails, so there is still a 400 to send.
 */
function receiveBody(request: IncomingMessage, form: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    form.once("close", resolve);
    form.once("error", reject);
    request.once("close", () => {
      if (!request.complete) reject(new Error("the client closed the connection mid-body"));
    });
    request.pipe(form);
  });
}

/** Resolves once some of the body has arrived (or it was empty), so a reset lands mid-request. */
async function firstBodyChunk(request: IncomingMessage): Promise<void> {
  if (request.readableEnded) return;
  await new Promise<void>((resolve) => {
    request.once("data", () => resolve());
    request.once("end", () => resolve());
    request.once("close", () => resolve());
  });
}

export function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startHttpsTestServer(
    {
      dir: options.dir,
      port: options.port,
      tempPrefix: "ilobby-emulator-",
      caName: "iLobby Emulator Test CA",
      certificateName: "ilobby-emulator",
      certificateDays: options.certificateDays,
    },
    (ca, stop) => new IlobbyEmulator(ca.certFile, ca.certPem, options, stop),
    (emulator) => emulator.abortPendingReplies(),
  );
}
