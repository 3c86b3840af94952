/**
 * Directory source over LDAP (ldapts): LDAPS or StartTLS with TLS >= 1.2 and host-name checks always on, simple
 * bind (DN, UPN or DOMAIN\user), paged subtree searches yielded page by page, fail-over across URLs, and an
 * overall time limit. It decides SITE from `searchBases[].site` itself and reports `siteGroups` membership.
 */
import type { ConnectionOptions } from "node:tls";
import { Client, type Entry, type Filter } from "ldapts";
import type { DirectoryReadRequest, DirectorySource, SourceRecord } from "../../app/ports.ts";
import type { LdapDirectoryConfig } from "../../core/config/schema.ts";
import { errorMessage, SyncError } from "../../core/errors.ts";
import { watchingCertificates } from "../network/certificate-watch.ts";
import { createBasePlacement } from "./base-placement.ts";
import {
  describeBindError,
  describeConnectError,
  describeSearchError,
  isConnectionFailure,
} from "./ldap-errors.ts";
import { buildGroupMemberFilter, buildUserFilter } from "./ldap-filter.ts";

export interface LdapDirectoryOptions {
  directory: LdapDirectoryConfig;
  password: string;
  /** PEM text of trusted CAs; undefined = Node's and the system's roots. */
  ca?: string | readonly string[] | undefined;
  /** Resolved path of directory.caFile, named in certificate errors. */
  caFile?: string | undefined;
  /** Logged for each attempt, e.g. "connected to ldaps://dc2 (TLSv1.3)". */
  log?: (message: string) => void;
  /** Told the expiry of each DC certificate a connection verified. */
  onCertificate?: ((url: string, validTo: string) => void) | undefined;
}

const CONNECT_TIMEOUT_MS = 10_000;
/** AD's objectGUID: 16 bytes that survive renames and moves. */
const GUID_ATTRIBUTE = "objectGUID";

const toText = (item: Buffer | string) => (Buffer.isBuffer(item) ? item.toString("utf8") : String(item));

/** objectGUID bytes as the usual GUID string (the first three groups are little-endian, as Windows shows them). */
export function formatGuid(bytes: Buffer): string | undefined {
  if (bytes.length !== 16) return undefined;
  const hex = (indexes: number[]) =>
    indexes.map((index) => (bytes[index] as number).toString(16).padStart(2, "0")).join("");
  return [hex([3, 2, 1, 0]), hex([5, 4]), hex([7, 6]), hex([8, 9]), hex([10, 11, 12, 13, 14, 15])].join("-");
}

function toSourceRecord(
  entry: Entry,
  site: string | undefined,
  groups: readonly string[] | undefined,
): SourceRecord {
  const attributes: Record<string, string | string[]> = {};
  let stableId: string | undefined;
  for (const name in entry) {
    if (name === "dn") continue;
    const value = entry[name] as Entry[string];
    if (name.toLowerCase() === "objectguid") {
      const bytes = Array.isArray(value) ? value[0] : value;
      if (Buffer.isBuffer(bytes)) stableId = formatGuid(bytes);
      continue;
    }
    if (Array.isArray(value) && value.length === 0) continue; // ldapts lists absent requested attributes as []
    // A single value stays a plain string: one array less per attribute per person.
    attributes[name.toLowerCase()] = Array.isArray(value)
      ? value.length === 1
        ? toText(value[0] as Buffer | string)
        : value.map(toText)
      : toText(value);
  }
  const record: SourceRecord = { ref: entry.dn, attributes };
  if (stableId !== undefined) record.stableId = stableId;
  if (site !== undefined) record.site = site;
  if (groups !== undefined) record.groups = groups;
  return record;
}

export function tlsOptionsFor(url: URL, ca: LdapDirectoryOptions["ca"]): ConnectionOptions {
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  return {
    minVersion: "TLSv1.2",
    ...(ca ? { ca: ca as string | string[] } : {}),
    // Host name verification needs the host; StartTLS upgrades a bare socket, so pass it explicitly.
    host: hostname,
    ...(/^[\d.]+$|:/.test(hostname) ? {} : { servername: hostname }),
  };
}

export interface LdapDirectory extends DirectorySource {
  /** Connects and binds as a search would (fail-over included), then hangs up: for `doctor` and `init`. */
  checkBind(): Promise<{ url: string }>;
  /** Whether `dn` names a group (a base-scope search); throws the search's SyncError (e.g. it does not exist). */
  isGroup(dn: string): Promise<boolean>;
  /** The LDAP filter `read` sends. */
  readonly filter: Filter;
  /** `read` of one search base: an object another base also holds is read under the first of them only. */
  readBase(request: DirectoryReadRequest, baseIndex: number): AsyncIterable<readonly SourceRecord[]>;
}

export function createLdapDirectory(options: LdapDirectoryOptions): LdapDirectory {
  const { directory } = options;
  const log = options.log ?? (() => {});
  const timeoutMs = directory.timeoutSeconds * 1000;
  const userFilter = buildUserFilter({
    groups: directory.groups,
    nestedGroups: directory.nestedGroups,
    includeDisabled: directory.includeDisabled,
    filter: directory.filter,
  });
  const placement = createBasePlacement(directory.searchBases);

  async function connect(): Promise<{ client: Client; url: string }> {
    const failures: SyncError[] = [];
    for (const url of directory.url) {
      const parsed = new URL(url);
      const secure = parsed.protocol === "ldaps:";
      if (!secure && !directory.startTls) {
        throw new SyncError("config", `${url}: plain LDAP would send the bind password unencrypted`, {
          fix: "use ldaps:// (port 636, or 3269 for the Global Catalog) or set directory.startTls: true",
        });
      }
      const { onCertificate } = options;
      const tlsOptions = watchingCertificates(
        tlsOptionsFor(parsed, options.ca),
        onCertificate && ((validTo) => onCertificate(url, validTo)),
      );
      const client = new Client({
        url,
        // ldapts opens TLS at once whenever tlsOptions are given: for StartTLS they go to startTLS() only.
        ...(secure ? { tlsOptions } : {}),
        connectTimeout: CONNECT_TIMEOUT_MS,
        timeout: timeoutMs,
        strictDN: false,
      });
      try {
        if (!secure) await client.startTLS({ ...tlsOptions });
        await client.bind(directory.bindDn, options.password);
        log(`connected to ${url} and bound as ${directory.bindDn}`);
        return { client, url };
      } catch (error) {
        await client.unbind().catch(() => {});
        if (!isConnectionFailure(error)) throw describeBindError(error, url, directory.bindDn);
        const failure = describeConnectError(error, url, options.caFile);
        log(`${failure.message}; trying the next URL`);
        failures.push(failure);
      }
    }
    const last = failures.at(-1);
    if (failures.length === 1 && last) throw last;
    throw new SyncError("directory", `none of the ${failures.length} directory URLs could be used`, {
      cause: failures.map((failure) => failure.message).join("; "),
      fix: last?.fix ?? "check directory.url",
      error: last,
    });
  }

  function describeFailure(error: unknown, url: string, base: string): SyncError {
    if (error instanceof SyncError) return error;
    if (/filter/i.test(errorMessage(error)) && !/closed|reset/i.test(errorMessage(error))) {
      return new SyncError("config", `the LDAP filter is not valid: ${errorMessage(error)}`, {
        fix: "check directory.filter (RFC 4515 syntax, e.g. (title=*))",
        error,
      });
    }
    return describeSearchError(error, url, base);
  }

  /** Lower-case DN -> the site groups (config keys) it is a member of; AD evaluates nested membership itself. */
  async function readMemberships(client: Client, url: string, groups: readonly string[]) {
    const memberships = new Map<string, string[]>();
    for (const group of groups) {
      const filter = buildGroupMemberFilter(userFilter, group, directory.nestedGroups);
      for (const { base } of directory.searchBases) {
        try {
          const pages = client.searchPaginated(base, {
            scope: "sub",
            filter,
            attributes: ["1.1"],
            paged: { pageSize: directory.pageSize },
            timeLimit: directory.timeoutSeconds,
          });
          for await (const page of pages) {
            for (const entry of page.searchEntries) {
              const key = entry.dn.toLowerCase();
              const memberOf = memberships.get(key);
              if (!memberOf) memberships.set(key, [group]);
              else if (!memberOf.includes(group)) memberOf.push(group);
            }
          }
        } catch (error) {
          throw describeFailure(error, url, base);
        }
      }
    }
    return memberships;
  }

  const source: LdapDirectory = {
    filter: userFilter,

    async checkBind() {
      const { client, url } = await connect();
      await client.unbind().catch(() => {});
      return { url };
    },

    async isGroup(dn) {
      const { client, url } = await connect();
      try {
        const { searchEntries } = await client.search(dn, {
          scope: "base",
          filter: "(objectClass=group)",
          attributes: ["1.1"],
          timeLimit: directory.timeoutSeconds,
        });
        return searchEntries.length > 0;
      } catch (error) {
        throw describeFailure(error, url, dn);
      } finally {
        await client.unbind().catch(() => {});
      }
    },

    describe(request) {
      return {
        type: "ldap",
        details: [
          { key: "filter", label: "LDAP filter", value: userFilter.toString() },
          {
            key: "searchBases",
            label: "Search bases",
            value: directory.searchBases.map((searchBase) => searchBase.base).join(" | "),
          },
          { key: "attributes", label: "Attributes", value: request.attributes.join(", ") },
        ],
      };
    },

    read: (request) => readBases(request, directory.searchBases.keys()),
    readBase: (request, baseIndex) => readBases(request, [baseIndex]),
  };
  return source;

  async function* readBases(request: DirectoryReadRequest, baseIndexes: Iterable<number>) {
    const { client, url } = await connect();
    const deadline = Date.now() + timeoutMs;
    const attributes = [...request.attributes, GUID_ATTRIBUTE];
    let recordsSoFar = 0;
    try {
      const memberships =
        request.siteGroups.length > 0 ? await readMemberships(client, url, request.siteGroups) : undefined;
      for (const baseIndex of baseIndexes) {
        const base = directory.searchBases[baseIndex]?.base ?? "";
        const pages = client.searchPaginated(base, {
          scope: "sub",
          filter: userFilter,
          attributes,
          explicitBufferAttributes: [GUID_ATTRIBUTE],
          paged: { pageSize: directory.pageSize },
          timeLimit: directory.timeoutSeconds,
        });
        try {
          for await (const page of pages) {
            const records: SourceRecord[] = [];
            for (const entry of page.searchEntries) {
              // With overlapping bases, an object is read once: under the first base (in config order) holding it.
              const place = placement.place(entry.dn, baseIndex);
              if (!place) continue;
              records.push(toSourceRecord(entry, place.site, memberships?.get(entry.dn.toLowerCase())));
            }
            recordsSoFar += records.length;
            request.onProgress?.(recordsSoFar);
            if (Date.now() > deadline) {
              throw new SyncError(
                "directory",
                `the directory search took longer than ${directory.timeoutSeconds} s`,
                {
                  fix: "raise directory.timeoutSeconds or narrow directory.searchBases; nothing was uploaded",
                },
              );
            }
            if (records.length > 0) yield records;
          }
        } catch (error) {
          throw describeFailure(error, url, base);
        }
      }
    } finally {
      await client.unbind().catch(() => {});
    }
  }
}
