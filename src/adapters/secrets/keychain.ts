/**
 * The OS keychain over @napi-rs/keyring: Windows Credential Manager, the macOS Keychain, the Secret Service on
 * Linux. One entry per secret: service = the configured keychain service, account = the secret's name.
 */

import type { AsyncEntry } from "@napi-rs/keyring";
import { errorMessage, SyncError } from "../../core/errors.ts";
import { environmentVariableFor } from "../../core/secret-names.ts";
import { loadKeyring } from "./keyring-loader.ts";
import type { Keychain } from "./secret-sources.ts";

const STORE_NAMES: Partial<Record<NodeJS.Platform, string>> = {
  linux: "the Secret Service",
  darwin: "the macOS Keychain",
  win32: "Windows Credential Manager",
};

/** Why a Linux Secret Service could not be used, from the messages of the D-Bus and Secret Service crates. */
const LINUX_CAUSES: [RegExp, string][] = [
  [
    /autolaunch|DBUS_SESSION_BUS_ADDRESS/,
    "no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set (usual for cron, SSH and system services)",
  ],
  [/Failed to connect to/, "the D-Bus session bus named by DBUS_SESSION_BUS_ADDRESS is not running"],
  [
    /org\.freedesktop\.secrets|ServiceUnknown/,
    "no Secret Service (org.freedesktop.secrets) is running on the session bus",
  ],
  [
    /dismissed|locked|prompt/i,
    "the keyring is locked and its unlock prompt was dismissed or could not be shown",
  ],
  [/no result found/i, "the Secret Service has no unlocked default keyring to store secrets in"],
];

export function createOsKeychain(service: string, platform: NodeJS.Platform = process.platform): Keychain {
  const storeName = STORE_NAMES[platform] ?? "the OS keychain";

  const explain = (error: unknown): string => {
    const raw = errorMessage(error);
    const known = platform === "linux" ? LINUX_CAUSES.find(([pattern]) => pattern.test(raw)) : undefined;
    return known ? `${known[1]} (${raw})` : raw;
  };

  const fixFor = (name: string): string => {
    const variable = environmentVariableFor(name);
    const withoutKeychain = `or supply the secret without the keychain: ${variable}, ${variable}_FILE`;
    switch (platform) {
      case "linux":
        return (
          "start and unlock a Secret Service (gnome-keyring, KWallet or KeePassXC) in the session of the account " +
          `that runs ilobby-sync, with DBUS_SESSION_BUS_ADDRESS pointing at its bus; on a headless server use a ` +
          `systemd credential ($CREDENTIALS_DIRECTORY/${name}, LoadCredentialEncrypted=) ${withoutKeychain}`
        );
      case "darwin":
        return `unlock the login keychain of the account that runs ilobby-sync (security unlock-keychain), ${withoutKeychain}`;
      case "win32":
        return (
          "run ilobby-sync as the account that stored the secret, with its profile loaded (Task Scheduler: " +
          `"Run whether user is logged on or not"), ${withoutKeychain}`
        );
      default:
        return withoutKeychain;
    }
  };

  const unreachable = (action: string, name: string, error: unknown): SyncError => {
    // A SyncError here already explains itself (the addon could not be loaded).
    if (error instanceof SyncError) return error;
    return new SyncError("secret", `cannot ${action} "${name}" in ${storeName} (service "${service}")`, {
      cause: explain(error),
      fix: `${fixFor(name)} (see docs/secrets.md)`,
      error,
    });
  };

  /** Runs one keychain operation on a fresh entry; every failure, opening the store included, is unreachable. */
  const withEntry = async <T>(action: string, name: string, use: (entry: AsyncEntry) => Promise<T>) => {
    try {
      const { AsyncEntry } = await loadKeyring();
      // Pinned to the Secret Service: the default falls back to the kernel keyring, which loses secrets at
      // reboot and turns an unreachable Secret Service into a silent "not found".
      return await use(new AsyncEntry(service, name, { linux: { store: "secret-service" } }));
    } catch (error) {
      throw unreachable(action, name, error);
    }
  };

  return {
    describe: () => `${storeName} (service "${service}")`,
    get: (name) => withEntry("read", name, async (entry) => (await entry.getPassword()) ?? undefined),
    set: (name, value) => withEntry("store", name, (entry) => entry.setPassword(value)),
    delete: (name) => withEntry("delete", name, (entry) => entry.deleteCredential()),
  };
}
