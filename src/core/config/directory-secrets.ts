/**
 * The secrets each directory source reads, by `directory.type`. Kept apart from the schema (no zod), so the
 * `secret` commands can name them without loading it.
 */

/** The LDAP source's bind password. */
export const BIND_PASSWORD_SECRET_NAME = "bind-password";

/** The Entra ID source's client secret (not needed when the app signs in with `certificateFile`). */
export const ENTRA_CLIENT_SECRET_NAME = "entra-client-secret";

/** The secrets a source of this block reads (the targets' client secrets come on top). */
export function directorySecretNames(directory: { type: string; certificateFile?: unknown }): string[] {
  switch (directory.type) {
    case "ldap":
      return [BIND_PASSWORD_SECRET_NAME];
    case "entra":
      return directory.certificateFile === undefined ? [ENTRA_CLIENT_SECRET_NAME] : [];
    default:
      return [];
  }
}

/** The secret a misplaced secret key in the `directory` block (raw, unvalidated) most likely meant. */
export function directorySecretHint(raw: unknown): string | undefined {
  const type = (raw as { type?: unknown } | null)?.type ?? "ldap";
  return typeof type === "string" ? directorySecretNames({ type })[0] : undefined;
}
