/**
 * A local emulator of the two Microsoft endpoints a Graph directory reader talks to, on one HTTPS server on
 * 127.0.0.1 with a certificate from its own throw-away CA:
 * - the identity platform: `{tenant}/v2.0/.well-known/openid-configuration` (what @azure/msal-node reads first)
 *   and `{tenant}/oauth2/v2.0/token` (client credentials with a client secret, or a certificate's signed client
 *   assertion, verified against the registered certificate);
 * - Microsoft Graph v1.0: `/users`, `/groups/{id}` and `/groups/{id}/transitiveMembers`, with `$select` and `$top`
 *   honoured as Graph does (unknown properties and page sizes over 999 refused), `@odata.nextLink` paging, the
 *   application permissions checked, and Graph's error bodies.
 * Faults can be queued (429 with Retry-After, 503, a 500 on page N, a token expiring mid-paging, 403), and every
 * request is recorded so tests can assert what the client asked for.
 */
import { constants, createHash, randomBytes, randomUUID, verify, X509Certificate } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  drain,
  jsonReply,
  mediaType,
  type Reply,
  readSmallBody,
  sendReply,
} from "../emulator/http-helpers.ts";
import { startHttpsTestServer } from "../support/https-test-server.ts";
import {
  DEFAULT_USER_PROPERTIES,
  type DirectoryObject,
  type GraphUser,
  type Tenant,
  USER_PROPERTIES,
} from "./tenant.ts";

export const USER_READ_ALL = "User.Read.All";
export const GROUP_MEMBER_READ_ALL = "GroupMember.Read.All";

export interface GraphClient {
  /** The client secret, when the app registration has one. */
  secret?: string;
  /** PEM of the certificate registered with the app (its public part). */
  certificatePem?: string;
  /** Application permissions granted (admin consent given); default both that a sync needs. */
  roles?: string[];
}

export interface GraphEmulatorOptions {
  tenant: Tenant;
  /** The names the tenant answers to: its domain and its GUID. */
  tenantIds: string[];
  clients: Record<string, GraphClient>;
  /** default 3600 */
  tokenTtlSeconds?: number;
  /** Where the CA and server certificate go; default a new temp dir, removed on stop(). */
  dir?: string;
  port?: number;
}

export type GraphFault =
  | { kind: "status"; status: number; retryAfterSeconds?: number }
  /** Graph: answer 401 as for a token whose lifetime ended (the token stays expired). */
  | { kind: "expire-token" };

export type GraphEndpoint = "openid" | "token" | "graph" | "other";

export interface FaultRule {
  endpoint: "token" | "graph";
  fault: GraphFault;
  /** Graph: only a list request for this page (1 = the first request, 2 = the first nextLink, ...). */
  page?: number;
  /** How many matching requests get the fault (default 1). */
  times?: number;
}

export interface RecordedGraphRequest {
  endpoint: GraphEndpoint;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  at: number;
  headers: Record<string, string | string[] | undefined>;
  /** Graph list requests: 1 for the first page, then one more per nextLink. */
  page?: number;
  /** Token requests: the form as sent (secrets included: tests assert on them). */
  form?: Record<string, string>;
  /** Token requests: how the client proved itself. */
  credential?: "secret" | "certificate";
  clientId?: string;
}

export interface GraphEmulator {
  /** https://127.0.0.1:PORT: both the authority URL and the Graph URL. */
  url: string;
  caFile: string;
  caPem: string;
  requests: RecordedGraphRequest[];
  queueFault(rule: FaultRule): void;
  clearFaults(): void;
  setClient(clientId: string, client: GraphClient): void;
  expireAllTokens(): void;
  /** Recorded requests, faults and tokens cleared (clients and tenant stay). */
  reset(): void;
  stop(): Promise<void>;
}

const MAX_PAGE_SIZE = 999;
const DEFAULT_PAGE_SIZE = 100;
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const CLOCK_SKEW_SECONDS = 300;
const canonicalProperty = new Map(USER_PROPERTIES.map((name) => [name.toLowerCase(), name]));

interface IssuedToken {
  clientId: string;
  roles: readonly string[];
  expiresAt: number;
}

interface ListQuery {
  select: string[];
  top: number;
  offset: number;
}

/** A Graph or identity-platform error answer. */
class Refusal extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

function graphError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): Refusal {
  return new Refusal(
    jsonReply(
      status,
      {
        error: { code, message, innerError: { date: new Date().toISOString(), "request-id": randomUUID() } },
      },
      headers,
    ),
  );
}

function oauthError(status: number, error: string, aadsts: number, description: string): Refusal {
  return new Refusal(
    jsonReply(status, {
      error,
      error_description: `AADSTS${aadsts}: ${description}`,
      error_codes: [aadsts],
      timestamp: new Date().toISOString(),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    }),
  );
}

function base64UrlJson(part: string | undefined): Record<string, unknown> | undefined {
  if (part === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

class GraphEmulatorServer implements GraphEmulator {
  readonly requests: RecordedGraphRequest[] = [];
  url = "";
  readonly #tenant: Tenant;
  readonly #tenantIds: Set<string>;
  readonly #clients: Map<string, GraphClient>;
  readonly #tokenTtlMs: number;
  readonly #tokens = new Map<string, IssuedToken>();
  #faults: Array<FaultRule & { remaining: number }> = [];

  constructor(
    readonly caFile: string,
    readonly caPem: string,
    options: GraphEmulatorOptions,
    readonly stop: () => Promise<void>,
  ) {
    this.#tenant = options.tenant;
    this.#tenantIds = new Set(options.tenantIds.map((id) => id.toLowerCase()));
    this.#clients = new Map(Object.entries(options.clients));
    this.#tokenTtlMs = (options.tokenTtlSeconds ?? 3600) * 1000;
  }

  queueFault(rule: FaultRule): void {
    this.#faults.push({ ...rule, remaining: rule.times ?? 1 });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  setClient(clientId: string, client: GraphClient): void {
    this.#clients.set(clientId, client);
  }

  expireAllTokens(): void {
    for (const token of this.#tokens.values()) token.expiresAt = 0;
  }

  reset(): void {
    this.requests.length = 0;
    this.#tokens.clear();
    this.clearFaults();
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.url);
    const record: RecordedGraphRequest = {
      endpoint: "other",
      method: request.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      at: Date.now(),
      headers: { ...request.headers },
    };
    this.requests.push(record);
    let reply: Reply;
    try {
      reply = await this.#route(url, request, record);
    } catch (error) {
      if (request.socket.destroyed) return;
      reply =
        error instanceof Refusal
          ? error.reply
          : graphError(500, "generalException", `Emulator error: ${String(error)}`).reply;
    }
    await drain(request);
    record.status = reply.status;
    sendReply(response, reply);
  }

  async #route(url: URL, request: IncomingMessage, record: RecordedGraphRequest): Promise<Reply> {
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const [first, second, third, fourth, fifth] = segments;
    if (second === "v2.0" && third === ".well-known" && fourth === "openid-configuration" && !fifth) {
      record.endpoint = "openid";
      return this.#openIdConfiguration(first ?? "");
    }
    if (second === "oauth2" && third === "v2.0" && fourth === "token" && !fifth) {
      record.endpoint = "token";
      return this.#issueToken(first ?? "", request, record);
    }
    if (first === "v1.0") {
      record.endpoint = "graph";
      return this.#graph(url, segments.slice(1), request, record);
    }
    throw graphError(404, "Request_ResourceNotFound", `No route for ${url.pathname}`);
  }

  #knownTenant(tenant: string): boolean {
    return this.#tenantIds.has(tenant.toLowerCase());
  }

  #openIdConfiguration(tenant: string): Reply {
    if (!this.#knownTenant(tenant)) {
      throw oauthError(400, "invalid_tenant", 90002, `Tenant '${tenant}' not found.`);
    }
    const base = `${this.url}/${tenant}`;
    return jsonReply(200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf"],
      tenant_region_scope: "EU",
      cloud_instance_name: "microsoftonline.com",
      cloud_graph_host_name: "graph.windows.net",
      msgraph_host: new URL(this.url).host,
    });
  }

  #takeFault(endpoint: "token" | "graph", page: number | undefined): GraphFault | undefined {
    const index = this.#faults.findIndex(
      (rule) => rule.endpoint === endpoint && (rule.page === undefined || rule.page === page),
    );
    const rule = this.#faults[index];
    if (rule === undefined) return undefined;
    rule.remaining--;
    if (rule.remaining <= 0) this.#faults.splice(index, 1);
    return rule.fault;
  }

  async #issueToken(tenant: string, request: IncomingMessage, record: RecordedGraphRequest): Promise<Reply> {
    if (request.method !== "POST") throw oauthError(405, "invalid_request", 900561, "POST required.");
    const fault = this.#takeFault("token", undefined);
    if (fault?.kind === "status") throw statusFault(fault);
    if (!this.#knownTenant(tenant))
      throw oauthError(400, "invalid_tenant", 90002, `Tenant '${tenant}' not found.`);
    const body = await readSmallBody(request, 64 * 1024);
    if (body === undefined || mediaType(request) !== "application/x-www-form-urlencoded") {
      throw oauthError(400, "invalid_request", 900144, "Expected a form body.");
    }
    const form = Object.fromEntries(new URLSearchParams(body));
    record.form = form;
    const clientId = form.client_id ?? "";
    record.clientId = clientId;
    if (form.grant_type !== "client_credentials") {
      throw oauthError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
    }
    const client = this.#clients.get(clientId);
    if (client === undefined) {
      throw oauthError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    }
    if (form.scope !== `${this.url}/.default`) {
      throw oauthError(
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${form.scope} is not valid.`,
      );
    }
    if (form.client_secret !== undefined) {
      record.credential = "secret";
      if (client.secret === undefined || client.secret !== form.client_secret) {
        throw oauthError(401, "invalid_client", 7000215, "Invalid client secret provided.");
      }
    } else if (form.client_assertion !== undefined) {
      record.credential = "certificate";
      if (form.client_assertion_type !== ASSERTION_TYPE) {
        throw oauthError(400, "invalid_request", 50027, "Invalid client_assertion_type.");
      }
      const problem = this.#assertionProblem(
        form.client_assertion,
        clientId,
        client,
        `${this.url}${record.path}`,
      );
      if (problem !== undefined) throw oauthError(401, "invalid_client", 700027, problem);
    } else {
      throw oauthError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain client_assertion or client_secret.",
      );
    }
    const token = randomBytes(32).toString("base64url");
    this.#tokens.set(token, {
      clientId,
      roles: client.roles ?? [USER_READ_ALL, GROUP_MEMBER_READ_ALL],
      expiresAt: Date.now() + this.#tokenTtlMs,
    });
    const seconds = Math.round(this.#tokenTtlMs / 1000);
    return jsonReply(200, {
      token_type: "Bearer",
      expires_in: seconds,
      ext_expires_in: seconds,
      access_token: token,
    });
  }

  /** Checks a client assertion as the identity platform does; undefined when it is good. */
  #assertionProblem(
    assertion: string,
    clientId: string,
    client: GraphClient,
    tokenUrl: string,
  ): string | undefined {
    if (client.certificatePem === undefined) return "The application has no certificate registered.";
    const [headerPart, payloadPart, signaturePart, extra] = assertion.split(".");
    const header = base64UrlJson(headerPart);
    const payload = base64UrlJson(payloadPart);
    if (header === undefined || payload === undefined || signaturePart === undefined || extra !== undefined) {
      return "Client assertion is not a well-formed JWT.";
    }
    const certificate = new X509Certificate(client.certificatePem);
    const sha256 = createHash("sha256").update(certificate.raw).digest("base64url");
    const sha1 = createHash("sha1").update(certificate.raw).digest("base64url");
    if (header["x5t#S256"] !== sha256 && header.x5t !== sha1) {
      return "Client assertion contains an invalid signature. [Reason - The key was not found.]";
    }
    const signingInput = Buffer.from(`${headerPart}.${payloadPart}`);
    const signature = Buffer.from(signaturePart, "base64url");
    const key = certificate.publicKey;
    const valid =
      header.alg === "PS256"
        ? verify(
            "sha256",
            signingInput,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
            signature,
          )
        : header.alg === "RS256"
          ? verify("sha256", signingInput, key, signature)
          : false;
    if (!valid) return "Client assertion contains an invalid signature.";
    const now = Date.now() / 1000;
    if (payload.aud !== tokenUrl) return `The audience claim is invalid: expected ${tokenUrl}.`;
    if (payload.iss !== clientId || payload.sub !== clientId)
      return "The issuer and subject must be the client id.";
    if (typeof payload.exp !== "number" || payload.exp < now - CLOCK_SKEW_SECONDS)
      return "The client assertion has expired.";
    if (typeof payload.nbf === "number" && payload.nbf > now + CLOCK_SKEW_SECONDS)
      return "The client assertion is not yet valid.";
    return undefined;
  }

  #authorize(request: IncomingMessage, fault: GraphFault | undefined): IssuedToken {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "")?.[1];
    const token = bearer === undefined ? undefined : this.#tokens.get(bearer);
    if (token === undefined) {
      throw graphError(401, "InvalidAuthenticationToken", "Access token is empty or not valid.");
    }
    if (fault?.kind === "expire-token") token.expiresAt = 0;
    if (token.expiresAt <= Date.now()) {
      throw graphError(
        401,
        "InvalidAuthenticationToken",
        "Lifetime validation failed, the token is expired.",
        {
          "www-authenticate": 'Bearer error="invalid_token", error_description="The token is expired"',
        },
      );
    }
    return token;
  }

  async #graph(
    url: URL,
    path: string[],
    request: IncomingMessage,
    record: RecordedGraphRequest,
  ): Promise<Reply> {
    if (request.method !== "GET") throw graphError(405, "Request_BadRequest", "Only GET is emulated.");
    const [collection, id, navigation, extra] = path;
    const isList = (collection === "users" && id === undefined) || navigation === "transitiveMembers";
    const query = isList ? parseListQuery(url) : undefined;
    if (query !== undefined) record.page = Math.floor(query.offset / query.top) + 1;
    const fault = this.#takeFault("graph", record.page);
    if (fault?.kind === "status") throw statusFault(fault);
    const token = this.#authorize(request, fault);
    record.clientId = token.clientId;
    const need = (role: string) => {
      const granted =
        token.roles.includes(role) ||
        token.roles.includes("Directory.Read.All") ||
        (role === GROUP_MEMBER_READ_ALL && token.roles.includes("Group.Read.All"));
      if (!granted) {
        throw graphError(
          403,
          "Authorization_RequestDenied",
          "Insufficient privileges to complete the operation.",
        );
      }
    };

    if (collection === "users" && id === undefined && query !== undefined) {
      need(USER_READ_ALL);
      return this.#page(url, query, this.#tenant.users, (user) => serializeUser(user, query.select, false));
    }
    if (collection === "groups" && id !== undefined && extra === undefined) {
      need(GROUP_MEMBER_READ_ALL);
      const group = this.#tenant.group(id);
      if (group === undefined) {
        throw graphError(
          404,
          "Request_ResourceNotFound",
          `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
        );
      }
      if (navigation === undefined) {
        return jsonReply(200, {
          "@odata.context": `${this.url}/v1.0/$metadata#groups/$entity`,
          id: group.id,
          displayName: group.displayName,
        });
      }
      if (navigation === "transitiveMembers" && query !== undefined) {
        // User properties other than the basic ones need User.Read.All besides GroupMember.Read.All.
        if (query.select.some((name) => name !== "id" && name !== "displayName")) need(USER_READ_ALL);
        return this.#page(url, query, this.#tenant.transitiveMembers(id), (member) =>
          serializeMember(member, query.select),
        );
      }
    }
    throw graphError(400, "Request_BadRequest", `Unsupported request: /v1.0/${path.join("/")}`);
  }

  #page<T>(
    url: URL,
    query: ListQuery,
    items: readonly T[],
    serialize: (item: T) => Record<string, unknown>,
  ): Reply {
    const slice = items.slice(query.offset, query.offset + query.top);
    const body: Record<string, unknown> = {
      "@odata.context": `${this.url}/v1.0/$metadata#directoryObjects`,
      value: slice.map(serialize),
    };
    if (query.offset + query.top < items.length) {
      const next = new URL(url.pathname, this.url);
      for (const [name, value] of url.searchParams)
        if (name !== "$skiptoken") next.searchParams.set(name, value);
      const skipToken = Buffer.from(JSON.stringify({ offset: query.offset + query.top })).toString(
        "base64url",
      );
      next.searchParams.set("$skiptoken", skipToken);
      body["@odata.nextLink"] = next.toString();
    }
    return jsonReply(200, body);
  }
}

function statusFault(fault: { status: number; retryAfterSeconds?: number }): Refusal {
  const headers: Record<string, string> =
    fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) };
  const code =
    fault.status === 429
      ? "TooManyRequests"
      : fault.status === 403
        ? "Authorization_RequestDenied"
        : fault.status === 503
          ? "serviceNotAvailable"
          : "generalException";
  const message =
    fault.status === 403
      ? "Insufficient privileges to complete the operation."
      : `Emulated fault ${fault.status}.`;
  return graphError(fault.status, code, message, headers);
}

function parseListQuery(url: URL): ListQuery {
  const topText = url.searchParams.get("$top");
  const top = topText === null ? DEFAULT_PAGE_SIZE : Number(topText);
  if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE_SIZE) {
    throw graphError(
      400,
      "Request_BadRequest",
      `Invalid page size specified: '${topText}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.`,
    );
  }
  const select: string[] = [];
  for (const name of (url.searchParams.get("$select") ?? "").split(",")) {
    const trimmed = name.trim();
    if (trimmed === "") continue;
    const canonical = canonicalProperty.get(trimmed.toLowerCase());
    if (canonical === undefined) {
      throw graphError(
        400,
        "Request_BadRequest",
        `Could not find a property named '${trimmed}' on type 'microsoft.graph.user'.`,
      );
    }
    select.push(canonical);
  }
  const skipToken = url.searchParams.get("$skiptoken");
  const offset = skipToken === null ? 0 : base64UrlJson(skipToken)?.offset;
  if (typeof offset !== "number") throw graphError(400, "Request_BadRequest", "The skip token is not valid.");
  return { select, top, offset };
}

function serializeUser(user: GraphUser, select: readonly string[], typed: boolean): Record<string, unknown> {
  const properties = select.length > 0 ? select : DEFAULT_USER_PROPERTIES;
  const result: Record<string, unknown> = typed ? { "@odata.type": "#microsoft.graph.user" } : {};
  const values = user as unknown as Record<string, unknown>;
  for (const name of properties) {
    result[name] = values[name] ?? (name === "businessPhones" ? [] : null);
  }
  return result;
}

function serializeMember(member: DirectoryObject, select: readonly string[]): Record<string, unknown> {
  if (member.type === "user") return serializeUser(member.object, select, true);
  const result: Record<string, unknown> = {
    "@odata.type": `#microsoft.graph.${member.type}`,
    id: member.object.id,
  };
  if (select.length === 0 || select.includes("displayName")) result.displayName = member.object.displayName;
  return result;
}

export function startGraphEmulator(options: GraphEmulatorOptions): Promise<GraphEmulator> {
  return startHttpsTestServer(
    {
      dir: options.dir,
      port: options.port,
      tempPrefix: "graph-emulator-",
      caName: "Graph Emulator Test CA",
      certificateName: "graph-emulator",
    },
    (ca, stop) => new GraphEmulatorServer(ca.certFile, ca.certPem, options, stop),
  );
}
