/**
 * Which proxy a request goes through: the configured proxy (`ilobby.proxy`) when set; otherwise, for https://,
 * https_proxy/HTTPS_PROXY, then http_proxy/HTTP_PROXY (for http:// only the latter two), unless no_proxy/NO_PROXY
 * names the host. An empty variable counts as unset. This is the one decision: the network path
 * (adapters/network/network-path.ts) routes every request by it, and `doctor` reports it.
 */

export type ProxyDecision =
  | { kind: "config"; url: string }
  | { kind: "environment"; url: string; variable: string }
  | { kind: "bypassed"; url: string; variable: string; noProxyEntry: string }
  | { kind: "none" };

const PROXY_VARIABLES: Record<string, readonly string[]> = {
  "https:": ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"],
  "http:": ["http_proxy", "HTTP_PROXY"],
};

const DEFAULT_PORTS: Record<string, number> = { "https:": 443, "http:": 80 };

/** The NO_PROXY entry that exempts this host and port (matched as curl and undici match them). */
export function noProxyMatch(noProxy: string, url: URL): string | undefined {
  const host = url.hostname
    .replace(/^\[(.+)\]$/, "$1")
    .toLowerCase()
    .replace(/(.)\.$/, "$1");
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
  for (const entry of noProxy.split(/[,\s]/)) {
    if (!entry) continue;
    const withPort =
      /^\[(.+)\]:(\d+)$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry.replace(/^\[(.+)\]$/, "$1"));
    const entryHost = (withPort?.[1] ?? entry.replace(/^\[(.+)\]$/, "$1"))
      .replace(/^\*?\./, "")
      .replace(/(.)\.$/, "$1")
      .toLowerCase();
    const entryPort = withPort ? Number(withPort[2]) : 0;
    if (entryPort && entryPort !== port) continue;
    if (entryHost === "*") return entry;
    if (!entry.startsWith("*") && host === entryHost) return entry;
    if (host.endsWith(`.${entryHost}`)) return entry;
  }
  return undefined;
}

export function proxyFor(
  target: string,
  configProxy: string | undefined,
  env: NodeJS.ProcessEnv,
): ProxyDecision {
  if (configProxy) return { kind: "config", url: configProxy };
  const parsed = new URL(target);
  const variable = PROXY_VARIABLES[parsed.protocol]?.find((name) => env[name]);
  const url = variable ? env[variable] : undefined;
  if (!variable || !url) return { kind: "none" };
  const noProxyEntry = noProxyMatch(env.no_proxy || env.NO_PROXY || "", parsed);
  return noProxyEntry === undefined
    ? { kind: "environment", url, variable }
    : { kind: "bypassed", url, variable, noProxyEntry };
}

/** A proxy URL fit to print: any password replaced. */
export function withoutPassword(proxyUrl: string): string {
  try {
    const url = new URL(proxyUrl);
    if (url.password) url.password = "[REDACTED]";
    return url.toString().replace(/%5BREDACTED%5D/g, "[REDACTED]");
  } catch {
    return "(not a valid URL)";
  }
}

/** The proxy URL a request to `target` actually uses, or undefined for a direct connection. */
export function proxyInEffect(decision: ProxyDecision): string | undefined {
  return decision.kind === "config" || decision.kind === "environment" ? decision.url : undefined;
}
