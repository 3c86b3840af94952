/**
 * The configuration schema: the single source of truth for validation, defaults, TypeScript types and the
 * JSON Schema shipped for editors. Every key here is a contract with administrators' config files.
 */
import { z } from "zod";
import { COLUMNS } from "../columns.ts";
import { DURATION_PATTERN, parseDuration } from "../duration.ts";
import { notifySchema } from "../notify/config.ts";
import { isCountryCode, PHONE_FORMATS } from "../phones.ts";
import { SECRET_NAME_PATTERN } from "../secret-names.ts";
import { DEFAULT_KEYCHAIN_SERVICE, defaultMappingFor } from "./defaults.ts";
import { directorySchema, listedSourceSchema } from "./directory.ts";
import { nonEmpty, secondsUpToOneDay } from "./shared.ts";

const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https:// URL (TLS is required)" });

/**
 * A path on baseUrl's own host. URL rules read `//host/x` and `/\\host/x` as another host (and drop tabs and line
 * breaks first): such a tokenPath once sent the client secret elsewhere.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the pattern refuses
const endpointPath = z.string().regex(/^\/(?![/\\])[^\\\s\x00-\x1f\x7f]*$/, {
  error:
    "must be a path on ilobby.baseUrl's host: one leading /, no \\, spaces or control characters (//host/... names another host)",
});

const attributeNames = z.union([nonEmpty, z.array(nonEmpty).min(1)], {
  error: "must be an attribute name or a list of attribute names",
});

export const columnRuleSchema = z.union(
  [
    attributeNames,
    z.strictObject({ value: z.string().meta({ description: "A fixed value for every record." }) }),
    z.strictObject({
      attribute: attributeNames.meta({
        description: "Attribute(s) to read; the first non-empty value wins.",
      }),
      map: z.record(z.string(), z.string()).optional().meta({
        description: "Translation table; keys may be globs (TOR-*). Unmatched values are kept as they are.",
      }),
      default: z.string().optional().meta({ description: "Used when the attribute is empty." }),
    }),
  ],
  {
    error:
      "must be an attribute name, a list of attribute names, { value: ... } or { attribute: ..., map: ..., default: ... }",
  },
);

export type ColumnRuleInput = z.input<typeof columnRuleSchema>;

const mappingShape = Object.fromEntries(
  COLUMNS.map((column) => [
    column,
    columnRuleSchema.optional().meta({ description: `Source of ${column}.` }),
  ]),
) as Record<(typeof COLUMNS)[number], z.ZodOptional<typeof columnRuleSchema>>;

export const ilobbySchema = z.strictObject({
  clientId: nonEmpty.optional().meta({
    description: "iLobby API client id. Its secret is stored with `ilobby-sync secret set`.",
  }),
  baseUrl: httpsUrl
    .default("https://partnerapi.goilobby.com")
    .meta({ description: "iLobby partner API base URL." }),
  tokenPath: endpointPath.default("/auth/connect/token").meta({ description: "OAuth2 token endpoint path." }),
  uploadPath: endpointPath.default("/addressbook/uploadcsv").meta({ description: "CSV upload path." }),
  caFile: nonEmpty.optional().meta({
    description: "Extra trusted CA (PEM), e.g. a TLS-inspecting proxy. System and Node roots stay trusted.",
  }),
  proxy: z
    .url({ protocol: /^https?$/, error: "must be an http:// or https:// proxy URL" })
    .optional()
    .meta({
      description: "HTTP(S) proxy for iLobby requests. HTTPS_PROXY and NO_PROXY are honoured when unset.",
    }),
  // Every timeout has a maximum: Node's timers hold at most 2^31-1 ms (24.8 days); more once became 1 ms.
  timeoutSeconds: z
    .number()
    .int()
    .positive()
    .max(3600, { error: "must be at most 3600 (one hour per request)" })
    .default(60)
    .meta({ description: "Timeout for each HTTP request (at most 3600)." }),
  retry: z
    .strictObject({
      attempts: z
        .number()
        .int()
        .min(1)
        .max(10)
        .default(4)
        .meta({ description: "Attempts per request, the first included." }),
      maxSeconds: secondsUpToOneDay
        .default(300)
        .meta({ description: "No retry starts after this long (at most 86400)." }),
      initialDelayMs: z
        .number()
        .int()
        .min(0)
        .max(600_000, { error: "must be at most 600000 (ten minutes)" })
        .default(1000)
        .meta({ description: "First backoff delay; doubles, with jitter." }),
    })
    .default({ attempts: 4, maxSeconds: 300, initialDelayMs: 1000 })
    .meta({
      description: "Retries on network errors, HTTP 429 (honouring Retry-After) and 5xx; never on other 4xx.",
    }),
});

const secretName = z
  .string()
  .regex(SECRET_NAME_PATTERN, { error: "must be lower-case letters, digits, '.', '_' or '-'" });

const targetSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
      error: "must be letters, digits, '_' or '-' (it names the state file)",
    })
    .meta({ description: "Short name: used in logs, the summary and the state file." }),
  clientId: nonEmpty.meta({ description: "iLobby API client id of this key." }),
  secretName: secretName
    .optional()
    .meta({ description: "Name of this key's secret (default: client-secret-<name>)." }),
  baseUrl: httpsUrl.optional().meta({ description: "API base URL for this key (default: ilobby.baseUrl)." }),
  sites: z.array(nonEmpty).min(1).meta({
    description: "The sites this key receives; each record goes to the targets that cover its SITE.",
  }),
});

export { DEFAULT_KEYCHAIN_SERVICE };

export const keychainSchema = z.strictObject({
  service: nonEmpty.default(DEFAULT_KEYCHAIN_SERVICE).meta({
    description:
      "Keychain service name. Give each configuration on one host its own to keep their secrets apart.",
  }),
});

const MAX_DISABLE_FORMS = 'must be a count (25) or a percentage of the last upload ("10%")';
const maxDisable = z.union(
  [
    z.number().int().min(0, { error: MAX_DISABLE_FORMS }),
    z.string().regex(/^\s*\d+(\.\d+)?\s*%\s*$|^\s*\d+\s*$/, { error: MAX_DISABLE_FORMS }),
  ],
  { error: MAX_DISABLE_FORMS },
);

const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  .refine(isCountryCode, { error: "must be a two-letter ISO 3166-1 country code such as CA, GB or FR" });

export const phonesSchema = z.strictObject({
  format: z.enum(PHONE_FORMATS).default("e164").meta({
    description:
      "e164 (+14165550199), international (+1 416 555 0199) or asIs (sent as the directory holds them).",
  }),
  defaultCountry: countryCode
    .optional()
    .meta({ description: "ISO 3166-1 alpha-2 country of numbers written without a country code." }),
  countryBySite: z
    .record(nonEmpty, countryCode)
    .optional()
    .meta({ description: "SITE -> country for numbers without a country code; before defaultCountry." }),
  extensions: z
    .enum(["drop", "keep"])
    .default("drop")
    .meta({ description: 'drop, or keep as ";ext=204" after the number.' }),
  invalid: z.enum(["drop", "keep"]).default("drop").meta({
    description:
      "drop (sent empty, so iLobby keeps what it has) or keep (sent as written); reported either way.",
  }),
});

export const configObjectSchema = z.strictObject({
  ilobby: ilobbySchema
    .prefault({})
    .meta({ description: "The iLobby API (with `targets`: shared connection defaults)." }),
  directory: z
    .union([
      directorySchema,
      z
        .array(listedSourceSchema(z.strictObject(mappingShape)))
        .min(1, { error: "needs at least one source" }),
    ])
    .meta({
      description:
        "The directory to read: `type` selects the source (default ldap: Active Directory over LDAPS; entra: Microsoft Entra ID). A list of such blocks reads several sources in order, merged by EMAIL (the first source wins).",
    }),
  mapping: z
    .strictObject(mappingShape)
    .default({})
    .meta({ description: "iLobby column -> directory attribute(s)." }),
  sites: z.array(nonEmpty).min(1).optional().meta({
    description: "Site names exactly as configured in the iLobby portal; any other SITE is an error.",
  }),
  siteGroups: z.record(nonEmpty, nonEmpty).optional().meta({
    description:
      "Group -> SITE for members: an LDAP group DN (nested membership follows directory.nestedGroups) or an Entra group object id.",
  }),
  phones: phonesSchema.optional().meta({
    description:
      "MOBILE and DESKPHONE in one format. Without this block numbers are sent as the directory holds them.",
  }),
  targets: z.array(targetSchema).min(1).optional().meta({
    description:
      "Several iLobby keys: one CSV, state and guard per target. Without it, `ilobby` is the one target.",
  }),
  stateDir: nonEmpty.optional().meta({
    description: "Where the last upload of each target is kept (default: the OS's per-user data folder).",
  }),
  safety: z
    .strictObject({
      maxDisable: maxDisable.default("10%").meta({
        description: "Stop when more hosts than this would be disabled: a count or a % of the last upload.",
      }),
      ignoreUpTo: z
        .number()
        .int()
        .min(0)
        .default(5)
        .meta({ description: "The guard never trips when this many or fewer would be disabled." }),
      planMaxAge: z
        .string()
        .regex(DURATION_PATTERN, { error: 'must be a duration such as "30m", "24h" or "7d"' })
        .refine((text) => (parseDuration(text) ?? 0) > 0, { error: "must be longer than zero" })
        .default("24h")
        .meta({
          description:
            "`apply` refuses a plan older than this; saved plans older than this are deleted by the next run.",
        }),
    })
    .prefault({})
    .meta({ description: "The disable guard. `run --force` lifts it for one run." }),
  log: z
    .strictObject({
      file: nonEmpty
        .optional()
        .meta({ description: "Append one JSON line per event to this file (for unattended runs)." }),
    })
    .prefault({})
    .meta({ description: "Logging." }),
  keychain: keychainSchema
    .prefault({})
    .meta({ description: "Where `ilobby-sync secret set` stores the secrets and the sync reads them." }),
  notify: notifySchema
    .optional()
    .meta({ description: "Notifications: webhooks (JSON, Teams, Slack), e-mail and a heartbeat ping." }),
});

export const configSchema = configObjectSchema
  .superRefine((config, context) => {
    if (!config.targets && !config.ilobby.clientId) {
      context.addIssue({
        code: "custom",
        path: ["ilobby", "clientId"],
        message: "is required (or list `targets`)",
      });
    }
    if (config.targets && config.ilobby.clientId) {
      context.addIssue({
        code: "custom",
        path: ["ilobby", "clientId"],
        message: "is not used when `targets` are listed: give each target its own clientId",
      });
    }
    for (const site of Object.keys(config.phones?.countryBySite ?? {})) {
      if (config.sites && !config.sites.includes(site)) {
        context.addIssue({
          code: "custom",
          path: ["phones", "countryBySite", site],
          message: `"${site}" is not listed in \`sites\``,
        });
      }
    }
    const names = new Set<string>();
    config.targets?.forEach((target, index) => {
      if (names.has(target.name.toLowerCase())) {
        context.addIssue({
          code: "custom",
          path: ["targets", index, "name"],
          message: `"${target.name}" is used twice`,
        });
      }
      names.add(target.name.toLowerCase());
      target.sites.forEach((site, siteIndex) => {
        if (config.sites && !config.sites.includes(site)) {
          context.addIssue({
            code: "custom",
            path: ["targets", index, "sites", siteIndex],
            message: `"${site}" is not listed in \`sites\``,
          });
        }
      });
    });
  })
  .transform((config) => {
    // Each source maps with its type's defaults, then the top-level mapping, then its own block's mapping.
    const blocks = Array.isArray(config.directory) ? config.directory : [config.directory];
    const sources = blocks.map(({ mapping, ...block }: (typeof blocks)[number] & { mapping?: unknown }) => ({
      block,
      mapping: { ...defaultMappingFor(block.type), ...config.mapping, ...(mapping as typeof config.mapping) },
    }));
    const [first] = sources as [(typeof sources)[number], ...typeof sources];
    // `directory` and `mapping` are the first source's (the only one unless `directory` is a list).
    return { ...config, directory: first.block, mapping: first.mapping, sources };
  });

export type Config = z.output<typeof configSchema>;
export type DirectoryConfig = Config["directory"];
export type LdapDirectoryConfig = Extract<DirectoryConfig, { type: "ldap" }>;
export type EntraDirectoryConfig = Extract<DirectoryConfig, { type: "entra" }>;
export type IlobbyConfig = Config["ilobby"];
export type MappingConfig = Config["mapping"];
export type { NotifyConfig } from "../notify/config.ts";
