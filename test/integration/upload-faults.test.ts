/**
 * The iLobby side of unattended runs, through the real CLI and the local HTTPS emulator: retries with backoff on
 * network errors, 429 and 5xx, none on other 4xx, one fresh token after a 401, and the last-upload state advanced
 * only when iLobby accepted the file.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { CSV_HEADER, writePeopleCsv } from "../support/rows.ts";

const CLIENT = "faults-client";
const SECRET = "faults-secret-value-1";

let emulator: Emulator;
let dir: string;

function config(extra = ""): string {
  const path = join(dir, "ilobby-sync.yaml");
  writeFileSync(
    path,
    `ilobby:
  clientId: ${CLIENT}
  baseUrl: ${emulator.url}
  caFile: ${emulator.caFile}
  timeoutSeconds: 2
  retry: { attempts: 3, maxSeconds: 30, initialDelayMs: 50 }
directory: { url: ldaps://localhost:1, bindDn: unused, searchBases: [DC=unused] }
stateDir: ./state
${extra}`,
  );
  return path;
}

const csv = (count: number): string => writePeopleCsv(dir, count);

const statePath = () => join(dir, "state", "default.last-upload.json");
const upload = (file: string, ...args: string[]) =>
  runCli(["upload", file, "--config", config(), ...args], { env: { ILOBBY_SYNC_CLIENT_SECRET: SECRET } });
const uploads = () => emulator.requests.filter((request) => request.endpoint === "upload");
const tokens = () => emulator.requests.filter((request) => request.endpoint === "token");

beforeAll(async () => {
  emulator = await startEmulator({ clients: { [CLIENT]: SECRET } });
});
afterAll(async () => {
  await emulator.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-faults-"));
});

describe("upload faults", () => {
  it("retries two 500s and succeeds; the state advances", async () => {
    emulator.queueFault("upload", { kind: "status", status: 500, body: "boom" }, 2);
    const result = await upload(csv(3));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(uploads().map((request) => request.status)).toEqual([500, 500, 200]);
    expect(emulator.addressBook(CLIENT)).toHaveLength(3);
    // The state's header line counts the rows that follow it, one line each.
    const [header, ...rows] = readFileSync(statePath(), "utf8").trimEnd().split("\n");
    expect([JSON.parse(header as string).rows, rows.length]).toEqual([3, 3]);
  });

  it("honours Retry-After on 503 and 429", async () => {
    emulator.queueFault("upload", { kind: "status", status: 503, retryAfterSeconds: 1 });
    emulator.queueFault("upload", { kind: "status", status: 429, retryAfterSeconds: 1 });
    const result = await upload(csv(2));
    expect(result.code).toBe(0);
    const [first, second, third] = uploads();
    expect([first?.status, second?.status, third?.status]).toEqual([503, 429, 200]);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("gives up after the attempts with the iLobby exit code, and keeps the old state", async () => {
    const file = csv(2);
    expect((await upload(file)).code).toBe(0);
    const before = readFileSync(statePath(), "utf8");
    emulator.queueFault("upload", { kind: "status", status: 500, body: "internal trouble" }, 5);
    const result = await upload(csv(3));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/kept failing \(HTTP 500\) after all retries/);
    expect(result.stderr).toContain("internal trouble");
    expect(uploads().filter((request) => request.status === 500)).toHaveLength(3);
    expect(readFileSync(statePath(), "utf8")).toBe(before);
  });

  it("never retries another 4xx and shows the server's text", async () => {
    emulator.queueFault("upload", {
      kind: "status",
      status: 400,
      body: "Row 2: SITE Atlantis is not configured",
    });
    const result = await upload(csv(2));
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("Row 2: SITE Atlantis is not configured");
    expect(uploads()).toHaveLength(1);
    expect(existsSync(statePath())).toBe(false);
  });

  it("gets one fresh token after a 401 for an expired token", async () => {
    emulator.queueFault("upload", { kind: "expire-token" });
    const result = await upload(csv(2));
    expect(result.code).toBe(0);
    expect(uploads().map((request) => request.status)).toEqual([401, 200]);
    expect(tokens()).toHaveLength(2);
  });

  it("retries a connection reset in the middle of the upload", async () => {
    emulator.queueFault("upload", { kind: "reset" });
    const result = await upload(csv(2));
    expect(result.code).toBe(0);
    expect(uploads()).toHaveLength(2);
  });

  it("times out a very slow answer, retries, and fails clearly when it stays slow", async () => {
    emulator.queueFault("upload", { kind: "slow", delayMs: 4000 }, 3);
    const result = await upload(csv(2));
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/did not answer in time/);
    expect(result.stderr).toMatch(/state was not advanced/);
    expect(existsSync(statePath())).toBe(false);
  });

  it("refuses a wrong client secret without retrying", async () => {
    const result = await runCli(["upload", csv(1), "--config", config()], {
      env: { ILOBBY_SYNC_CLIENT_SECRET: "not-the-secret" },
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/refused the client credentials \(HTTP 401\)/);
    expect(result.stderr).toMatch(/secret set client-secret/);
    expect(tokens()).toHaveLength(1);
    expect(uploads()).toHaveLength(0);
  });

  it("stops a CSV that would disable too many hosts unless --force", async () => {
    expect((await upload(csv(40))).code).toBe(0);
    const shrunk = csv(20);
    const stopped = await upload(shrunk);
    expect(stopped.code).toBe(6);
    expect(stopped.stderr).toMatch(/20 of 40 hosts \(50%\) would be disabled/);
    expect(uploads()).toHaveLength(1);
    expect(emulator.addressBook(CLIENT).filter((entry) => entry.enabled)).toHaveLength(40);
    const forced = await upload(shrunk, "--force");
    expect(forced.code).toBe(0);
    expect(emulator.addressBook(CLIENT).filter((entry) => entry.enabled)).toHaveLength(20);
  });

  it("says plainly when the file does not exist", async () => {
    const result = await upload(join(dir, "missing.csv"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read .*missing.csv: the file does not exist/);
    expect(emulator.requests).toHaveLength(0);
  });

  it("refuses an invalid CSV without contacting iLobby", async () => {
    const path = join(dir, "bad.csv");
    writeFileSync(path, `${CSV_HEADER}\nAnn,Lee,,,not-an-email,,,Toronto\n`);
    const result = await upload(path);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/bad.csv:2 EMAIL: error/);
    expect(emulator.requests).toHaveLength(0);
  });
});
