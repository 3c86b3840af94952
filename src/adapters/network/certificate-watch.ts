/**
 * Tells a run which certificate each server showed, so one that expires soon can be reported (a notification
 * `warning`) before it breaks a night's sync. It wraps Node's host-name check, which runs only after the chain was
 * verified: verification itself is unchanged.
 */
import { type ConnectionOptions, checkServerIdentity } from "node:tls";

export function watchingCertificates<T extends ConnectionOptions>(
  options: T,
  onCertificate: ((validTo: string, host: string) => void) | undefined,
): T {
  if (!onCertificate) return options;
  const verify = options.checkServerIdentity ?? checkServerIdentity;
  return {
    ...options,
    checkServerIdentity(host, certificate) {
      const problem = verify(host, certificate);
      if (!problem && certificate.valid_to) onCertificate(new Date(certificate.valid_to).toISOString(), host);
      return problem;
    },
  };
}
