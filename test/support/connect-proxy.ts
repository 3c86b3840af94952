/**
 * A minimal HTTP CONNECT proxy on 127.0.0.1, as corporate proxies work for HTTPS: it sees the tunnel's target and
 * the Proxy-Authorization header, never the TLS inside.
 */
import { createServer } from "node:http";
import { connect } from "node:net";

export interface Tunnel {
  target: string;
  authorization: string | undefined;
}

export interface ConnectProxy {
  port: number;
  /** Every CONNECT seen, in order; tests may empty it. */
  tunnels: Tunnel[];
  stop(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** The Proxy-Authorization value required; any other (or none) gets 407. */
  requireAuthorization?: string;
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const tunnels: Tunnel[] = [];
  const server = createServer((_request, response) => response.writeHead(405).end());
  server.on("connect", (request, clientSocket, head) => {
    const authorization = request.headers["proxy-authorization"];
    tunnels.push({ target: request.url ?? "", authorization });
    if (options.requireAuthorization !== undefined && authorization !== options.requireAuthorization) {
      clientSocket.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [host, port] = (request.url ?? "").split(":");
    const upstream = connect(Number(port), host ?? "127.0.0.1", () => {
      clientSocket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    upstream.on("error", () => clientSocket.destroy());
    clientSocket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the proxy has no TCP address");
  return {
    port: address.port,
    tunnels,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
