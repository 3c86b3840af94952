/**
 * How secrets are named: the names a config can give them, the iLobby key's default, and the environment variable
 * each name is read from (`client-secret` -> ILOBBY_SYNC_CLIENT_SECRET, plus `_FILE`). A directory source names
 * its own secrets (core/config/directory.ts).
 */

export const DEFAULT_CLIENT_SECRET_NAME = "client-secret";

export const SECRET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function environmentVariableFor(name: string): string {
  return `ILOBBY_SYNC_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}
