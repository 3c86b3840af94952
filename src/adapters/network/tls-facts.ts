/** What a TLS inspection found, as doctor judges it: the chain, and trust and host-name problems in the client's words. */
import type { TlsFacts } from "../../core/doctor.ts";
import type { TlsInspection } from "./tls-probe.ts";

export function factsFrom(inspection: TlsInspection, describe: (error: Error) => unknown): TlsFacts {
  const { authorizationError } = inspection;
  return {
    protocol: inspection.protocol,
    chain: inspection.chain,
    trustProblem: authorizationError
      ? describe(Object.assign(new Error(authorizationError), { code: authorizationError }))
      : undefined,
    hostnameProblem: inspection.hostnameError ? describe(inspection.hostnameError) : undefined,
  };
}

export function hostAndPort(url: URL, defaultPort: number) {
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) || defaultPort };
}
