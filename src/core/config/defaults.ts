/**
 * Defaults that code outside config parsing needs without loading the schema: importing schema.ts builds every
 * zod schema, which is most of the CLI's start-up time.
 */
import type { Column } from "../columns.ts";

export const DEFAULT_KEYCHAIN_SERVICE = "ilobby-sync";

/** The mapping used for every column the config does not map: the attributes the vendor's script exported. */
export const DEFAULT_MAPPING = {
  FIRSTNAME: "givenName",
  LASTNAME: "sn",
  TITLE: "title",
  DIVISION: "department",
  EMAIL: ["mail", "userPrincipalName"],
  MOBILE: "mobile",
  DESKPHONE: "telephoneNumber",
  SITE: "physicalDeliveryOfficeName",
} satisfies Record<Column, string | string[]>;
