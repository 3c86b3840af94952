/** The certificates trusted for TLS: Node's bundled roots plus the operating system's store plus any extra CA. */
import { getCACertificates } from "node:tls";

export function trustedCertificates(extraPem: readonly string[] = []): string[] {
  const roots = new Set(getCACertificates("default"));
  try {
    // Enterprise roots pushed by group policy live in the OS store, not in Node's bundle.
    for (const certificate of getCACertificates("system")) roots.add(certificate);
  } catch {
    // Some platforms cannot enumerate the system store; Node's bundle still applies.
  }
  return [...roots, ...extraPem];
}
