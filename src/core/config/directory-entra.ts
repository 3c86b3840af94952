/**
 * The `directory` block of a Microsoft Entra ID source (`type: entra`): people read through Microsoft Graph with
 * an app registration's client credentials. The Entra adapter (src/adapters/entra) reads exactly these keys; its
 * secret is `entra-client-secret` unless `certificateFile` is set (directory-secrets.ts).
 */
import { z } from "zod";
import { OBJECT_ID_PATTERN } from "../site-groups.ts";
import { nonEmpty, secondsUpToOneDay } from "./shared.ts";

const httpsUrl = z
  .url({ protocol: /^https$/, error: "must be an https:// URL" })
  .transform((url) => url.replace(/\/+$/, ""));

const objectId = z.string().trim().regex(OBJECT_ID_PATTERN, {
  error: "must be an object id (a GUID such as 9f0c1e2d-1111-2222-3333-444455556666)",
});

export const entraDirectorySchema = z.strictObject({
  type: z.literal("entra").meta({
    description:
      "Microsoft Entra ID (Azure AD) through Microsoft Graph, with an app registration of your own.",
  }),
  tenantId: nonEmpty.meta({
    description: "The tenant: its primary domain (contoso.onmicrosoft.com) or its Directory (tenant) ID.",
  }),
  clientId: objectId.meta({
    description:
      "The app registration's Application (client) ID. Its credential is the entra-client-secret secret, or certificateFile.",
  }),
  certificateFile: nonEmpty.optional().meta({
    description:
      "PEM file with the app's certificate and its unencrypted private key: a signed client assertion instead of the secret.",
  }),
  groups: z.array(objectId).default([]).meta({
    description: "Group object ids: their transitive user members. None = every user of the tenant.",
  }),
  includeDisabled: z
    .boolean()
    .default(false)
    .meta({ description: "Include accounts whose accountEnabled is false." }),
  includeGuests: z.boolean().default(false).meta({ description: "Include guests (userType Guest)." }),
  authorityUrl: httpsUrl.default("https://login.microsoftonline.com").meta({
    description: "The Microsoft identity platform of your cloud (sovereign clouds have their own).",
  }),
  graphUrl: httpsUrl
    .default("https://graph.microsoft.com")
    .meta({ description: "Microsoft Graph of your cloud." }),
  caFile: nonEmpty.optional().meta({
    description: "Extra trusted CA (PEM), e.g. a TLS-inspecting proxy's; system and Node roots stay trusted.",
  }),
  pageSize: z
    .number()
    .int()
    .min(1)
    .max(999)
    .default(999)
    .meta({ description: "Objects per page ($top; Graph serves at most 999)." }),
  timeoutSeconds: secondsUpToOneDay
    .default(120)
    .meta({ description: "Time limit of each request (the token, each page; at most 86400)." }),
});
