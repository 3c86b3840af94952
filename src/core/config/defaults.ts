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

/** The same columns from Microsoft Graph's user properties (`directory.type: entra`); businessPhones is a list. */
export const ENTRA_DEFAULT_MAPPING = {
  FIRSTNAME: "givenName",
  LASTNAME: "surname",
  TITLE: "jobTitle",
  DIVISION: "department",
  EMAIL: ["mail", "userPrincipalName"],
  MOBILE: "mobilePhone",
  DESKPHONE: "businessPhones",
  SITE: "officeLocation",
} satisfies Record<Column, string | string[]>;

/** The default mapping of a source type: what every column the config does not map reads. */
export function defaultMappingFor(type: string): Record<Column, string | string[]> {
  return type === "entra" ? ENTRA_DEFAULT_MAPPING : DEFAULT_MAPPING;
}
