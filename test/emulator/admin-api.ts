/**
 * The admin API under /_emulator/, so tests and benchmarks can inspect and steer an emulator running in another
 * process. Every call needs the per-start random key in the x-emulator-admin header, and only loopback peers
 * are served, so nothing else on the machine can change the emulator's state.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AddressBookEntry, recordFrom } from "./address-book.js";
import type { Emulator, Fault, FaultEndpoint, RecordedRequest } from "./emulator.js";
import {
  drain,
  jsonReply,
  messageOf,
  type Reply,
  readSmallBody,
  sendReply,
  textReply,
} from "./http-helpers.js";

export const ADMIN_KEY_HEADER = "x-emulator-admin";
const ADMIN_BODY_LIMIT_BYTES = 256 * 1024 * 1024;
const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** A refused admin call; the message goes back in a 400 answer. */
class AdminRequestError extends Error {}

function hasAdminKey(request: IncomingMessage, adminKey: string): boolean {
  const presented = Buffer.from(String(request.headers[ADMIN_KEY_HEADER] ?? ""));
  const expected = Buffer.from(adminKey);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** Recorded requests as the admin API shows them: client secrets redacted. */
function withoutSecrets(recorded: RecordedRequest): RecordedRequest {
  if (recorded.form?.client_secret === undefined) return recorded;
  return { ...recorded, form: { ...recorded.form, client_secret: "<redacted>" } };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const body = await readSmallBody(request, ADMIN_BODY_LIMIT_BYTES);
  if (body === undefined) throw new AdminRequestError("the body is too large");
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new AdminRequestError(`the body is not JSON: ${messageOf(error)}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseFaultRequest(value: unknown): { endpoint: FaultEndpoint; fault: Fault; times: number } {
  if (!isObject(value)) throw new AdminRequestError("expected {endpoint, fault, times}");
  const { endpoint, fault, times = 1 } = value;
  if (endpoint !== "token" && endpoint !== "upload") {
    throw new AdminRequestError('endpoint must be "token" or "upload"');
  }
  if (typeof times !== "number" || !Number.isInteger(times) || times < 1) {
    throw new AdminRequestError("times must be a positive integer");
  }
  return { endpoint, fault: parseFault(fault), times };
}

function parseFault(value: unknown): Fault {
  if (!isObject(value)) throw new AdminRequestError("fault must be an object with a kind");
  const optionalNumber = (name: string): number | undefined => {
    const field = value[name];
    if (field === undefined || typeof field === "number") return field;
    throw new AdminRequestError(`fault.${name} must be a number`);
  };
  switch (value.kind) {
    case "status": {
      const status = optionalNumber("status");
      if (status === undefined || !Number.isInteger(status) || status < 100 || status > 599) {
        throw new AdminRequestError("fault.status must be an HTTP status code");
      }
      if (value.body !== undefined && typeof value.body !== "string") {
        throw new AdminRequestError("fault.body must be a string");
      }
      return {
        kind: "status",
        status,
        body: value.body,
        retryAfterSeconds: optionalNumber("retryAfterSeconds"),
      };
    }
    case "slow": {
      const delayMs = optionalNumber("delayMs");
      if (delayMs === undefined || delayMs < 0) throw new AdminRequestError("fault.delayMs must be >= 0");
      return { kind: "slow", delayMs };
    }
    case "reset":
    case "expire-token":
      return { kind: value.kind };
    case "redirect": {
      const status = optionalNumber("status");
      if (status === undefined || status < 300 || status > 399 || typeof value.location !== "string") {
        throw new AdminRequestError("a redirect fault needs a 3xx status and a location");
      }
      return { kind: "redirect", status, location: value.location };
    }
    case "html":
      if (value.body !== undefined && typeof value.body !== "string") {
        throw new AdminRequestError("fault.body must be a string");
      }
      return value.body === undefined ? { kind: "html" } : { kind: "html", body: value.body };
    default:
      throw new AdminRequestError(
        'fault.kind must be "status", "slow", "reset", "expire-token", "redirect" or "html"',
      );
  }
}

/** Entries for a seed: missing columns are empty, `enabled` defaults to true. */
function parseEntries(value: unknown): AddressBookEntry[] {
  if (!Array.isArray(value)) throw new AdminRequestError("expected a JSON array of address-book entries");
  return value.map((item: unknown, index) => {
    if (!isObject(item)) throw new AdminRequestError(`entry ${index} is not an object`);
    const record = recordFrom((column) => {
      const field = item[column] ?? "";
      if (typeof field !== "string")
        throw new AdminRequestError(`entry ${index}: ${column} must be a string`);
      return field;
    });
    if (record.EMAIL === "") throw new AdminRequestError(`entry ${index}: EMAIL is empty`);
    const enabled = item.enabled ?? true;
    if (typeof enabled !== "boolean")
      throw new AdminRequestError(`entry ${index}: enabled must be a boolean`);
    return { ...record, enabled };
  });
}

function requiredClientId(query: URLSearchParams): string {
  const clientId = query.get("clientId");
  if (clientId === null || clientId === "")
    throw new AdminRequestError("the clientId query parameter is missing");
  return clientId;
}

async function routeAdminRequest(
  emulator: Emulator,
  request: IncomingMessage,
  route: string,
  query: URLSearchParams,
): Promise<Reply> {
  switch (`${request.method} ${route}`) {
    case "GET addressbook":
      return jsonReply(200, emulator.addressBook(requiredClientId(query)));
    case "PUT addressbook": {
      const clientId = requiredClientId(query);
      emulator.seedAddressBook(clientId, parseEntries(await readJson(request)));
      return textReply(204, "");
    }
    case "GET requests":
      return jsonReply(200, emulator.requests.map(withoutSecrets));
    case "POST faults": {
      const { endpoint, fault, times } = parseFaultRequest(await readJson(request));
      emulator.queueFault(endpoint, fault, times);
      return textReply(204, "");
    }
    case "POST reset":
      emulator.reset();
      return textReply(204, "");
    default:
      return textReply(404, `No admin endpoint ${request.method} /_emulator/${route}`);
  }
}

/** Serves one admin call; `route` is the path after /_emulator/. Admin calls are not recorded. */
export async function handleAdminRequest(
  emulator: Emulator,
  request: IncomingMessage,
  response: ServerResponse,
  route: string,
): Promise<void> {
  let reply: Reply;
  try {
    if (
      !LOOPBACK_ADDRESSES.has(request.socket.remoteAddress ?? "") ||
      !hasAdminKey(request, emulator.adminKey)
    ) {
      await drain(request);
      reply = textReply(403, `Forbidden: the admin API needs the ${ADMIN_KEY_HEADER} header`);
    } else {
      const query = new URL(request.url ?? "/", "https://127.0.0.1").searchParams;
      reply = await routeAdminRequest(emulator, request, route, query);
      await drain(request);
    }
  } catch (error) {
    if (request.socket.destroyed) return;
    await drain(request).catch(() => {});
    reply = textReply(error instanceof AdminRequestError ? 400 : 500, messageOf(error));
  }
  sendReply(response, reply);
}
