/**
 * The start-up and stop every HTTPS test server shares (the iLobby and Graph emulators): a test CA and a server
 * certificate for localhost / 127.0.0.1, TLS 1.2 or newer, listening on 127.0.0.1 only. `stop` closes every
 * connection and removes the folder the server made for itself.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCa, issueServerCert, type TestCa } from "./pki.ts";

export interface HttpsTestServerOptions {
  /** Where the CA and certificate go; a temporary folder (removed on stop) when unset. */
  dir?: string | undefined;
  /** 0 (any free port) when unset. */
  port?: number | undefined;
  /** Prefix of the temporary folder's name. */
  tempPrefix: string;
  caName: string;
  certificateName: string;
  certificateDays?: number | undefined;
}

/** What serves the requests: `url` is set once the server listens. */
export interface HttpsTestApp {
  url: string;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

/**
 * Starts the server `build` makes (given the CA and the server's `stop`); `beforeStop` runs once, first thing
 * in `stop` (e.g. to end replies that are held back on purpose).
 */
export async function startHttpsTestServer<App extends HttpsTestApp>(
  options: HttpsTestServerOptions,
  build: (ca: TestCa, stop: () => Promise<void>) => App,
  beforeStop?: (app: App) => void,
): Promise<App> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), options.tempPrefix));
  const removeOwnDir = (): void => {
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ca = createTestCa(dir, options.caName);
    const certificate = issueServerCert(
      ca,
      options.certificateName,
      ["DNS:localhost", "IP:127.0.0.1"],
      options.certificateDays === undefined ? {} : { days: options.certificateDays },
    );
    const server = createServer({
      key: certificate.keyPem,
      cert: certificate.certPem,
      minVersion: "TLSv1.2",
    });
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= new Promise<void>((resolve) => {
        beforeStop?.(app);
        server.close(() => {
          removeOwnDir();
          resolve();
        });
        server.closeAllConnections();
      });
      return stopped;
    };
    const app = build(ca, stop);
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      void app.handle(request, response);
    });
    server.listen(options.port ?? 0, "127.0.0.1");
    await once(server, "listening");
    app.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return app;
  } catch (error) {
    removeOwnDir();
    throw error;
  }
}
