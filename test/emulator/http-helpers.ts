import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import { finished } from "node:stream/promises";

/** A response worked out before it is sent, so a "slow" fault can hold it back. */
export interface Reply {
  status: number;
  body: string;
  contentType: "text/plain" | "application/json" | "text/html";
  headers?: Record<string, string>;
}

export function textReply(status: number, body?: string, headers?: Record<string, string>): Reply {
  return { status, body: body ?? STATUS_CODES[status] ?? "", contentType: "text/plain", headers };
}

export function htmlReply(status: number, body: string): Reply {
  return { status, body, contentType: "text/html" };
}

export function jsonReply(status: number, value: unknown, headers?: Record<string, string>): Reply {
  return { status, body: JSON.stringify(value), contentType: "application/json", headers };
}

export function sendReply(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, {
    "content-type": `${reply.contentType}; charset=utf-8`,
    ...reply.headers,
  });
  response.end(reply.body);
}

/** The media type without parameters, lower-case ("multipart/form-data; boundary=x" -> "multipart/form-data"). */
export function mediaType(request: IncomingMessage): string | undefined {
  return request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
}

/**
 * Reads and discards the request body. Answering before the body is read makes clients that are still sending
 * see a broken pipe instead of the answer, so every early error waits for this first.
 */
export async function drain(request: IncomingMessage): Promise<void> {
  if (request.readableEnded) return;
  request.resume();
  await finished(request);
}

/** Reads a small body as UTF-8 text; undefined when it exceeds `limitBytes` (the rest is drained). */
export async function readSmallBody(
  request: IncomingMessage,
  limitBytes: number,
): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limitBytes) chunks.push(chunk);
  }
  return size <= limitBytes ? Buffer.concat(chunks).toString("utf8") : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
