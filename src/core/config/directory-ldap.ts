/**
 * The `directory` block of an LDAP source (`type: ldap`, the default): Active Directory over LDAPS or StartTLS.
 * The LDAP adapter (src/adapters/ldap) reads exactly these keys; its secret is the bind password
 * (directory-secrets.ts).
 */
import { z } from "zod";
import { nonEmpty, secondsUpToOneDay } from "./shared.ts";

const ldapUrl = z.url({
  protocol: /^ldaps?$/,
  error: "must be an ldaps:// URL (or ldap:// with startTls: true)",
});

const searchBaseSchema = z.union(
  [
    nonEmpty.transform((base) => ({ base, site: undefined as string | undefined })),
    z.strictObject({
      base: nonEmpty.meta({ description: "Distinguished name of the OU or container to search (subtree)." }),
      site: nonEmpty
        .optional()
        .meta({ description: "SITE for everyone found under this base (wins over mapping)." }),
    }),
  ],
  { error: "must be a DN or { base: DN, site: name }" },
);

export const ldapDirectorySchema = z.strictObject({
  type: z.literal("ldap").default("ldap").meta({
    description: "Active Directory (or another LDAP directory) over LDAPS or StartTLS: the default.",
  }),
  url: z
    .union([ldapUrl, z.array(ldapUrl).min(1)])
    .transform((url) => (Array.isArray(url) ? url : [url]))
    .meta({ description: "Domain controller URL, or a list tried in order (fail-over)." }),
  bindDn: nonEmpty.meta({ description: "Service account: a DN, a UPN (user@domain) or DOMAIN\\user." }),
  caFile: nonEmpty.optional().meta({ description: "CA certificate (PEM) of the domain controllers." }),
  startTls: z
    .boolean()
    .default(false)
    .meta({ description: "Upgrade ldap:// with StartTLS. Plain LDAP is refused." }),
  searchBases: z.array(searchBaseSchema).min(1, { error: "needs at least one search base" }),
  groups: z.array(nonEmpty).default([]).meta({ description: "Only members of any of these groups (DNs)." }),
  nestedGroups: z.boolean().default(true).meta({ description: "Count members of nested groups too." }),
  includeDisabled: z.boolean().default(false).meta({ description: "Include disabled accounts." }),
  filter: nonEmpty
    .optional()
    .meta({ description: "Extra LDAP filter, ANDed with the others, e.g. (title=*)." }),
  pageSize: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(500)
    .meta({ description: "Entries per page (AD serves at most 1000 per page)." }),
  timeoutSeconds: secondsUpToOneDay
    .default(120)
    .meta({ description: "Time limit for the whole search (at most 86400)." }),
});

export type SearchBase = z.output<typeof searchBaseSchema>;
