/**
 * Receivers for notifications, on 127.0.0.1 with certificates from a test CA: an HTTPS server that records every
 * request (webhooks and the healthchecks.io-style ping share it, told apart by path) and can be made to fail or
 * stall, and an SMTP server (smtp-server, from the nodemailer project) that requires STARTTLS and a login.
 */
import { once } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { ServerCert } from "./pki.ts";

export interface ReceivedRequest {
  method: string;
  path: string;
  contentType: string;
  body: string;
}

/** How the receiver answers a path: normally, with an error status, or not at all for a while. */
export type Behaviour = { kind: "status"; status: number } | { kind: "stall"; ms: number; times: number };

export interface HttpsReceiver {
  /** https://127.0.0.1:port */
  url: string;
  requests: ReceivedRequest[];
  /** Answers requests to paths starting with `prefix` this way. */
  behave(prefix: string, behaviour: Behaviour): void;
  reset(): void;
  stop(): Promise<void>;
}

export async function startHttpsReceiver(cert: ServerCert): Promise<HttpsReceiver> {
  const requests: ReceivedRequest[] = [];
  const behaviours = new Map<string, Behaviour>();
  const stalled = new Set<ServerResponse>();
  const server = createServer(
    { key: cert.keyPem, cert: cert.certPem, minVersion: "TLSv1.2" },
    (request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const path = request.url ?? "/";
        requests.push({
          method: request.method ?? "",
          path,
          contentType: request.headers["content-type"] ?? "",
          body: Buffer.concat(chunks).toString("utf8"),
        });
        const behaviour = [...behaviours].find(([prefix]) => path.startsWith(prefix))?.[1];
        if (behaviour?.kind === "stall" && behaviour.times > 0) {
          behaviour.times--;
          stalled.add(response);
          const timer = setTimeout(() => {
            stalled.delete(response);
            response.end("late");
          }, behaviour.ms);
          response.on("close", () => clearTimeout(timer));
          return;
        }
        response.statusCode = behaviour?.kind === "status" ? behaviour.status : 200;
        response.end("OK");
      });
    },
  ) as unknown as Server;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    behave: (prefix, behaviour) => behaviours.set(prefix, behaviour),
    reset() {
      requests.length = 0;
      behaviours.clear();
    },
    async stop() {
      for (const response of stalled) response.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  secure: boolean;
  tlsProtocol: string | undefined;
  raw: string;
  subject: string;
  text: string;
  /** Attachments: file name and decoded content. */
  attachments: { filename: string; content: string }[];
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  reset(): void;
  stop(): Promise<void>;
}

function decodeBody(body: string, encoding: string | undefined): string {
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

function parsePart(raw: string): Part {
  const split = raw.indexOf("\r\n\r\n");
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? "" : raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= and =?UTF-8?B?...?=) in a header. */
function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_match, kind: string, text: string) =>
      kind.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : decodeBody(text.replace(/_/g, " "), "quoted-printable"),
    );
}

function parseMail(raw: string): Pick<ReceivedMail, "subject" | "text" | "attachments"> {
  const top = parsePart(raw);
  const subject = decodeHeader(top.headers.get("subject") ?? "");
  const type = top.headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
  if (!boundary) {
    return {
      subject,
      text: decodeBody(top.body, top.headers.get("content-transfer-encoding")),
      attachments: [],
    };
  }
  const parts = top.body
    .split(`--${boundary}`)
    .slice(1)
    .filter((part) => !part.startsWith("--"))
    .map((part) => parsePart(part.replace(/^\r\n/, "")));
  let text = "";
  const attachments: ReceivedMail["attachments"] = [];
  for (const part of parts) {
    const content = decodeBody(part.body.replace(/\r\n$/, ""), part.headers.get("content-transfer-encoding"));
    const disposition = part.headers.get("content-disposition") ?? "";
    const filename = /filename="?([^";]+)"?/.exec(disposition)?.[1];
    if (filename) attachments.push({ filename, content });
    else if ((part.headers.get("content-type") ?? "").startsWith("text/plain")) text = content;
  }
  return { subject, text, attachments };
}

/**
 * SMTP on 127.0.0.1 that accepts only `user`/`password` (PLAIN or LOGIN), after STARTTLS (the default), over TLS
 * from the first byte (`implicit`, as on port 465), or a server that offers no TLS at all (`plain`).
 */
export async function startSmtpReceiver(
  cert: ServerCert,
  account: { user: string; password: string },
  tls: "starttls" | "implicit" | "plain" = "starttls",
  listenPort = 0,
): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: tls === "implicit",
    ...(tls === "plain"
      ? { disabledCommands: ["STARTTLS"], allowInsecureAuth: true }
      : { allowInsecureAuth: false }),
    key: cert.keyPem,
    cert: cert.certPem,
    minVersion: "TLSv1.2",
    authMethods: ["PLAIN", "LOGIN"],
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === account.user && auth.password === account.password) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error("Invalid username or password"));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          user: session.user as string | undefined,
          secure: session.secure,
          tlsProtocol: (session as { tlsOptions?: { version?: string } }).tlsOptions?.version,
          raw,
          ...parseMail(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    reset() {
      mails.length = 0;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
