/**
 * The LDAP source (`directory.type: ldap`, the default): Active Directory, or another LDAP directory, over LDAPS or
 * StartTLS. Its secret is the bind password. ldapts and the TLS code are loaded only when the source is used.
 */
import { BIND_PASSWORD_SECRET_NAME, directorySecretNames } from "../../core/config/directory-secrets.ts";
import type { LdapDirectoryConfig } from "../../core/config/schema.ts";
import type { DirectorySourceDescriptor, SourceContext } from "../directory-sources.ts";
import type { LdapConnector } from "./ldap-checks.ts";

/** Reads the bind password and the trusted CAs once; the connector builds the directory of any (narrowed) block. */
export async function ldapConnector(
  block: LdapDirectoryConfig,
  context: Omit<SourceContext, "config">,
): Promise<LdapConnector> {
  const password = await context.secrets.get(BIND_PASSWORD_SECRET_NAME);
  context.redact(password);
  const [{ readPemFile }, { trustedCertificates }, { createLdapDirectory }] = await Promise.all([
    import("../files/config-file.ts"),
    import("../network/trust.ts"),
    import("./ldap-directory.ts"),
  ]);
  const caFile = block.caFile ? context.resolvePath(block.caFile) : undefined;
  const ca = caFile ? await readPemFile(caFile, "directory.caFile") : trustedCertificates();
  const { onCertificate } = context;
  return (directory) =>
    createLdapDirectory({
      directory,
      password,
      ca,
      caFile,
      log: (message) => context.verbose(message),
      onCertificate: onCertificate && ((url, validTo) => onCertificate(`directory ${url}`, validTo)),
    });
}

export const ldapSource: DirectorySourceDescriptor<LdapDirectoryConfig> = {
  type: "ldap",
  secretNames: (block) => directorySecretNames(block),

  async checkConfig(block) {
    if (block.filter === undefined) return [];
    const { extraFilterProblem } = await import("./ldap-filter.ts");
    const problem = extraFilterProblem(block.filter);
    return problem ? [{ path: ["directory", "filter"], message: problem }] : [];
  },

  async open(block, context) {
    return (await ldapConnector(block, context))(block);
  },

  async doctorChecks(block, context) {
    const [{ ldapDoctorChecks }, { directoryEndpointProbe }] = await Promise.all([
      import("./ldap-checks.ts"),
      import("./ldap-endpoint.ts"),
    ]);
    return ldapDoctorChecks({
      config: context.config,
      block,
      now: context.now,
      endpoint: directoryEndpointProbe({
        caFile: block.caFile ? context.resolvePath(block.caFile) : undefined,
        startTls: block.startTls,
      }),
      secretChecks: context.secretChecks,
      open: () => ldapConnector(block, context),
    });
  },
};
