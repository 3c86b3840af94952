/**
 * The one network path of every outgoing HTTPS request (iLobby, Microsoft Graph, the webhooks and the ping) and
 * of the checks `doctor` makes of it. Build it once per client, hand its dispatcher to undici and close it when
 * the client is done (its open connections keep sockets, and the process, alive):
 *
 *   const path = createNetworkPath({ proxy: config.ilobby.proxy, env: environment.env, extraCa: [pem] });
 *   await fetch(url, { dispatcher: path.dispatcher });   // direct or through the proxy that path.route(url) names
 *   path.route(url);                                     // that decision, to print (core/proxy.ts)
 *   await path.close();
 *
 * - proxy: a configured proxy URL; it wins over the environment and ignores NO_PROXY.
 * - env: the injected environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY in either case). process.env is never read.
 * - extraCa: PEM certificates trusted beside the system store and Node's roots (e.g. a TLS-inspecting proxy's CA),
 *   for the server and for an https:// proxy alike. TLS 1.2 or newer, host names verified.
 * Every request is routed by proxyFor(), the same pure decision doctor reports, so the two cannot disagree.
 */
import type { TLSSocket } from "node:tls";
import { Agent, buildConnector, Dispatcher, Pool, ProxyAgent } from "undici";
import { type ProxyDecision, proxyFor, proxyInEffect } from "../../core/proxy.ts";
import { watchingCertificates } from "./certificate-watch.ts";
import { trustedCertificates } from "./trust.ts";

export interface NetworkPathOptions {
  /** A configured proxy URL (e.g. `ilobby.proxy`); when unset the environment decides. */
  proxy?: string | undefined;
  /** The injected environment: HTTPS_PROXY/HTTP_PROXY/NO_PROXY (and lower-case forms) are read from it only. */
  env: NodeJS.ProcessEnv;
  /** Extra trusted CA certificates (PEM text), beside the system and Node roots. */
  extraCa?: readonly string[] | undefined;
  /** Connect, response-headers and body timeouts; undici's defaults when unset. */
  timeoutMs?: number | undefined;
  /** Told the expiry of each server certificate this path verified (not the proxy's): near expiry, a warning. */
  onCertificate?: ((validTo: string, host: string) => void) | undefined;
}

export interface NetworkPath {
  /** For undici's fetch/request: routes each request as `route` says, with the trusted CAs. */
  readonly dispatcher: Dispatcher;
  /** The proxy decision for a URL, with its reason: what the dispatcher does for a request to it. */
  route(url: string): ProxyDecision;
  /** The proxy URL a request to `url` goes through, undefined for direct. */
  proxyFor(url: string): string | undefined;
  close(): Promise<void>;
}

/** Shown each TLS connection to a server (not to the proxy) once its handshake is done; for doctor's report. */
export type ConnectionInspector = (socket: TLSSocket) => void;

/** The error every request on an inspecting path ends with: its connection was closed after the inspection. */
const INSPECTED = "ERR_ILOBBY_SYNC_INSPECTED";

/** The proxy decision for a request to `url` on the path these options build. */
export function routeFor(options: NetworkPathOptions, url: string): ProxyDecision {
  return proxyFor(url, options.proxy, options.env);
}

export function createNetworkPath(options: NetworkPathOptions): NetworkPath {
  return new RoutingDispatcher(options);
}

/**
 * The same path for doctor's certificate report: it accepts any server certificate (the verdict is the socket's
 * `authorized` and `authorizationError`, under the same CAs), shows each server connection to `inspector` and
 * closes it before anything is sent, so every request on it fails with the code INSPECTED.
 */
export function createInspectingNetworkPath(
  options: NetworkPathOptions,
  inspector: ConnectionInspector,
): NetworkPath {
  return new RoutingDispatcher(options, inspector);
}

type ConnectOption = NonNullable<Agent.Options["connect"]>;

/** Wraps whatever connect an Agent or ProxyAgent hands its pools: the inspector sees, then closes, each socket. */
function inspectingFactory(inspector: ConnectionInspector) {
  return (origin: string | URL, factoryOptions: object) => {
    const { connect, ...rest } = factoryOptions as { connect?: ConnectOption };
    const connector = typeof connect === "function" ? connect : buildConnector(connect ?? {});
    const observed: buildConnector.connector = (params, callback) =>
      connector(params, (...result) => {
        const [, socket] = result;
        if (!socket) return callback(...result);
        if ("getPeerCertificate" in socket) inspector(socket);
        socket.destroy();
        callback(
          Object.assign(new Error("the connection was inspected and closed"), { code: INSPECTED }),
          null,
        );
      });
    return new Pool(origin, { ...rest, connect: observed });
  };
}

class RoutingDispatcher extends Dispatcher implements NetworkPath {
  readonly #options: NetworkPathOptions;
  readonly #inspector: ConnectionInspector | undefined;
  readonly #agents = new Map<string, Dispatcher>();

  constructor(options: NetworkPathOptions, inspector?: ConnectionInspector) {
    super();
    this.#options = options;
    this.#inspector = inspector;
  }

  get dispatcher(): Dispatcher {
    return this;
  }

  route(url: string): ProxyDecision {
    return routeFor(this.#options, url);
  }

  proxyFor(url: string): string | undefined {
    return proxyInEffect(this.route(url));
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.#agentFor(this.proxyFor(String(options.origin))).dispatch(options, handler);
  }

  /** One agent per way out (direct, or each proxy), made when first needed. */
  #agentFor(proxy: string | undefined): Dispatcher {
    const key = proxy ?? "";
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = proxy ? this.#proxyAgent(proxy) : this.#directAgent();
      this.#agents.set(key, agent);
    }
    return agent;
  }

  #tls() {
    const ca = trustedCertificates(this.#options.extraCa);
    const strict = { ca, minVersion: "TLSv1.2" as const };
    const server = this.#inspector
      ? { ...strict, rejectUnauthorized: false, checkServerIdentity: () => undefined }
      : watchingCertificates(strict, this.#options.onCertificate);
    const timeoutMs = this.#options.timeoutMs;
    const timeouts = timeoutMs ? { headersTimeout: timeoutMs, bodyTimeout: timeoutMs } : {};
    return { strict, server, timeoutMs, timeouts };
  }

  #directAgent(): Dispatcher {
    const { server, timeoutMs, timeouts } = this.#tls();
    return new Agent({
      ...timeouts,
      connect: { ...server, ...(timeoutMs ? { timeout: timeoutMs } : {}) },
      ...(this.#inspector ? { factory: inspectingFactory(this.#inspector) } : {}),
    });
  }

  #proxyAgent(uri: string): Dispatcher {
    const { strict, server, timeoutMs, timeouts } = this.#tls();
    return new ProxyAgent({
      uri,
      ...timeouts,
      ...(timeoutMs ? { connectTimeout: timeoutMs } : {}),
      proxyTls: strict,
      requestTls: server,
      ...(this.#inspector ? { factory: inspectingFactory(this.#inspector) } : {}),
    });
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | undefined {
    const closed = Promise.all([...this.#agents.values()].map((agent) => agent.close())).then(() => {});
    if (!callback) return closed;
    void closed.then(callback);
    return undefined;
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | undefined {
    const error = typeof first === "function" ? null : (first ?? null);
    const callback = typeof first === "function" ? first : second;
    const destroyed = Promise.all([...this.#agents.values()].map((agent) => agent.destroy(error))).then(
      () => {},
    );
    if (!callback) return destroyed;
    void destroyed.then(callback);
    return undefined;
  }
}
