/**
 * What counts as iLobby's answer, through the built CLI against the HTTPS emulator: redirects are never followed
 * (a 307 to http:// once delivered the secret and the CSV in clear text), a web page answering 200 is a failure,
 * a damaged state stops the run, and a state that cannot be saved after an accepted upload is said plainly.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createIlobbyClient } from "../../src/adapters/ilobby/ilobby-client.ts";
import { createNetworkPath } from "../../src/adapters/network/network-path.ts";
import { systemClock } from "../../src/app/ports.ts";
import { SyncError } from "../../src/core/errors.ts";
import type { Emulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { writePeopleCsv } from "../support/rows.ts";
import { SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleWorld, startSampleWorld } from "../support/sample-world.ts";

const CLIENT = "answers-client";
const SECRET = "answers-client-secret-1";

let world: SampleWorld;
let emulator: Emulator;
/** A plain-HTTP server on loopback that records whatever a client that follows a redirect would send it. */
let plain: Server;
let plainUrl: string;
let plainRequests: string[];
let dir: string;

function config(ilobby: Record<string, unknown> = {}, extra = ""): string {
  const path = join(dir, "ilobby-sync.yaml");
  writeFileSync(
    path,
    `ilobby: ${JSON.stringify({
      clientId: CLIENT,
      baseUrl: emulator.url,
      caFile: emulator.caFile,
      timeoutSeconds: 5,
      retry: { attempts: 3, maxSeconds: 30, initialDelayMs: 50 },
      ...ilobby,
    })}
directory: { url: ldaps://localhost:1, bindDn: unused, searchBases: [DC=unused] }
sites: [Toronto, Montreal, Vancouver]
stateDir: ./state
${extra}`,
  );
  return path;
}

const csv = (count: number): string => writePeopleCsv(dir, count);

const statePath = () => join(dir, "state", "default.last-upload.json");
const upload = (file: string, args: string[] = [], configPath = config()) =>
  runCli(["upload", file, "--config", configPath, ...args], {
    env: { ILOBBY_SYNC_CLIENT_SECRET: SECRET },
    timeoutMs: 30_000,
  });
const uploads = () => emulator.requests.filter((request) => request.endpoint === "upload");
const tokens = () => emulator.requests.filter((request) => request.endpoint === "token");

beforeAll(async () => {
  world = await startSampleWorld({ clients: { [CLIENT]: SECRET } });
  emulator = world.emulator;
  plain = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      plainRequests.push(`${request.method} ${request.url} ${body}`);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ access_token: "stolen-token-value", expires_in: 3600 }));
    });
  });
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
});
afterAll(async () => {
  plain?.closeAllConnections();
  await new Promise((resolve) => plain?.close(resolve));
  await world?.stop();
});
beforeEach(() => {
  emulator.reset();
  plainRequests = [];
  dir = mkdtempSync(join(tmpdir(), "ilobby-answers-"));
});

describe("redirects are never followed", () => {
  it("a 307 from the token endpoint to http:// is refused: exit 5, the secret never travels in clear text", async () => {
    emulator.queueFault("token", {
      kind: "redirect",
      status: 307,
      location: `${plainUrl}/auth/connect/token`,
    });
    const result = await upload(csv(2));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/token request was redirected \(HTTP 307\) to http:\/\/127\.0\.0\.1/);
    expect(result.stderr).toMatch(/would send the client secret unencrypted/);
    expect(plainRequests).toEqual([]);
    expect(tokens()).toHaveLength(1);
    expect(uploads()).toHaveLength(0);
    expect(existsSync(statePath())).toBe(false);
  });

  it("a 308 from the upload endpoint to http:// is refused and the state is untouched", async () => {
    expect((await upload(csv(2))).code).toBe(0);
    const before = readFileSync(statePath(), "utf8");
    emulator.queueFault("upload", {
      kind: "redirect",
      status: 308,
      location: `${plainUrl}/addressbook/uploadcsv`,
    });
    const result = await upload(csv(3));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/upload request was redirected \(HTTP 308\)/);
    expect(result.stderr).toMatch(/would send the address book unencrypted/);
    expect(plainRequests).toEqual([]);
    expect(uploads().map((request) => request.status)).toEqual([200, 308]);
    expect(readFileSync(statePath(), "utf8")).toBe(before);
    expect(emulator.addressBook(CLIENT)).toHaveLength(2);
  });

  it("a redirect to another host (even over HTTPS) is refused", async () => {
    const otherHost = emulator.url.replace("127.0.0.1", "localhost");
    emulator.queueFault("token", {
      kind: "redirect",
      status: 302,
      location: `${otherHost}/auth/connect/token`,
    });
    const result = await upload(csv(2));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/would send the client secret to another host/);
    expect(tokens()).toHaveLength(1);
  });

  it("a same-origin redirect of a POST is not followed either, and the fix names the new path", async () => {
    emulator.queueFault("upload", { kind: "redirect", status: 307, location: "/addressbook/v2/uploadcsv" });
    const result = await upload(csv(2));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/set ilobby\.uploadPath to it/);
    expect(result.stderr).toContain("/addressbook/v2/uploadcsv");
    expect(emulator.requests.filter((request) => request.endpoint === "other")).toHaveLength(0);
  });
});

describe("the token and the upload go only to baseUrl's host", () => {
  it("refuses a tokenPath of //host/... in the config (exit 2) before anything is sent", async () => {
    const result = await upload(csv(1), [], config({ tokenPath: `//${new URL(plainUrl).host}/token` }));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ilobby\.tokenPath: must be a path on ilobby\.baseUrl's host/);
    expect(plainRequests).toEqual([]);
    expect(emulator.requests).toHaveLength(0);
  });

  it("refuses /\\host/... too, which URL rules read as another host", async () => {
    const result = await upload(csv(1), [], config({ uploadPath: `/\\${new URL(plainUrl).host}/upload` }));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ilobby\.uploadPath: must be a path/);
  });
});

describe("success means iLobby accepted it", () => {
  it("a 200 web page (web filter, captive portal) is a failure: exit 5, state not advanced, status and body in --json", async () => {
    expect((await upload(csv(2))).code).toBe(0);
    const before = readFileSync(statePath(), "utf8");
    emulator.queueFault("upload", { kind: "html" });
    const result = await upload(csv(3), ["--json"]);
    expect(result.code).toBe(5);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ ok: false, uploaded: false });
    expect(json.error).toMatchObject({ category: "ilobby", status: 200 });
    expect(json.error.body).toContain("blocked by your organisation's web filter");
    expect(json.error.message).toMatch(
      /answered with a web page \(HTTP 200, "Access blocked"\), not by iLobby/,
    );
    expect(uploads()).toHaveLength(2); // not retried: a web filter will answer the same way
    expect(readFileSync(statePath(), "utf8")).toBe(before);
  });

  it("run records the status and body of a web-page answer in --json and log.file", async () => {
    const config = world.config(CLIENT);
    config.log = { file: "sync.log" };
    world.writeConfig(dir, config);
    emulator.queueFault("upload", { kind: "html" });
    const result = await runCli(["run", "--json"], {
      cwd: dir,
      env: { ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password, ILOBBY_SYNC_CLIENT_SECRET: SECRET },
    });
    expect(result.code).toBe(5);
    const target = JSON.parse(result.stdout).targets[0];
    expect(target.status).toBe("failed");
    expect(target.error).toMatchObject({ status: 200, body: expect.stringContaining("<!DOCTYPE html>") });
    const events = readFileSync(join(dir, "sync.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.find((event) => event.event === "target-failed")).toMatchObject({
      status: 200,
      body: expect.stringContaining("Access blocked"),
    });
    expect(existsSync(join(dir, "state", "default.last-upload.json"))).toBe(false);
  });

  it("a null token body is named as such (exit 5), not as a network failure", async () => {
    emulator.queueFault("token", { kind: "status", status: 200, body: "null" });
    const result = await upload(csv(2));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/the iLobby token answer is JSON null, without an access_token/);
    expect(result.stderr).not.toMatch(/network failed/);
    expect(tokens()).toHaveLength(1);
  });

  it("a CSV file that vanishes before it is sent is named as such, not as a network failure", async () => {
    // upload sends a private copy of what it checked (so this cannot happen through the CLI); the client
    // still says what happened when a file it was given is gone.
    const client = createIlobbyClient({
      baseUrl: emulator.url,
      tokenPath: "/auth/connect/token",
      uploadPath: "/addressbook/uploadcsv",
      clientId: CLIENT,
      clientSecret: SECRET,
      network: createNetworkPath({ env: {}, extraCa: [emulator.caPem] }),
      timeoutSeconds: 5,
      retry: { attempts: 3, maxSeconds: 30, initialDelayMs: 50 },
      clock: systemClock,
    });
    try {
      const error = await client
        .upload({ kind: "file", path: join(dir, "gone.csv") })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SyncError);
      expect((error as SyncError).message).toMatch(/the CSV file .*gone\.csv can no longer be read/);
      expect((error as SyncError).likelyCause).toMatch(/moved, deleted or locked after it was checked/);
      expect(uploads()).toHaveLength(0);
      expect(tokens()).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("when the state cannot be saved after an accepted upload, says iLobby accepted it and what to do", async () => {
    mkdirSync(statePath(), { recursive: true }); // a folder where the state file belongs
    const result = await upload(csv(2), ["--force"]);
    expect(result.stderr).toMatch(
      /iLobby accepted the upload of 2 records, but the last-upload state could not be saved/,
    );
    expect(result.stderr).toMatch(/nothing needs uploading again/);
    expect(result.code).toBe(2);
    expect(emulator.addressBook(CLIENT)).toHaveLength(2);
  });
});

describe("a damaged last-upload state stops the run", () => {
  it("exit 6 with the reason and the fix; --dry-run shows it; --force uploads and writes a fresh state", async () => {
    expect((await upload(csv(40))).code).toBe(0);
    writeFileSync(statePath(), '{"version":1,"target":"default","rows":[["trunc');
    const shrunk = csv(10);
    const stopped = await upload(shrunk);
    expect(stopped.code).toBe(6);
    expect(stopped.stderr).toMatch(/the last upload cannot be read \(the state file is not valid JSON/);
    expect(stopped.stderr).toMatch(/check the full list with --dry-run .* --force/);
    expect(uploads()).toHaveLength(1);
    expect(emulator.addressBook(CLIENT).filter((entry) => entry.enabled)).toHaveLength(40);

    const preview = await upload(shrunk, ["--dry-run"]);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/SAFETY GUARD: the last upload cannot be read/);

    const forced = await upload(shrunk, ["--force"]);
    expect(forced.code).toBe(0);
    // The state's header line counts the rows that follow it, one line each.
    const [header, ...rows] = readFileSync(statePath(), "utf8").trimEnd().split("\n");
    expect([JSON.parse(header as string).rows, rows.length]).toEqual([10, 10]);
  });

  it("a state that cannot be read (a folder in its place) stops the run too", async () => {
    mkdirSync(statePath(), { recursive: true });
    const result = await upload(csv(2));
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/the state file cannot be read \(EISDIR\)/);
    expect(uploads()).toHaveLength(0);
  });
});
