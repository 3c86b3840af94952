/**
 * `directory.type: entra` end to end, as a scheduler runs it: the built CLI as a process against the Graph
 * emulator (token with a client secret or a certificate assertion, nested groups, paging, faults) and the iLobby
 * emulator, over real TLS with test CAs.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Row } from "../../src/core/columns.ts";
import { parseConfigText } from "../../src/core/config/parse.ts";
import { GROUP_MEMBER_READ_ALL, USER_READ_ALL } from "../graph-emulator/graph-emulator.ts";
import { SAMPLE_GROUPS } from "../graph-emulator/sample-tenant.ts";
import type { GraphUser } from "../graph-emulator/tenant.ts";
import { runCli } from "../support/cli.ts";
import {
  ENTRA_CERT_CLIENT_ID,
  ENTRA_CLIENT_ID,
  ENTRA_SECRET,
  type EntraConfig,
  type EntraWorld,
  startEntraWorld,
  TENANT_GUID,
} from "../support/entra-world.ts";
import { runCliOnTerminal } from "../support/terminal.ts";

const ILOBBY_CLIENT = "entra-run-client";
const ILOBBY_SECRET = "entra-run-ilobby-secret";
const LIMITED_CLIENT = "aaaaaaaa-0000-4000-8000-000000000001";

let world: EntraWorld;
let dir: string;

const secrets = { ILOBBY_SYNC_ENTRA_CLIENT_SECRET: ENTRA_SECRET, ILOBBY_SYNC_CLIENT_SECRET: ILOBBY_SECRET };

function writeConfig(change: (config: EntraConfig) => void = () => {}): string {
  const config = world.config(ILOBBY_CLIENT);
  change(config);
  return world.writeConfig(dir, config);
}

const run = (args: string[], env: Record<string, string> = secrets) =>
  runCli(["run", ...args], { cwd: dir, env, timeoutMs: 90_000 });

/** The row the default Entra mapping makes of a Graph user. */
function rowOf(user: GraphUser): Row {
  return {
    FIRSTNAME: user.givenName ?? "",
    LASTNAME: user.surname ?? "",
    TITLE: user.jobTitle ?? "",
    DIVISION: user.department ?? "",
    EMAIL: user.mail ?? user.userPrincipalName,
    MOBILE: user.mobilePhone ?? "",
    DESKPHONE: user.businessPhones?.[0] ?? "",
    SITE: user.officeLocation ?? "",
  };
}

function expectedRows(emails: readonly string[]): Row[] {
  const wanted = new Set(emails);
  return world.facts.tenant.users
    .filter((user) => wanted.has((user.mail ?? user.userPrincipalName).toLowerCase()))
    .map(rowOf)
    .sort((a, b) => (a.EMAIL.toLowerCase() < b.EMAIL.toLowerCase() ? -1 : 1));
}

/** Every file of the state directory with its bytes: "untouched" means this is the same before and after. */
function stateSnapshot(): Record<string, string> {
  const stateDir = join(dir, "state");
  if (!existsSync(stateDir)) return {};
  return Object.fromEntries(
    readdirSync(stateDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && !entry.name.endsWith(".lock"))
      .map((entry) => [
        join(entry.parentPath, entry.name),
        readFileSync(join(entry.parentPath, entry.name), "utf8"),
      ]),
  );
}

/** The bearer tokens Graph saw: none may appear in any output. */
const tokensIssued = () =>
  world.graph.requests
    .map((request) => /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ""))?.[1])
    .filter((token): token is string => token !== undefined);

beforeAll(async () => {
  world = await startEntraWorld({
    ilobbyClients: { [ILOBBY_CLIENT]: ILOBBY_SECRET },
    extraClients: { [LIMITED_CLIENT]: { secret: ENTRA_SECRET, roles: [GROUP_MEMBER_READ_ALL] } },
  });
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  world.graph.reset();
  world.ilobby.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-entra-"));
});

describe("run with directory.type: entra", () => {
  it("--dry-run lists the transitive user members with the Entra default mapping and sends nothing to iLobby", async () => {
    writeConfig();
    const result = await run(["--dry-run", "--json", "--output", "out.csv"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.rows).toEqual(expectedRows(world.facts.allStaffEmails));
    expect(readFileSync(join(dir, "out.csv"), "utf8")).toContain("Zoë,Lefèvre,Directrice générale");
    expect(world.ilobby.requests).toEqual([]);
    // Several pages, each asked with exactly the mapped properties.
    const lists = world.graph.requests.filter(
      (request) => request.endpoint === "graph" && request.page !== undefined,
    );
    expect(lists.length).toBeGreaterThan(4);
    expect(lists.every((request) => request.query.$top === "40")).toBe(true);
  });

  it("uploads to iLobby and records the upload; a second run changes nothing", async () => {
    writeConfig();
    const first = await run([]);
    expect(first.code, first.stderr).toBe(0);
    const book = world.ilobby
      .addressBook(ILOBBY_CLIENT)
      .filter((entry) => entry.enabled)
      .map((entry) => entry.EMAIL.toLowerCase());
    expect(book.sort()).toEqual(world.facts.allStaffEmails);
    expect(Object.keys(stateSnapshot()).length).toBeGreaterThan(0);
    const second = await run(["--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).targets[0].counts).toMatchObject({ add: 0, update: 0, disable: 0 });
  });

  it("authenticates with a certificate instead of a secret (no entra-client-secret needed)", async () => {
    writeConfig((config) => {
      config.directory.clientId = ENTRA_CERT_CLIENT_ID;
      config.directory.certificateFile = world.certificate.pemFile;
      config.directory.tenantId = TENANT_GUID;
    });
    const result = await run(["--dry-run", "--json"], { ILOBBY_SYNC_CLIENT_SECRET: ILOBBY_SECRET });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).rows).toHaveLength(world.facts.allStaffEmails.length);
    const token = world.graph.requests.find((request) => request.endpoint === "token");
    expect(token?.credential).toBe("certificate");
  });

  it("without groups reads every user; guests and disabled only when asked", async () => {
    writeConfig((config) => {
      delete config.directory.groups;
    });
    const all = await run(["--dry-run", "--json"]);
    expect(all.code, all.stderr).toBe(0);
    const emails = JSON.parse(all.stdout).rows.map((row: Row) => row.EMAIL.toLowerCase());
    expect(emails.sort()).toEqual(world.facts.everyoneEmails);
    writeConfig((config) => {
      config.directory.includeGuests = true;
      config.directory.includeDisabled = true;
    });
    const wider = await run(["--dry-run", "--json"]);
    const wide = JSON.parse(wider.stdout).rows.map((row: Row) => row.EMAIL.toLowerCase());
    expect(wide).toContain(world.facts.guestEmail);
    expect(wide).toContain(world.facts.disabledEmail);
  });

  it("takes SITE from siteGroups keyed by group object id (nested membership counts)", async () => {
    writeConfig((config) => {
      config.siteGroups = {
        [SAMPLE_GROUPS.paris]: "Paris HQ",
        [SAMPLE_GROUPS.reception]: "London Reception",
      };
      config.sites = ["Paris HQ", "London Reception", "London"];
    });
    const result = await run(["--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const rows: Row[] = JSON.parse(result.stdout).rows;
    expect(rows.find((row) => row.EMAIL === "zoe.lefevre@cloud.example.test")?.SITE).toBe("Paris HQ");
    expect(rows.find((row) => row.EMAIL === "london.7@cloud.example.test")?.SITE).toBe("London Reception");
    expect(rows.find((row) => row.EMAIL === "Alice.Martin@CORP.example.test")?.SITE).toBe("London");
    // No officeLocation, but London Office (their group) is nested in London Reception: the site group decides.
    expect(rows.find((row) => row.EMAIL === "sparse.person@cloud.example.test")?.SITE).toBe(
      "London Reception",
    );
  });

  it("a missing entra-client-secret is exit 8 and names the secret", async () => {
    writeConfig();
    const result = await run(["--dry-run"], { ILOBBY_SYNC_CLIENT_SECRET: ILOBBY_SECRET });
    expect(result.code).toBe(8);
    expect(result.stderr).toContain("entra-client-secret");
  });
});

describe("Graph faults: the right exit code, nothing uploaded, the state untouched", () => {
  /** A first good run leaves a state; each fault run must leave it exactly as it was. */
  async function faultRun(queue: () => void, args: string[] = []) {
    writeConfig();
    const first = await run([]);
    expect(first.code, first.stderr).toBe(0);
    const before = stateSnapshot();
    world.ilobby.reset();
    world.graph.reset();
    queue();
    const result = await run(args);
    expect(stateSnapshot()).toEqual(before);
    expect(world.ilobby.requests.filter((request) => request.endpoint === "upload")).toEqual([]);
    return result;
  }

  it("a 500 on page 3 stops the run with exit 4", async () => {
    const result = await faultRun(() =>
      world.graph.queueFault({ endpoint: "graph", page: 3, fault: { kind: "status", status: 500 } }),
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/HTTP 500/);
    expect(result.stderr).toMatch(/nothing was uploaded/);
  });

  it("throttling longer than the retry budget (429, Retry-After: 3600) stops the run at once with exit 4", async () => {
    const result = await faultRun(() =>
      world.graph.queueFault({
        endpoint: "graph",
        page: 2,
        fault: { kind: "status", status: 429, retryAfterSeconds: 3600 },
      }),
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/429/);
    expect(result.stderr).toMatch(/3600 s/);
  });

  it("a 503 once is retried and the run succeeds; so is a 429 with Retry-After", async () => {
    writeConfig();
    world.graph.queueFault({ endpoint: "graph", page: 2, fault: { kind: "status", status: 503 } });
    world.graph.queueFault({
      endpoint: "graph",
      page: 4,
      fault: { kind: "status", status: 429, retryAfterSeconds: 1 },
    });
    const result = await run(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(
      world.graph.requests.filter((request) => request.page === 4).map((request) => request.status),
    ).toEqual([429, 200]);
  });

  it("a token that expires mid-paging is renewed once; refused again, the run stops with exit 4", async () => {
    writeConfig();
    world.graph.queueFault({ endpoint: "graph", page: 3, fault: { kind: "expire-token" } });
    const renewed = await run(["--dry-run", "--json"]);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(world.graph.requests.filter((request) => request.endpoint === "token")).toHaveLength(2);
    const result = await faultRun(() =>
      world.graph.queueFault({ endpoint: "graph", page: 3, fault: { kind: "expire-token" }, times: 2 }),
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/401/);
  });

  it("a 403 names the missing permission and how to grant it", async () => {
    const result = await faultRun(() =>
      world.graph.queueFault({ endpoint: "graph", page: 2, fault: { kind: "status", status: 403 } }),
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(GROUP_MEMBER_READ_ALL);
    expect(result.stderr).toMatch(/Grant admin consent/);
  });

  it("a wrong client secret is exit 4 with the identity platform's reason, and the secret is never shown", async () => {
    writeConfig();
    const wrong = "wrong-entra-secret-value-987654321";
    const result = await run(["--dry-run", "--verbose"], {
      ILOBBY_SYNC_ENTRA_CLIENT_SECRET: wrong,
      ILOBBY_SYNC_CLIENT_SECRET: ILOBBY_SECRET,
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("AADSTS7000215");
    expect(`${result.stdout}${result.stderr}`).not.toContain(wrong);
  });
});

describe("secrets and tokens", () => {
  it("appear in no output: --verbose, --json, the CSV, the log file, the state", async () => {
    writeConfig((config) => {
      config.log = { file: "sync.log" };
    });
    world.graph.queueFault({ endpoint: "graph", page: 2, fault: { kind: "expire-token" } });
    const result = await run(["--verbose", "--json", "--output", "out.csv"]);
    expect(result.code, result.stderr).toBe(0);
    const outputs = [
      result.stdout,
      result.stderr,
      readFileSync(join(dir, "out.csv"), "utf8"),
      readFileSync(join(dir, "sync.log"), "utf8"),
      ...Object.values(stateSnapshot()),
    ].join("\n");
    const tokens = tokensIssued();
    expect(tokens.length).toBeGreaterThan(1);
    for (const secret of [ENTRA_SECRET, ILOBBY_SECRET, ...tokens]) expect(outputs).not.toContain(secret);
  });
});

describe("doctor with directory.type: entra", () => {
  it("checks the token, the permissions, each group and the attribute coverage", async () => {
    writeConfig((config) => {
      config.siteGroups = { [SAMPLE_GROUPS.paris]: "Paris" };
    });
    const result = await runCli(["doctor"], { cwd: dir, env: secrets });
    expect(result.stdout).toMatch(/token/i);
    expect(result.stdout).toContain("All Staff");
    expect(result.stdout).toContain("Paris Office");
    expect(result.stdout).toMatch(/coverage/i);
    expect(result.stdout).not.toContain(ENTRA_SECRET);
  });

  it("reports a 403 as the missing permission, with the fix", async () => {
    writeConfig((config) => {
      config.directory.clientId = LIMITED_CLIENT;
    });
    const result = await runCli(["doctor"], { cwd: dir, env: secrets });
    expect(result.code).toBe(4);
    expect(result.stdout).toContain(USER_READ_ALL);
    expect(result.stdout).toMatch(/Grant admin consent/);
  });
});

describe("init --source entra", () => {
  it("writes an Entra config after testing the token, the permissions and each group, unattended", async () => {
    const result = await runCli(
      [
        "init",
        ...["--source", "entra", "--tenant-id", "contoso.example.test", "--app-id", ENTRA_CLIENT_ID],
        ...[
          "--group",
          SAMPLE_GROUPS.allStaff,
          "--authority-url",
          world.graph.url,
          "--graph-url",
          world.graph.url,
        ],
        ...["--ca-file", world.graph.caFile, "--client-id", ILOBBY_CLIENT],
        ...["--ilobby-url", world.ilobby.url, "--ilobby-ca-file", world.ilobby.caFile, "--no-store-secrets"],
        "--json",
      ],
      { cwd: dir, env: secrets, timeoutMs: 90_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const checks: Array<{ id: string; status: string }> = JSON.parse(result.stdout).checks;
    for (const id of ["token", "permissions", `group:${SAMPLE_GROUPS.allStaff}`, "coverage"]) {
      expect(checks.find((check) => check.id === id)?.status, id).toBe("pass");
    }
    const written = parseConfigText(readFileSync(join(dir, "ilobby-sync.yaml"), "utf8"));
    expect(written.ok && written.config.directory).toMatchObject({
      type: "entra",
      clientId: ENTRA_CLIENT_ID,
      groups: [SAMPLE_GROUPS.allStaff],
    });
    expect(written.ok && written.config.mapping.LASTNAME).toBe("surname");
    // The written config syncs as it is.
    const dryRun = await run(["--dry-run", "--json"]);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(JSON.parse(dryRun.stdout).rows).toHaveLength(world.facts.allStaffEmails.length);
  });

  it("on a terminal: offers Entra ID, asks for the tenant, app, credential and groups, tests them, hides the secrets", async () => {
    const flags = [
      ...[
        "--authority-url",
        world.graph.url,
        "--graph-url",
        world.graph.url,
        "--ca-file",
        world.graph.caFile,
      ],
      ...["--ilobby-url", world.ilobby.url, "--ilobby-ca-file", world.ilobby.caFile, "--no-store-secrets"],
    ];
    const { code, terminal } = await runCliOnTerminal(
      ["init", ...flags],
      [
        ["Directory: ad (Active Directory, LDAP) or entra", "entra\r"],
        ["Entra tenant", "contoso.example.test\r"],
        ["Application (client) ID", `${ENTRA_CLIENT_ID}\r`],
        ["Certificate file", "\r"],
        ["Group object ids", `${SAMPLE_GROUPS.allStaff}\r`],
        ["(typing is hidden): ", `${ENTRA_SECRET}\r`],
        ["iLobby API client id", `${ILOBBY_CLIENT}\r`],
        ["(typing is hidden): ", `${ILOBBY_SECRET}\r`],
        ["Site names", "\r"],
        ["Country of phone numbers", "\r"],
        ["Webhook to tell when a sync fails", "\r"],
      ],
      { cwd: dir },
    );
    expect(code, terminal).toBe(0);
    expect(terminal).toMatch(/pass {2}token for app /);
    expect(terminal).toMatch(
      /pass {2}Graph application permissions: User\.Read\.All and GroupMember\.Read\.All granted/,
    );
    expect(terminal).toMatch(/pass {2}group .*"All Staff"/);
    for (const secret of [ENTRA_SECRET, ILOBBY_SECRET]) expect(terminal).not.toContain(secret);
    const written = parseConfigText(readFileSync(join(dir, "ilobby-sync.yaml"), "utf8"));
    expect(written.ok && written.config.directory).toMatchObject({
      type: "entra",
      tenantId: "contoso.example.test",
    });
  });

  it("stops with the missing permission's fix when the app lacks one", async () => {
    const result = await runCli(
      [
        "init",
        ...["--source", "entra", "--tenant-id", "contoso.example.test", "--app-id", LIMITED_CLIENT],
        ...[
          "--authority-url",
          world.graph.url,
          "--graph-url",
          world.graph.url,
          "--ca-file",
          world.graph.caFile,
        ],
        ...["--client-id", ILOBBY_CLIENT, "--ilobby-url", world.ilobby.url, "--no-store-secrets"],
      ],
      { cwd: dir, env: secrets, timeoutMs: 90_000 },
    );
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(USER_READ_ALL);
    expect(existsSync(join(dir, "ilobby-sync.yaml"))).toBe(false);
  });
});
