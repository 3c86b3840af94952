/**
 * The one place that loads the native keyring addon. It is loaded only when a secret has to come from the OS
 * keychain, so a sync fed by environment variables or systemd credentials never needs it; the single executable
 * opens the copy of the addon embedded in it as an asset (embedded-addon.ts).
 */
import { isSea } from "node:sea";
import { errorMessage, SyncError } from "../../core/errors.ts";
import { KEYRING_ASSET, loadEmbeddedAddon } from "./embedded-addon.ts";

export type KeyringModule = typeof import("@napi-rs/keyring");

let keyring: Promise<KeyringModule> | undefined;

const loadEmbeddedKeyring = async () => loadEmbeddedAddon<KeyringModule>(KEYRING_ASSET);

export function loadKeyring(): Promise<KeyringModule> {
  keyring ??= (isSea() ? loadEmbeddedKeyring() : import("@napi-rs/keyring")).then(
    (module) => module as KeyringModule,
    (error: unknown) => {
      keyring = undefined;
      throw new SyncError("secret", "the OS keychain support (@napi-rs/keyring) could not be loaded", {
        // The single executable carries its native part: its own message says what went wrong instead.
        cause: isSea()
          ? errorMessage(error)
          : `${errorMessage(error)} (its native part may be missing for this platform, ${process.platform}-${process.arch})`,
        fix:
          "reinstall ilobby-sync for this platform, or supply the secrets without the keychain: " +
          "ILOBBY_SYNC_<NAME>, ILOBBY_SYNC_<NAME>_FILE or a systemd credential",
        error,
      });
    },
  );
  return keyring;
}
