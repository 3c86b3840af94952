/**
 * Directory source over LDAP (ldapts): LDAPS or StartTLS with TLS >= 1.2 and host-name checks always on, simple
 * bind (DN, UPN or DOMAIN\user), paged subtree searches, fail-over across URLs, and an overall time limit.
 */
import type { ConnectionOptions } from "node:tls";
import { Client, type Entry } from "ldapts";
import type { DirectoryQuery, DirectorySource } from "../../app/ports.ts";
import { errorMessage, SyncError } from "../../core/errors.ts";
import { buildGroupMemberFilter } from "../../core/ldap-filter.ts";
import type { DirectoryEntry } from "../../core/mapping.ts";
import {
  describeBindError,
  describeConnectError,
  describeSearchError,
  isConnectionFailure,
} from "./ldap-errors.ts";

export interface LdapDirectoryOptions {
  urls: readonly string[];
  bindDn: string;
  password: string;
  /** PEM text of trusted CAs; undefined = Node's and the system's roots. */
  ca?: string | readonly string[] | undefined;
  caFile?: string | undefined;
  startTls: boolean;
  pageSize: number;
  timeoutSeconds: number;
  /** Logged for each attempt, e.g. "connected to ldaps://dc2 (TLSv1.3)". */
  log?: (message: string) => void;
}

const CONNECT_TIMEOUT_MS = 10_000;

const toText = (item: Buffer | string) => (Buffer.isBuffer(item) ? item.toString("utf8") : String(item));

// Every entry is held until the plan is made: a single value stays a plain string and entries of one base share
// one baseIndexes array, which halves the memory of 100,000 entries (docs/benchmarks.md).
function toDirectoryEntry(entry: Entry, baseIndexes: readonly number[]): DirectoryEntry {
  const attributes: Record<string, string | string[]> = {};
  for (const name in entry) {
    if (name === "dn") continue;
    const value = entry[name] as Entry[string];
    if (Array.isArray(value) && value.length === 0) continue; // ldapts lists absent requested attributes as []
    attributes[name.toLowerCase()] = Array.isArray(value) ? value.map(toText) : toText(value);
  }
  return { dn: entry.dn, attributes, baseIndexes };
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
}

export function createLdapDirectory(options: LdapDirectoryOptions): LdapDirectory {
  const log = options.log ?? (() => {});
  const timeoutMs = options.timeoutSeconds * 1000;

  async function connect(): Promise<{ client: Client; url: string }> {
    const failures: SyncError[] = [];
    for (const url of options.urls) {
      const parsed = new URL(url);
      const secure = parsed.protocol === "ldaps:";
      if (!secure && !options.startTls) {
        throw new SyncError("config", `${url}: plain LDAP would send the bind password unencrypted`, {
          fix: "use ldaps:// (port 636, or 3269 for the Global Catalog) or set directory.startTls: true",
        });
      }
      const tlsOptions = tlsOptionsFor(parsed, options.ca);
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
        await client.bind(options.bindDn, options.password);
        log(`connected to ${url} and bound as ${options.bindDn}`);
        return { client, url };
      } catch (error) {
        await client.unbind().catch(() => {});
        if (!isConnectionFailure(error)) throw describeBindError(error, url, options.bindDn);
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

  return {
    async checkBind() {
      const { client, url } = await connect();
      await client.unbind().catch(() => {});
      return { url };
    },

    async fetchEntries(query: DirectoryQuery, onProgress?: (entriesSoFar: number) => void) {
      const { client, url } = await connect();
      const entries: DirectoryEntry[] = [];
      const deadline = Date.now() + timeoutMs;
      try {
        for (const [baseIndex, base] of query.bases.entries()) {
          const baseIndexes = Object.freeze([baseIndex]);
          const pages = client.searchPaginated(base, {
            scope: "sub",
            filter: query.filter,
            attributes: [...query.attributes],
            paged: { pageSize: options.pageSize },
            timeLimit: options.timeoutSeconds,
          });
          try {
            for await (const page of pages) {
              for (const entry of page.searchEntries) entries.push(toDirectoryEntry(entry, baseIndexes));
              onProgress?.(entries.length);
              if (Date.now() > deadline) {
                throw new SyncError(
                  "directory",
                  `the directory search took longer than ${options.timeoutSeconds} s`,
                  {
                    fix: "raise directory.timeoutSeconds or narrow directory.searchBases; nothing was uploaded",
                  },
                );
              }
            }
            // One DN-only search per site group: AD evaluates nested membership server-side (in-chain rule).
            for (const group of query.membershipGroups) {
              const members = new Set<string>();
              const memberPages = client.searchPaginated(base, {
                scope: "sub",
                filter: `(&${query.filter}${buildGroupMemberFilter(group, query.nestedGroups)})`,
                attributes: ["1.1"],
                paged: { pageSize: options.pageSize },
                timeLimit: options.timeoutSeconds,
              });
              for await (const page of memberPages)
                for (const entry of page.searchEntries) members.add(entry.dn.toLowerCase());
              for (const entry of entries) {
                if (entry.baseIndexes[0] === baseIndex && members.has(entry.dn.toLowerCase())) {
                  entry.siteGroups = [...(entry.siteGroups ?? []), group];
                }
              }
            }
          } catch (error) {
            if (error instanceof SyncError) throw error;
            if (/filter/i.test(errorMessage(error)) && !/closed|reset/i.test(errorMessage(error))) {
              throw new SyncError("config", `the LDAP filter is not valid: ${errorMessage(error)}`, {
                fix: "check directory.filter (RFC 4515 syntax, e.g. (title=*))",
                error,
              });
            }
            throw describeSearchError(error, url, base);
          }
        }
      } finally {
        await client.unbind().catch(() => {});
      }
      return entries;
    },
  };
}
