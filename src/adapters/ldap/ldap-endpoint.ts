/**
 * DNS, TCP and TLS of a domain controller URL as doctor and init check them, with the trust a run uses
 * (directory.caFile, or the system and Node roots) and the run's own error descriptions.
 */
import type { EndpointProbe } from "../../app/doctor.ts";
import { isSyncError, SyncError } from "../../core/errors.ts";
import { readPemFile } from "../files/config-file.ts";
import { factsFrom, hostAndPort } from "../network/tls-facts.ts";
import { connectTcp, inspectTls, resolveHost } from "../network/tls-probe.ts";
import { trustedCertificates } from "../network/trust.ts";
import { tlsOptionsFor } from "./ldap-directory.ts";
import { describeConnectError } from "./ldap-errors.ts";

/** Each probe step gets this long: a check must never hang the checklist. */
const PROBE_TIMEOUT_MS = 10_000;

export interface DirectoryTrust {
  /** Resolved path of directory.caFile, if set. */
  caFile?: string | undefined;
  startTls: boolean;
}

export function directoryEndpointProbe(trust: DirectoryTrust): EndpointProbe {
  let ca: Promise<string | string[]> | undefined;
  const trusted = () =>
    (ca ??= trust.caFile
      ? readPemFile(trust.caFile, "directory.caFile")
      : Promise.resolve(trustedCertificates()));
  const describe = (error: unknown, url: string) =>
    isSyncError(error) ? error : describeConnectError(error, url, trust.caFile);
  const endpoint = (url: string) => {
    const parsed = new URL(url);
    return { parsed, ...hostAndPort(parsed, parsed.protocol === "ldaps:" ? 636 : 389) };
  };
  return {
    renewal:
      "renew the domain controller's LDAPS certificate before it expires (certificate autoenrolment or the Certificates MMC)",
    async resolve(url) {
      try {
        return await resolveHost(endpoint(url).host, PROBE_TIMEOUT_MS);
      } catch (error) {
        throw describe(error, url);
      }
    },
    async connect(url) {
      const { host, port } = endpoint(url);
      try {
        await connectTcp(host, port, PROBE_TIMEOUT_MS);
      } catch (error) {
        throw describe(error, url);
      }
    },
    async tls(url) {
      const { parsed, host, port } = endpoint(url);
      const startTls = parsed.protocol === "ldap:";
      if (startTls && !trust.startTls) {
        throw new SyncError("config", `${url}: plain LDAP would send the bind password unencrypted`, {
          fix: "use ldaps:// (port 636, or 3269 for the Global Catalog) or set directory.startTls: true",
        });
      }
      try {
        const tls = tlsOptionsFor(parsed, await trusted());
        const inspection = await inspectTls({ host, port, tls, startTls, timeoutMs: PROBE_TIMEOUT_MS });
        return factsFrom(inspection, (error) => describe(error, url));
      } catch (error) {
        throw describe(error, url);
      }
    },
  };
}
