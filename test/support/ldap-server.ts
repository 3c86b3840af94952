/**
 * An in-process LDAP directory that behaves like Active Directory for what ilobby-sync needs, for integration
 * tests and the demo. Dev-only: ldapjs 3 encodes and decodes the protocol (BER, messages, filters, controls);
 * binding, searching and AD's habits are implemented here:
 *
 * - simple bind by DN, UPN (user@domain) or DOMAIN\user, failing with AD's diagnostics (`data 52e` for an
 *   unknown account or a wrong password, `data 533` for a disabled account); an empty password is an
 *   unauthenticated bind that succeeds as anonymous, as in AD, and anonymous searches are refused;
 * - scope base/one/sub; filters and/or/not/equality/presence/substrings, AD's bitwise-AND
 *   (1.2.840.113556.1.4.803) and in-chain (1.2.840.113556.1.4.1941) matching rules, and
 *   `objectCategory=person` against the stored category DN; `memberOf` is computed from groups' `member`
 *   values, as AD does;
 * - the paged-results control, and AD's MaxPageSize of 1000: an unpaged search gets 1000 entries and then
 *   sizeLimitExceeded, so a client that forgets paging fails its tests;
 * - LDAPS, or ldap:// with StartTLS (a bind before StartTLS gets strongAuthRequired, as from a domain
 *   controller that requires signing).
 *
 * Anything else (writes, other filter types) is refused loudly rather than imitated. Listens on 127.0.0.1 only.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createRequire } from "node:module";
import { createServer as createPlainServer, type Server, type Socket } from "node:net";
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureVersion,
  TLSSocket,
} from "node:tls";

/** One directory object. Attribute names keep their case in results; lookups ignore it. */
export interface FakeEntry {
  dn: string;
  attributes: Record<string, string | readonly string[]>;
}

/** An account that can bind. `dn` names its entry; the other names are alternatives AD also accepts. */
export interface FakeAccount {
  dn: string;
  /** e.g. svc-ilobby@corp.example.test */
  upn?: string;
  /** e.g. CORP\svc-ilobby */
  downLevel?: string;
  password: string;
  disabled?: boolean;
}

export interface LdapServerOptions {
  entries: readonly FakeEntry[];
  users: readonly FakeAccount[];
  tls: {
    certPem: string;
    keyPem: string;
    minVersion?: SecureVersion;
    maxVersion?: SecureVersion;
    ciphers?: string;
  };
  /** Listen on plain ldap:// and offer StartTLS, instead of LDAPS. */
  startTls?: boolean;
  /** Default 0: an ephemeral port. */
  port?: number;
}

/** One bind request, as received. */
export interface BindRecord {
  name: string;
  resultCode: number;
}

/** One logical search: the pages of a paged search are one record. */
export interface SearchRecord {
  base: string;
  scope: "base" | "one" | "sub";
  /** RFC 4515 text, values escaped as ilobby-sync's buildUserFilter escapes them. */
  filter: string;
  attributes: string[];
  paged: boolean;
  /** The page size the client asked for (paged searches only). */
  pageSize?: number;
  /** Pages (or unpaged responses) completed. */
  pages: number;
  entries: number;
  /** Result code of the last response; undefined while a paged search is under way or was cut off. */
  resultCode?: number;
}

/** Where the next search dies: the client's socket is destroyed once this much has been sent. */
export type SearchFault = { afterPages: number } | { afterEntries: number };

export interface LdapServer {
  /** ldaps://127.0.0.1:PORT, or ldap://127.0.0.1:PORT with `startTls`. */
  url: string;
  port: number;
  binds: BindRecord[];
  searches: SearchRecord[];
  /** Makes the next search (paged or not) die mid-way, as when a domain controller restarts. */
  failNextSearch(fault: SearchFault): void;
  stop(): Promise<void>;
}

export const RESULT = {
  success: 0,
  operationsError: 1,
  sizeLimitExceeded: 4,
  strongAuthRequired: 8,
  unavailableCriticalExtension: 12,
  noSuchObject: 32,
  invalidDnSyntax: 34,
  invalidCredentials: 49,
  unwillingToPerform: 53,
  other: 80,
} as const;

/** AD's per-page limit (MaxPageSize), also the most an unpaged search returns. */
export const MAX_PAGE_SIZE = 1000;

const PAGED_RESULTS_OID = "1.2.840.113556.1.4.319";
const START_TLS_OID = "1.3.6.1.4.1.1466.20037";
const BITWISE_AND_RULE = "1.2.840.113556.1.4.803";
const IN_CHAIN_RULE = "1.2.840.113556.1.4.1941";
/** Attributes whose values are DNs, compared as DNs. */
const DN_ATTRIBUTES = new Set(["member", "memberof", "manager", "distinguishedname", "objectcategory"]);

const AD_MESSAGES = {
  badCredentials: "80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 52e, v4563",
  accountDisabled: "80090308: LdapErr: DSID-0C090569, comment: AcceptSecurityContext error, data 533, v4563",
  bindRequired:
    "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be " +
    "completed on the connection., data 0, v4563",
  integrityRequired:
    "00002028: LdapErr: DSID-0C090259, comment: The server requires binds to turn on integrity checking if " +
    "SSL\\TLS are not already active on the connection, data 0, v4563",
  sizeLimit: `size limit exceeded (a search without the paged-results control gets at most ${MAX_PAGE_SIZE} entries)`,
  noSuchObject: (bestMatch: string) =>
    `0000208D: NameErr: DSID-0310028D, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'${bestMatch}'\n`,
};

// ---- The slice of ldapjs (untyped) used here ----

interface ParsedRdn {
  toString(options?: { unescaped?: boolean }): string;
}

interface ParsedDn {
  length: number;
  rdnAt(index: number): ParsedRdn;
  toString(): string;
}

interface BerReader {
  readonly offset: number;
  readonly length: number;
  readonly remain: number;
  peek(): number | null;
  readSequence(tag?: number): number | null;
  readInt(): number;
  readEnumeration(): number;
  readBoolean(): boolean;
  readString(): string;
  readRawBuffer(tag: number): Buffer;
}

interface LdapjsControl {
  type: string;
  criticality: boolean;
  value?: unknown;
}

interface LdapjsRequest {
  type: string;
  messageId: number;
}

interface LdapjsBindRequest extends LdapjsRequest {
  name: string | null;
  credentials: string;
}

interface LdapjsExtensionRequest extends LdapjsRequest {
  requestName: string;
}

/** ldapjs's parsed filter objects (@ldapjs/filter), by `type`. */
interface FilterNode {
  type: string;
  attribute: string;
  value?: string;
  filters?: FilterNode[];
  filter?: FilterNode;
  initial?: string;
  any?: string[];
  final?: string;
  matchingRule?: string;
  dnAttributes?: boolean;
  toString(): string;
}

interface Encodable {
  toBer(): { buffer: Buffer };
}

interface ResultOptions {
  messageId: number;
  status: number;
  diagnosticMessage?: string;
  matchedDN?: string;
}

interface Ldapjs {
  LDAPMessage: { parse(reader: BerReader): LdapjsRequest };
  parseBer(reader: BerReader): FilterNode;
  getControl(reader: BerReader): LdapjsControl | null;
  BindResponse: new (options: ResultOptions) => Encodable;
  ExtendedResponse: new (options: ResultOptions & { responseName?: string }) => Encodable;
  /** A SearchResultDone. */
  SearchResponse: new (
    options: ResultOptions & { controls?: unknown[] },
  ) => Encodable;
  SearchEntry: new (options: { messageId: number; objectName: unknown; attributes: unknown[] }) => Encodable;
  Attribute: new (options: { type: string; values: string[] }) => unknown;
  PagedResultsControl: new (options: { value: { size: number; cookie: Buffer } }) => unknown;
  DN: { fromString(dn: string): ParsedDn };
}

const requireFromHere = createRequire(import.meta.url);
const ldapjs = requireFromHere("ldapjs") as Ldapjs;
// ldapjs's own BER reader (a dependency of ldapjs, so resolved from there).
const { BerReader } = createRequire(requireFromHere.resolve("ldapjs"))("@ldapjs/asn1") as {
  BerReader: new (buffer: Buffer) => BerReader;
};

const SEARCH_REQUEST_TAG = 0x63;
const CONTROLS_TAG = 0xa0;

/** A search request as sent. ldapjs's own parsing round-trips the filter through text that it does not
 * escape, which breaks on DNs holding parentheses or `\,`, so searches are decoded here. */
interface SearchRequest {
  messageId: number;
  base: string;
  scope: number;
  sizeLimit: number;
  filter: FilterNode;
  attributes: string[];
  controls: LdapjsControl[];
}

function decodeSearch(messageId: number, reader: BerReader): SearchRequest {
  reader.readSequence(SEARCH_REQUEST_TAG);
  const base = reader.readString();
  const scope = reader.readEnumeration();
  reader.readEnumeration(); // derefAliases
  const sizeLimit = reader.readInt();
  reader.readInt(); // timeLimit
  reader.readBoolean(); // typesOnly
  const filter = ldapjs.parseBer(new BerReader(reader.readRawBuffer(reader.peek() ?? 0)));
  const attributes: string[] = [];
  reader.readSequence();
  for (const end = reader.offset + reader.length; reader.offset < end; ) attributes.push(reader.readString());
  const controls: LdapjsControl[] = [];
  if (reader.peek() === CONTROLS_TAG) {
    reader.readSequence();
    for (const end = reader.offset + reader.length; reader.offset < end; ) {
      const control = ldapjs.getControl(reader);
      if (control) controls.push(control);
    }
  }
  return { messageId, base, scope, sizeLimit, filter, attributes, controls };
}

/** Splits one whole LDAP message off the front of `buffered`; undefined until all its bytes are in. */
function takeMessage(buffered: Buffer): { message: Buffer; rest: Buffer } | undefined {
  const reader = new BerReader(buffered);
  if (reader.readSequence() === null || reader.remain < reader.length) return undefined;
  const end = reader.offset + reader.length;
  return { message: buffered.subarray(0, end), rest: buffered.subarray(end) };
}

// ---- The directory data ----

class LdapError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly matchedDN = "",
  ) {
    super(message);
  }
}

interface StoredEntry {
  dn: string;
  /** Lower-case, unescaped RDNs, leaf first: the case-insensitive identity of the DN. */
  path: string[];
  attributes: Map<string, { name: string; values: string[] }>;
}

interface StoredAccount extends FakeAccount {
  key: string | undefined;
}

interface BindOutcome {
  status: number;
  message?: string;
  /** Set when the connection is now bound as this account. */
  account?: StoredAccount;
}

/** Lower-case, unescaped RDNs, leaf first; undefined for text that is not a DN. */
function dnPath(dn: string | ParsedDn): string[] | undefined {
  let parsed: ParsedDn;
  try {
    parsed = typeof dn === "string" ? ldapjs.DN.fromString(dn) : dn;
  } catch {
    return undefined;
  }
  const path: string[] = [];
  for (let index = 0; index < parsed.length; index++) {
    path.push(parsed.rdnAt(index).toString({ unescaped: true }).trim().toLowerCase());
  }
  return path;
}

/** Real DNs hold no NUL, so joined paths do not collide. */
const keyOf = (path: readonly string[]): string => path.join("\0");

function dnKey(dn: string): string | undefined {
  const path = dnPath(dn);
  return path && keyOf(path);
}

function valuesOf(entry: StoredEntry, attribute: string): string[] {
  return entry.attributes.get(attribute.toLowerCase())?.values ?? [];
}

function addValue(entry: StoredEntry, name: string, value: string): void {
  const existing = entry.attributes.get(name.toLowerCase());
  if (!existing) entry.attributes.set(name.toLowerCase(), { name, values: [value] });
  else if (!existing.values.some((known) => dnKey(known) === dnKey(value))) existing.values.push(value);
}

class Directory {
  readonly entries: StoredEntry[] = [];
  readonly #byKey = new Map<string, StoredEntry>();
  /** Containers that exist only as the parent of some entry still exist as search bases. */
  readonly #containerKeys = new Set<string>();

  constructor(entries: readonly FakeEntry[]) {
    for (const entry of entries) {
      const path = dnPath(entry.dn);
      if (!path) throw new Error(`not a DN: ${entry.dn}`);
      const attributes = new Map<string, { name: string; values: string[] }>();
      for (const [name, value] of Object.entries(entry.attributes)) {
        attributes.set(name.toLowerCase(), {
          name,
          values: typeof value === "string" ? [value] : [...value],
        });
      }
      const stored = { dn: entry.dn, path, attributes };
      if (this.#byKey.has(keyOf(path))) throw new Error(`duplicate DN: ${entry.dn}`);
      this.#byKey.set(keyOf(path), stored);
      this.entries.push(stored);
      for (let depth = 1; depth < path.length; depth++) this.#containerKeys.add(keyOf(path.slice(depth)));
    }
    // memberOf is a back-link AD computes from the groups' member values.
    for (const group of this.entries) {
      for (const member of valuesOf(group, "member")) {
        const key = dnKey(member);
        const target = key === undefined ? undefined : this.#byKey.get(key);
        if (target) addValue(target, "memberOf", group.dn);
      }
    }
  }

  exists(path: readonly string[]): boolean {
    return path.length > 0 && (this.#byKey.has(keyOf(path)) || this.#containerKeys.has(keyOf(path)));
  }

  search(request: SearchRequest): StoredEntry[] {
    let parsedBase: ParsedDn;
    try {
      parsedBase = ldapjs.DN.fromString(request.base);
    } catch {
      throw new LdapError(RESULT.invalidDnSyntax, `invalid DN syntax: ${request.base}`);
    }
    const base = dnPath(parsedBase) ?? [];
    if (!this.exists(base)) {
      let depth = 1;
      while (depth < base.length && !this.exists(base.slice(depth))) depth++;
      const bestMatch = Array.from({ length: base.length - depth }, (_, index) =>
        parsedBase.rdnAt(index + depth).toString(),
      ).join(",");
      throw new LdapError(RESULT.noSuchObject, AD_MESSAGES.noSuchObject(bestMatch), bestMatch);
    }
    const baseKey = keyOf(base);
    const inScope = (entry: StoredEntry): boolean => {
      const depth = entry.path.length - base.length;
      if (depth < 0 || keyOf(entry.path.slice(depth)) !== baseKey) return false;
      if (request.scope === 0) return depth === 0;
      if (request.scope === 1) return depth === 1;
      return true;
    };
    return this.entries.filter((entry) => inScope(entry) && this.matches(request.filter, entry));
  }

  matches(filter: FilterNode, entry: StoredEntry): boolean {
    switch (filter.type) {
      case "AndFilter":
        return (filter.filters ?? []).every((part) => this.matches(part, entry));
      case "OrFilter":
        return (filter.filters ?? []).some((part) => this.matches(part, entry));
      case "NotFilter":
        return filter.filter !== undefined && !this.matches(filter.filter, entry);
      case "PresenceFilter":
        return valuesOf(entry, filter.attribute).length > 0;
      case "EqualityFilter":
        return this.#equals(entry, filter.attribute, filter.value ?? "");
      case "SubstringFilter":
        return valuesOf(entry, filter.attribute).some((value) => matchesSubstrings(value, filter));
      case "ExtensibleFilter":
        return this.#matchesRule(entry, filter);
      default:
        throw new LdapError(
          RESULT.unwillingToPerform,
          `the test directory does not implement ${filter.type}`,
        );
    }
  }

  #equals(entry: StoredEntry, attribute: string, wanted: string): boolean {
    const name = attribute.toLowerCase();
    const values = valuesOf(entry, name);
    if (name === "objectcategory" && !wanted.includes("=")) {
      // AD stores the category's DN but accepts the class name: (objectCategory=person).
      const shortName = wanted.trim().toLowerCase();
      return values.some(
        (value) => dnPath(value)?.[0] === `cn=${shortName}` || value.trim().toLowerCase() === shortName,
      );
    }
    if (DN_ATTRIBUTES.has(name)) {
      const wantedKey = dnKey(wanted);
      return wantedKey !== undefined && values.some((value) => dnKey(value) === wantedKey);
    }
    const folded = wanted.trim().toLowerCase();
    return values.some((value) => value.trim().toLowerCase() === folded);
  }

  #matchesRule(entry: StoredEntry, filter: FilterNode): boolean {
    const wanted = filter.value ?? "";
    if (filter.dnAttributes) {
      throw new LdapError(RESULT.unwillingToPerform, "the test directory does not implement :dn: filters");
    }
    switch (filter.matchingRule) {
      case undefined:
        return this.#equals(entry, filter.attribute, wanted);
      case BITWISE_AND_RULE: {
        if (!/^\d+$/.test(wanted)) return false;
        const bits = BigInt(wanted);
        return valuesOf(entry, filter.attribute).some(
          (value) => /^-?\d+$/.test(value) && (BigInt.asUintN(32, BigInt(value)) & bits) === bits,
        );
      }
      case IN_CHAIN_RULE: {
        const target = dnKey(wanted);
        return target !== undefined && this.#reaches(entry, filter.attribute, target);
      }
      default:
        throw new LdapError(
          RESULT.unwillingToPerform,
          `the test directory does not implement matching rule ${filter.matchingRule}`,
        );
    }
  }

  /** Follows `attribute` links (memberOf: up through nested groups) looking for `target`; cycle-safe. */
  #reaches(start: StoredEntry, attribute: string, target: string): boolean {
    const visited = new Set<string>();
    const pending = [start];
    for (let entry = pending.pop(); entry; entry = pending.pop()) {
      for (const value of valuesOf(entry, attribute)) {
        const key = dnKey(value);
        if (key === undefined || visited.has(key)) continue;
        if (key === target) return true;
        visited.add(key);
        const next = this.#byKey.get(key);
        if (next) pending.push(next);
      }
    }
    return false;
  }
}

function matchesSubstrings(value: string, filter: FilterNode): boolean {
  const text = value.toLowerCase();
  const initial = (filter.initial ?? "").toLowerCase();
  const final = (filter.final ?? "").toLowerCase();
  if (!text.startsWith(initial)) return false;
  let position = initial.length;
  for (const part of filter.any ?? []) {
    const found = text.indexOf(part.toLowerCase(), position);
    if (found < 0) return false;
    position = found + part.length;
  }
  return text.length - final.length >= position && text.endsWith(final);
}

const escapeValue = (value = ""): string =>
  value.replace(/[\\*()\0]/g, (character) => `\\${character.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** RFC 4515 text of a filter, escaped as ilobby-sync escapes it (ldapjs's own rendering leaves some values raw). */
function filterText(node: FilterNode): string {
  const attribute = node.attribute;
  switch (node.type) {
    case "AndFilter":
      return `(&${(node.filters ?? []).map(filterText).join("")})`;
    case "OrFilter":
      return `(|${(node.filters ?? []).map(filterText).join("")})`;
    case "NotFilter":
      return `(!${node.filter ? filterText(node.filter) : ""})`;
    case "PresenceFilter":
      return `(${attribute}=*)`;
    case "EqualityFilter":
      return `(${attribute}=${escapeValue(node.value)})`;
    case "SubstringFilter": {
      const middle = (node.any ?? []).map((part) => `${escapeValue(part)}*`).join("");
      return `(${attribute}=${escapeValue(node.initial)}*${middle}${escapeValue(node.final)})`;
    }
    case "ExtensibleFilter":
      return `(${attribute}${node.dnAttributes ? ":dn" : ""}${node.matchingRule ? `:${node.matchingRule}` : ""}:=${escapeValue(node.value)})`;
    default:
      return node.toString();
  }
}

function selectAttributes(entry: StoredEntry, requested: readonly string[]): unknown[] {
  const wanted = new Set(requested.map((name) => name.toLowerCase()));
  const all = wanted.size === 0 || wanted.has("*");
  return [...entry.attributes]
    .filter(([lowerName]) => all || wanted.has(lowerName))
    .map(([, { name, values }]) => new ldapjs.Attribute({ type: name, values }));
}

/** ldapjs re-encodes DNs (hex-escaping accents); AD returns them as stored, so send the text unchanged. */
function verbatimDn(dn: string): unknown {
  return { [Symbol.toStringTag]: "LdapDn", toString: () => dn };
}

// ---- Connections ----

interface PagedSearch {
  record: SearchRecord;
  matches: StoredEntry[];
  next: number;
  fault: SearchFault | undefined;
}

class Connection {
  /** undefined: anonymous */
  account: StoredAccount | undefined;
  readonly pagedSearches = new Map<string, PagedSearch>();

  constructor(
    public transport: Socket,
    public secure: boolean,
  ) {}

  send(message: Encodable): void {
    if (!this.transport.destroyed) this.transport.write(message.toBer().buffer);
  }
}

export async function startLdapServer(options: LdapServerOptions): Promise<LdapServer> {
  const directory = new Directory(options.entries);
  const accounts: StoredAccount[] = options.users.map((user) => ({ ...user, key: dnKey(user.dn) }));
  const binds: BindRecord[] = [];
  const searches: SearchRecord[] = [];
  let pendingFault: SearchFault | undefined;
  const sockets = new Set<Socket>();
  const tlsSettings = {
    key: options.tls.keyPem,
    cert: options.tls.certPem,
    ...(options.tls.minVersion ? { minVersion: options.tls.minVersion } : {}),
    ...(options.tls.maxVersion ? { maxVersion: options.tls.maxVersion } : {}),
    ...(options.tls.ciphers ? { ciphers: options.tls.ciphers } : {}),
  };

  function findAccount(name: string): StoredAccount | undefined {
    const lower = name.trim().toLowerCase();
    const key = dnKey(name);
    return accounts.find(
      (account) =>
        account.upn?.toLowerCase() === lower ||
        account.downLevel?.toLowerCase() === lower ||
        (key !== undefined && account.key === key),
    );
  }

  /** AD's answer to a simple bind. An empty password makes an unauthenticated bind, which AD lets through. */
  function checkBind(connection: Connection, name: string, password: string): BindOutcome {
    if (password === "") return { status: RESULT.success };
    if (!connection.secure)
      return { status: RESULT.strongAuthRequired, message: AD_MESSAGES.integrityRequired };
    const account = findAccount(name);
    if (!account || account.password !== password) {
      return { status: RESULT.invalidCredentials, message: AD_MESSAGES.badCredentials };
    }
    if (account.disabled) return { status: RESULT.invalidCredentials, message: AD_MESSAGES.accountDisabled };
    return { status: RESULT.success, account };
  }

  function bind(connection: Connection, request: LdapjsBindRequest): void {
    const name = request.name ?? "";
    const outcome = checkBind(connection, name, request.credentials);
    connection.account = outcome.account;
    binds.push({ name, resultCode: outcome.status });
    connection.send(
      new ldapjs.BindResponse({
        messageId: request.messageId,
        status: outcome.status,
        diagnosticMessage: outcome.message ?? "",
      }),
    );
  }

  function startTls(connection: Connection, request: LdapjsExtensionRequest, onData: (data: Buffer) => void) {
    if (!options.startTls || connection.secure) {
      connection.send(
        new ldapjs.ExtendedResponse({
          messageId: request.messageId,
          status: RESULT.operationsError,
          diagnosticMessage: "TLS is already active on this connection",
        }),
      );
      return;
    }
    connection.send(
      new ldapjs.ExtendedResponse({
        messageId: request.messageId,
        status: RESULT.success,
        responseName: START_TLS_OID,
      }),
    );
    // The client starts the handshake only once it has the answer, so nothing is lost by switching now.
    const plain = connection.transport;
    plain.off("data", onData);
    const secure = new TLSSocket(plain, { isServer: true, secureContext: createSecureContext(tlsSettings) });
    watch(secure, onData);
    connection.transport = secure;
    connection.secure = true;
  }

  function search(connection: Connection, request: SearchRequest): void {
    const paging = request.controls.find((control) => control.type === PAGED_RESULTS_OID)?.value as
      | { size: number; cookie: Buffer }
      | undefined;
    const finish = (status: number, diagnosticMessage = "", matchedDN = "", cookie?: Buffer) => {
      const controls = paging
        ? [new ldapjs.PagedResultsControl({ value: { size: 0, cookie: cookie ?? Buffer.alloc(0) } })]
        : [];
      connection.send(
        new ldapjs.SearchResponse({
          messageId: request.messageId,
          status,
          diagnosticMessage,
          matchedDN,
          controls,
        }),
      );
    };

    let active: PagedSearch | undefined;
    try {
      const unknownCritical = request.controls.find(
        (control) => control.criticality && control.type !== PAGED_RESULTS_OID,
      );
      if (unknownCritical) {
        throw new LdapError(
          RESULT.unavailableCriticalExtension,
          `unsupported critical control ${unknownCritical.type}`,
        );
      }
      const cookie = paging?.cookie.toString("hex") ?? "";
      const resumed = cookie ? connection.pagedSearches.get(cookie) : undefined;
      if (cookie && !resumed) throw new LdapError(RESULT.unwillingToPerform, "unknown paged-results cookie");
      if (resumed) {
        connection.pagedSearches.delete(cookie);
        active = resumed;
      } else {
        if (!connection.account) throw new LdapError(RESULT.operationsError, AD_MESSAGES.bindRequired);
        const record: SearchRecord = {
          base: request.base,
          scope: request.scope === 0 ? "base" : request.scope === 1 ? "one" : "sub",
          filter: filterText(request.filter),
          attributes: [...request.attributes],
          paged: paging !== undefined,
          ...(paging ? { pageSize: paging.size } : {}),
          pages: 0,
          entries: 0,
        };
        searches.push(record);
        active = { record, matches: [], next: 0, fault: pendingFault };
        pendingFault = undefined;
        active.matches = directory.search(request);
      }
    } catch (error) {
      const failure = error instanceof LdapError ? error : new LdapError(RESULT.other, String(error));
      if (active) active.record.resultCode = failure.code;
      finish(failure.code, failure.message, failure.matchedDN);
      return;
    }
    const { record, matches, fault } = active;
    if (paging?.size === 0) {
      // A page size of 0 abandons a paged search (RFC 2696).
      record.resultCode = RESULT.success;
      finish(RESULT.success);
      return;
    }
    if (fault && "afterPages" in fault && record.pages >= fault.afterPages) {
      connection.transport.destroy();
      return;
    }
    const limit = Math.min(paging ? paging.size : request.sizeLimit || MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    for (const entry of matches.slice(active.next, active.next + limit)) {
      connection.send(
        new ldapjs.SearchEntry({
          messageId: request.messageId,
          objectName: verbatimDn(entry.dn),
          attributes: selectAttributes(entry, request.attributes),
        }),
      );
      record.entries++;
      active.next++;
      if (fault && "afterEntries" in fault && record.entries >= fault.afterEntries) {
        connection.transport.destroy();
        return;
      }
    }
    record.pages++;
    const more = active.next < matches.length;
    if (paging && more) {
      const cookie = randomBytes(8);
      connection.pagedSearches.set(cookie.toString("hex"), active);
      finish(RESULT.success, "", "", cookie);
      return;
    }
    record.resultCode = more ? RESULT.sizeLimitExceeded : RESULT.success;
    finish(record.resultCode, more ? AD_MESSAGES.sizeLimit : "");
  }

  function watch(transport: Socket, onData: (data: Buffer) => void): void {
    sockets.add(transport);
    transport.on("data", onData);
    transport.on("error", () => transport.destroy());
    transport.on("close", () => sockets.delete(transport));
  }

  function accept(socket: Socket): void {
    // Entries go out as many small writes; Nagle's algorithm would hold each response back ~40 ms.
    socket.setNoDelay(true);
    const connection = new Connection(socket, !options.startTls);
    let buffered: Buffer = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      try {
        for (let taken = takeMessage(buffered); taken; taken = takeMessage(buffered)) {
          buffered = taken.rest;
          handle(connection, taken.message, onData);
        }
      } catch {
        connection.transport.destroy(); // not LDAP, or a request this server cannot decode
      }
    };
    watch(socket, onData);
  }

  function handle(connection: Connection, message: Buffer, onData: (data: Buffer) => void): void {
    const reader = new BerReader(message);
    reader.readSequence();
    const messageId = reader.readInt();
    if (reader.peek() === SEARCH_REQUEST_TAG) {
      search(connection, decodeSearch(messageId, reader));
      return;
    }
    const request = ldapjs.LDAPMessage.parse(new BerReader(message));
    if (request.type === "BindRequest") {
      bind(connection, request as LdapjsBindRequest);
    } else if (request.type === "ExtensionRequest") {
      const extension = request as LdapjsExtensionRequest;
      if (extension.requestName === START_TLS_OID) startTls(connection, extension, onData);
      else {
        connection.send(
          new ldapjs.ExtendedResponse({
            messageId,
            status: RESULT.unwillingToPerform,
            diagnosticMessage: `unsupported extended operation ${extension.requestName}`,
          }),
        );
      }
    } else if (request.type !== "AbandonRequest") {
      // Unbind, and writes: ilobby-sync never writes, so a write is a bug worth a dropped connection.
      connection.transport.end();
    }
  }

  const server: Server = options.startTls
    ? createPlainServer(accept)
    : createTlsServer(tlsSettings, (socket) => accept(socket));
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the LDAP server has no TCP address");
  const port = address.port;

  let stopped: Promise<void> | undefined;
  return {
    url: `${options.startTls ? "ldap" : "ldaps"}://127.0.0.1:${port}`,
    port,
    binds,
    searches,
    failNextSearch(fault) {
      pendingFault = fault;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}
