/**
 * Directory source over Microsoft Graph: the users of the tenant, or the transitive user members of some groups,
 * read page by page with `$select` of exactly the mapped properties, every `@odata.nextLink` followed to the end,
 * throttling (429/503/504) retried with backoff honouring Retry-After, one fresh token when one expires mid-way.
 * Any other failure part-way throws a SyncError: iLobby disables everyone missing from an upload, so a partial
 * read must never become one.
 */
import pRetry from "p-retry";
import { type Dispatcher, fetch } from "undici";
import type { DirectorySource, SourceRecord } from "../../app/ports.ts";
import { errorMessage, SyncError } from "../../core/errors.ts";
import { OBJECT_ID_PATTERN } from "../../core/site-groups.ts";
import { createEntraTokens, type EntraCredential, type EntraTokens } from "./entra-token.ts";
import {
  describeGraphNetworkError,
  describeGraphStatus,
  GROUP_MEMBER_READ_ALL,
  type GraphRequestPurpose,
  GraphStatusError,
  grantPermissionFix,
  USER_READ_ALL,
} from "./graph-errors.ts";

export interface EntraDirectoryOptions {
  authorityUrl: string;
  graphUrl: string;
  tenantId: string;
  clientId: string;
  credential: EntraCredential;
  /** Transitive user members of any of these group object ids; empty = every user of the tenant. */
  groups: readonly string[];
  includeDisabled: boolean;
  includeGuests: boolean;
  /** `$top`: Graph serves at most 999 per page. */
  pageSize: number;
  /** Per request (the token, each page). */
  timeoutSeconds: number;
  /** Trusted CAs and the proxy decision: the same path as every other outgoing request. */
  dispatcher: Dispatcher;
  retry?: GraphRetryPolicy;
  log?: (message: string) => void;
  onToken?: (token: string) => void;
}

export interface GraphRetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** No retry waits past this many seconds from the first attempt of a request. */
  maxSeconds: number;
  initialDelayMs: number;
}

/** Graph's throttling guidance: back off and honour Retry-After; a few minutes covers a throttled tenant. */
const DEFAULT_RETRY: GraphRetryPolicy = { attempts: 6, maxSeconds: 300, initialDelayMs: 1000 };

/** The properties a sync always needs besides the mapped ones: the id, and what decides who is left out. */
const ALWAYS_SELECTED = ["id", "accountEnabled", "userType"] as const;

/**
 * Graph's spelling of the user properties people map (the config's attribute names arrive lower-case, as LDAP
 * names are case-insensitive); a name not listed here is sent as written.
 */
const USER_PROPERTY_SPELLING = new Map(
  [
    "id",
    "accountEnabled",
    "userType",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "mailNickname",
    "otherMails",
    "proxyAddresses",
    "jobTitle",
    "department",
    "companyName",
    "employeeId",
    "employeeType",
    "officeLocation",
    "businessPhones",
    "mobilePhone",
    "faxNumber",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "usageLocation",
    "preferredLanguage",
    "onPremisesSamAccountName",
    "onPremisesUserPrincipalName",
    "onPremisesImmutableId",
    "onPremisesDistinguishedName",
    "externalUserState",
    "creationType",
  ].map((name) => [name.toLowerCase(), name]),
);

export function graphSelectFor(attributes: readonly string[]): string[] {
  const selected = new Map<string, string>();
  for (const name of [...ALWAYS_SELECTED, ...attributes]) {
    const key = name.toLowerCase();
    if (!selected.has(key)) selected.set(key, USER_PROPERTY_SPELLING.get(key) ?? name);
  }
  return [...selected.values()];
}

interface GraphPage {
  value: Array<Record<string, unknown>>;
  nextLink: string | undefined;
}

const USER_TYPE = "#microsoft.graph.user";

/** Graph values as the mapping sees them: strings, lists of strings; null and empty values left out. */
function toAttributes(item: Record<string, unknown>): Record<string, string | string[]> {
  const attributes: Record<string, string | string[]> = {};
  for (const name in item) {
    if (name.startsWith("@odata.")) continue;
    const value = item[name];
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      const texts = value.filter((entry) => entry !== null && entry !== "").map(String);
      if (texts.length > 0) attributes[name.toLowerCase()] = texts;
    } else if (typeof value !== "object") {
      const text = String(value);
      if (text !== "") attributes[name.toLowerCase()] = text;
    }
  }
  return attributes;
}

export interface GroupSummary {
  id: string;
  name: string;
  /** User members, nested groups included (after the disabled/guest rules). */
  userCount: number;
  /** Members that are not users (groups, devices, service principals, contacts): skipped by a sync. */
  otherCount: number;
  examples: string[];
}

export interface EntraDirectory extends DirectorySource {
  /** A token, as a sync would get one: for `doctor` and `init`. */
  checkToken(): Promise<{ expiresOn: Date | null }>;
  /**
   * Probes User.Read.All, and GroupMember.Read.All with the first of `groupIds`, one minimal request each; returns
   * the permissions verified, or throws a SyncError naming the missing ones (`data.missingPermissions`).
   */
  checkPermissions(groupIds: readonly string[]): Promise<string[]>;
  /** Name, user count and a few examples of one group, read as a sync reads it. */
  describeGroup(id: string, exampleCount: number): Promise<GroupSummary>;
}

export function createEntraDirectory(options: EntraDirectoryOptions): EntraDirectory {
  const log = options.log ?? (() => {});
  const retry = options.retry ?? DEFAULT_RETRY;
  const graphBase = options.graphUrl.replace(/\/+$/, "");
  const graphOrigin = new URL(graphBase).origin;
  const tokens: EntraTokens = createEntraTokens({
    authorityUrl: options.authorityUrl,
    tenantId: options.tenantId,
    clientId: options.clientId,
    graphUrl: graphBase,
    credential: options.credential,
    dispatcher: options.dispatcher,
    timeoutSeconds: options.timeoutSeconds,
    log,
    ...(options.onToken ? { onToken: options.onToken } : {}),
  });

  const listUrl = (path: string, select: readonly string[]) => {
    const url = new URL(`${graphBase}/v1.0/${path}`);
    url.searchParams.set("$select", select.join(","));
    url.searchParams.set("$top", String(options.pageSize));
    return url.toString();
  };

  /** One GET, with one fresh token if Graph says the token expired. */
  async function getOnce(url: string): Promise<unknown> {
    for (let fresh = false; ; fresh = true) {
      const { token } = await tokens.get(fresh);
      let response: Awaited<ReturnType<typeof fetch>>;
      try {
        response = await fetch(url, {
          headers: { authorization: `Bearer ${token}`, accept: "application/json" },
          dispatcher: options.dispatcher,
          signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
        });
      } catch (error) {
        throw Object.assign(new Error(errorMessage(error)), {
          cause: (error as { cause?: unknown }).cause ?? error,
          network: true,
        });
      }
      const text = await response.text();
      if (response.ok) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new SyncError(
            "directory",
            `${new URL(url).host} answered a Graph request with something that is not JSON`,
            {
              cause:
                "directory.graphUrl may point at something that is not Microsoft Graph, or a proxy answered instead",
              fix: "check directory.graphUrl; nothing was uploaded",
            },
          );
        }
      }
      let code = "";
      let message = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        code = typeof parsed.error?.code === "string" ? parsed.error.code : "";
        message = typeof parsed.error?.message === "string" ? parsed.error.message : message;
      } catch {
        // not Graph's JSON error shape: keep the text
      }
      if (response.status === 401 && !fresh) {
        log(`Graph answered 401 (${message}); requesting a fresh token once`);
        continue;
      }
      throw new GraphStatusError(response.status, code, message, response.headers.get("retry-after"), url);
    }
  }

  const isRetryable = (error: unknown): boolean =>
    error instanceof GraphStatusError
      ? error.status === 429 || error.status === 503 || error.status === 504
      : (error as { network?: boolean }).network === true;

  function retryAfterMs(error: unknown): number | undefined {
    if (!(error instanceof GraphStatusError) || error.retryAfter === null) return undefined;
    const seconds = Number(error.retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(error.retryAfter);
    return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
  }

  async function getJson(url: string, purpose: GraphRequestPurpose): Promise<unknown> {
    const started = Date.now();
    try {
      return await pRetry(() => getOnce(url), {
        retries: retry.attempts - 1,
        minTimeout: retry.initialDelayMs,
        factor: 2,
        randomize: true, // many agents of one tenant must not retry in lock-step
        maxRetryTime: retry.maxSeconds * 1000,
        shouldRetry: ({ error }) => isRetryable(error),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!isRetryable(error) || retriesLeft === 0) return;
          log(`${purpose.what}: attempt ${attemptNumber} failed (${errorMessage(error)}); retrying`);
          const waitMs = retryAfterMs(error);
          if (waitMs === undefined) return;
          if (Date.now() - started + waitMs > retry.maxSeconds * 1000) {
            throw new SyncError(
              "directory",
              `Microsoft Graph throttled ${purpose.what} (HTTP ${(error as GraphStatusError).status}) and asked to wait ${Math.round(waitMs / 1000)} s (Retry-After), past this run's retry budget of ${retry.maxSeconds} s`,
              {
                cause: "the tenant is being throttled (many requests from this or other apps)",
                fix: "nothing was uploaded and the last upload was kept; run again later",
                error,
                data: { status: (error as GraphStatusError).status, retryAfterMs: waitMs },
              },
            );
          }
          log(`${purpose.what}: Graph asked to retry after ${Math.round(waitMs / 1000)} s`);
          await new Promise((resolve) => setTimeout(resolve, waitMs));
        },
      });
    } catch (error) {
      if (error instanceof SyncError) throw error;
      if (error instanceof GraphStatusError) throw describeGraphStatus(error, purpose, options.clientId);
      throw describeGraphNetworkError(error, url, "directory.graphUrl");
    }
  }

  async function getPage(url: string, purpose: GraphRequestPurpose): Promise<GraphPage> {
    const body = (await getJson(url, purpose)) as { value?: unknown; "@odata.nextLink"?: unknown };
    if (!Array.isArray(body?.value)) {
      throw new SyncError("directory", `${purpose.what}: the answer has no list of objects`, {
        fix: "check directory.graphUrl; nothing was uploaded",
      });
    }
    const next = body["@odata.nextLink"];
    if (next !== undefined && typeof next !== "string") {
      throw new SyncError("directory", `${purpose.what}: the answer's @odata.nextLink is not a URL`, {
        fix: "check directory.graphUrl; nothing was uploaded",
      });
    }
    // The bearer token goes with every nextLink: never to another origin than the configured Graph.
    if (next !== undefined && new URL(next).origin !== graphOrigin) {
      throw new SyncError(
        "directory",
        `${purpose.what}: Graph's next page link points at another host (${new URL(next).host})`,
        {
          cause:
            "something between this host and Graph rewrote the answer, or directory.graphUrl is not the Graph host",
          fix: "check directory.graphUrl and the proxy; nothing was uploaded",
        },
      );
    }
    return { value: body.value as Array<Record<string, unknown>>, nextLink: next };
  }

  /** Every page of a listing, to the last nextLink. */
  async function* pages(firstUrl: string, purpose: GraphRequestPurpose): AsyncGenerator<GraphPage> {
    for (let url: string | undefined = firstUrl; url !== undefined; ) {
      const page = await getPage(url, purpose);
      yield page;
      url = page.nextLink;
    }
  }

  const groupPurpose = (id: string, what: string): GraphRequestPurpose => ({
    what: `${what} of group ${id}`,
    permissions: [GROUP_MEMBER_READ_ALL, USER_READ_ALL],
    notFoundSetting: "directory.groups (or a siteGroups key)",
  });
  const usersPurpose: GraphRequestPurpose = { what: "the list of users", permissions: [USER_READ_ALL] };

  /** Why a listed object is not a record of this sync; undefined when it is one. */
  function leftOutBecause(item: Record<string, unknown>, fromGroup: boolean): string | undefined {
    const type = item["@odata.type"];
    if (fromGroup && type !== USER_TYPE)
      return `non-user members (${String(type ?? "unknown").replace("#microsoft.graph.", "")})`;
    if (item.accountEnabled === false && !options.includeDisabled) return "disabled accounts";
    if (item.userType === "Guest" && !options.includeGuests) return "guests";
    return undefined;
  }

  async function userIdsOf(group: string): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const page of pages(
      listUrl(`groups/${encodeURIComponent(group)}/transitiveMembers`, ["id"]),
      groupPurpose(group, "the members"),
    )) {
      for (const item of page.value)
        if (item["@odata.type"] === USER_TYPE && typeof item.id === "string") ids.add(item.id);
    }
    return ids;
  }

  return {
    describe({ attributes, siteGroups }) {
      const listing =
        options.groups.length === 0
          ? `${graphBase}/v1.0/users`
          : options.groups.map((group) => `${graphBase}/v1.0/groups/${group}/transitiveMembers`).join(" | ");
      const leftOut = [
        ...(options.includeDisabled ? [] : ["disabled accounts"]),
        ...(options.includeGuests ? [] : ["guests"]),
        ...(options.groups.length === 0 ? [] : ["non-user members"]),
      ];
      const ownSiteGroups = siteGroups.filter((group) => OBJECT_ID_PATTERN.test(group));
      return {
        type: "entra",
        details: [
          { key: "listing", label: "Graph listing", value: listing },
          { key: "select", label: "$select", value: graphSelectFor(attributes).join(",") },
          { key: "top", label: "$top", value: String(options.pageSize) },
          { key: "leftOut", label: "Left out", value: leftOut.join(", ") || "nobody" },
          ...(ownSiteGroups.length > 0
            ? [{ key: "siteGroups", label: "Site groups", value: ownSiteGroups.join(" | ") }]
            : []),
        ],
      };
    },

    async *read({ attributes, siteGroups, onProgress }) {
      const select = graphSelectFor(attributes);
      // siteGroups may also hold another source's group DNs (hybrid): this source answers for object ids only.
      const ownSiteGroups = siteGroups.filter((group) => OBJECT_ID_PATTERN.test(group));
      // Site groups first: their member ids (only ids) decide each record's groups as it streams past.
      const siteGroupMembers = new Map<string, Set<string>>();
      for (const group of ownSiteGroups) siteGroupMembers.set(group, await userIdsOf(group));
      const listings =
        options.groups.length === 0
          ? [{ url: listUrl("users", select), purpose: usersPurpose, fromGroup: false }]
          : options.groups.map((group) => ({
              url: listUrl(`groups/${encodeURIComponent(group)}/transitiveMembers`, select),
              purpose: groupPurpose(group, "the transitive members"),
              fromGroup: true,
            }));
      // A person in two of the configured groups is read twice: ids only, to keep them once.
      const seen = options.groups.length > 1 ? new Set<string>() : undefined;
      const leftOut = new Map<string, number>();
      let read = 0;
      for (const listing of listings) {
        for await (const page of pages(listing.url, listing.purpose)) {
          const records: SourceRecord[] = [];
          for (const item of page.value) {
            const reason = leftOutBecause(item, listing.fromGroup);
            if (reason !== undefined) {
              leftOut.set(reason, (leftOut.get(reason) ?? 0) + 1);
              continue;
            }
            const id = typeof item.id === "string" ? item.id : "";
            if (id === "") continue;
            if (seen?.has(id)) continue;
            seen?.add(id);
            const groups = ownSiteGroups.filter((group) => siteGroupMembers.get(group)?.has(id));
            records.push({
              ref: id,
              stableId: id,
              attributes: toAttributes(item),
              ...(groups.length > 0 ? { groups } : {}),
            });
          }
          read += records.length;
          onProgress?.(read);
          if (records.length > 0) yield records;
        }
      }
      for (const [reason, count] of leftOut) log(`left out ${count} ${reason}`);
    },

    async checkToken() {
      const { expiresOn } = await tokens.get();
      return { expiresOn };
    },

    async checkPermissions(groupIds) {
      // One minimal request per permission, so a 403 names exactly the one that is missing.
      const probes = [
        {
          permission: USER_READ_ALL,
          url: `${graphBase}/v1.0/users?$select=id&$top=1`,
          purpose: usersPurpose,
        },
      ];
      const [group] = groupIds;
      if (group !== undefined) {
        probes.push({
          permission: GROUP_MEMBER_READ_ALL,
          url: `${graphBase}/v1.0/groups/${encodeURIComponent(group)}/transitiveMembers?$select=id&$top=1`,
          purpose: groupPurpose(group, "the members"),
        });
      }
      const missing: string[] = [];
      for (const probe of probes) {
        try {
          await getJson(probe.url, probe.purpose);
        } catch (error) {
          if (!(error instanceof SyncError) || error.data?.status !== 403) throw error;
          missing.push(probe.permission);
        }
      }
      if (missing.length > 0) {
        throw new SyncError(
          "directory",
          `Microsoft Graph refused the app (HTTP 403): it lacks the application permission ${missing.join(" and ")}`,
          {
            cause: `the app registration ${options.clientId} has not been granted ${missing.join(" and ")} with admin consent`,
            fix: grantPermissionFix(options.clientId, missing),
            data: { status: 403, missingPermissions: missing },
          },
        );
      }
      return probes.map((probe) => probe.permission);
    },

    async describeGroup(id, exampleCount) {
      const group = (await getJson(
        `${graphBase}/v1.0/groups/${encodeURIComponent(id)}?$select=id,displayName`,
        groupPurpose(id, "the name"),
      )) as {
        displayName?: unknown;
      };
      const summary: GroupSummary = {
        id,
        name: typeof group.displayName === "string" ? group.displayName : id,
        userCount: 0,
        otherCount: 0,
        examples: [],
      };
      const select = ["id", "displayName", "userPrincipalName", "accountEnabled", "userType"];
      for await (const page of pages(
        listUrl(`groups/${encodeURIComponent(id)}/transitiveMembers`, select),
        groupPurpose(id, "the transitive members"),
      )) {
        for (const item of page.value) {
          const reason = leftOutBecause(item, true);
          if (reason?.startsWith("non-user")) summary.otherCount++;
          if (reason !== undefined) continue;
          summary.userCount++;
          if (summary.examples.length < exampleCount)
            summary.examples.push(String(item.userPrincipalName ?? item.displayName ?? item.id));
        }
      }
      return summary;
    },
  };
}
