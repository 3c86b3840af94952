/**
 * Defaults that code outside config parsing needs without loading the schema: importing schema.ts builds every
 * zod schema, which is most of the CLI's start-up time.
 */
export const DEFAULT_KEYCHAIN_SERVICE = "ilobby-sync";
