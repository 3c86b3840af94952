/**
 * The Microsoft Entra ID source (`directory.type: entra`): people through Microsoft Graph with an app
 * registration's client credentials. Its secret is `entra-client-secret`, unless the app signs in with the
 * certificate in `certificateFile`. msal, undici and the TLS code are loaded only when the source is used.
 */

import type { DirectoryReadRequest } from "../../app/ports.ts";
import { directorySecretNames, ENTRA_CLIENT_SECRET_NAME } from "../../core/config/directory-secrets.ts";
import type { EntraDirectoryConfig } from "../../core/config/schema.ts";
import type { DirectorySourceDescriptor, SourceContext } from "../directory-sources.ts";
import type { EntraDirectory } from "./entra-directory.ts";
import type { EntraCredential } from "./entra-token.ts";

/** The credential as a run reads it: the secret (redacted everywhere) or the certificate file's PEM. */
async function entraCredential(
  block: EntraDirectoryConfig,
  context: Pick<SourceContext, "secrets" | "resolvePath" | "redact">,
): Promise<EntraCredential> {
  if (block.certificateFile === undefined) {
    const secret = await context.secrets.get(ENTRA_CLIENT_SECRET_NAME);
    context.redact(secret);
    return { kind: "secret", secret };
  }
  const { readCertificateFile } = await import("./certificate-file.ts");
  const file = context.resolvePath(block.certificateFile);
  return { kind: "certificate", pem: await readCertificateFile(file), file };
}

/**
 * Opens the source of a block: credential, network path (proxy decision, system roots plus caFile) and Graph.
 * `close` ends the network path: its open connections would keep sockets (and the process) alive.
 */
export async function openEntraDirectory(
  block: EntraDirectoryConfig,
  context: SourceContext,
): Promise<EntraDirectory & { close(): Promise<void> }> {
  const [credential, { readPemFile }, { createNetworkPath }, { createEntraDirectory }] = await Promise.all([
    entraCredential(block, context),
    import("../files/config-file.ts"),
    import("../network/network-path.ts"),
    import("./entra-directory.ts"),
  ]);
  const extraCa = block.caFile
    ? [await readPemFile(context.resolvePath(block.caFile), "directory.caFile")]
    : [];
  const { onCertificate } = context;
  const network = createNetworkPath({
    env: context.env,
    extraCa,
    timeoutMs: block.timeoutSeconds * 1000,
    // The token endpoint and Graph are two hosts with two certificates: each is named by its host.
    onCertificate: onCertificate && ((validTo, host) => onCertificate(`Entra ID https://${host}`, validTo)),
  });
  const directory = createEntraDirectory({
    ...block,
    credential,
    dispatcher: network.dispatcher,
    log: (message) => context.verbose(`entra: ${message}`),
    onToken: (token) => context.redact(token),
  });
  return Object.assign(directory, { close: () => network.close() });
}

export const entraSource: DirectorySourceDescriptor<EntraDirectoryConfig> = {
  type: "entra",
  secretNames: (block) => directorySecretNames(block),

  async checkConfig() {
    return []; // the schema checks every key; the tenant, app and groups are checked by doctor against Graph
  },

  async open(block, context) {
    const directory = await openEntraDirectory(block, context);
    // A run reads each source once: its network path is closed when that read ends, however it ends.
    const { read } = directory;
    return Object.assign(directory, {
      async *read(request: DirectoryReadRequest) {
        try {
          yield* read(request);
        } finally {
          await directory.close();
        }
      },
    });
  },

  async doctorChecks(block, context) {
    const { entraDoctorChecks } = await import("./entra-checks.ts");
    return entraDoctorChecks(block, context);
  },
};
