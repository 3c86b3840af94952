/**
 * Uploads through an HTTP CONNECT proxy, configured (`ilobby.proxy`) or from HTTPS_PROXY, with proxy credentials
 * that never reach the output. TLS still runs end to end: the proxy only sees the tunnel.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { runCli } from "../support/cli.ts";
import { type ConnectProxy, startConnectProxy } from "../support/connect-proxy.ts";

const CLIENT = "proxy-client";
const SECRET = "proxy-client-secret";
const PROXY_PASSWORD = "proxy-pass-w0rd";

let emulator: Emulator;
let proxy: ConnectProxy;
let proxyUrl: string;
let dir: string;

function files(proxyLine: string) {
  const config = join(dir, "ilobby-sync.yaml");
  writeFileSync(
    config,
    `ilobby:\n  clientId: ${CLIENT}\n  baseUrl: ${emulator.url}\n  caFile: ${emulator.caFile}\n${proxyLine}` +
      "directory: { url: ldaps://localhost:1, bindDn: unused, searchBases: [DC=unused] }\nstateDir: ./state\n",
  );
  const csv = join(dir, "people.csv");
  writeFileSync(
    csv,
    "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE\nAnn,Lee,,,ann@example.test,,,Toronto\n",
  );
  return { config, csv };
}

beforeAll(async () => {
  emulator = await startEmulator({ clients: { [CLIENT]: SECRET } });
  proxy = await startConnectProxy();
  proxyUrl = `http://sync:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`;
});
afterAll(async () => {
  await proxy?.stop();
  await emulator?.stop();
});
beforeEach(() => {
  emulator.reset();
  proxy.tunnels.length = 0;
  dir = mkdtempSync(join(tmpdir(), "ilobby-proxy-"));
});

describe("proxies", () => {
  it("uses ilobby.proxy, with its credentials, and never prints them", async () => {
    const { config, csv } = files(`  proxy: ${proxyUrl}\n`);
    const result = await runCli(["upload", csv, "--config", config, "--verbose"], {
      env: { ILOBBY_SYNC_CLIENT_SECRET: SECRET },
    });
    expect(result.code).toBe(0);
    const host = new URL(emulator.url).host;
    expect(proxy.tunnels.map((tunnel) => tunnel.target)).toContain(host);
    expect(proxy.tunnels[0]?.authorization).toBe(
      `Basic ${Buffer.from(`sync:${PROXY_PASSWORD}`).toString("base64")}`,
    );
    expect(emulator.addressBook(CLIENT)).toHaveLength(1);
    expect(`${result.stdout}${result.stderr}`).not.toContain(PROXY_PASSWORD);
  });

  it("honours HTTPS_PROXY, and NO_PROXY bypasses it", async () => {
    const { config, csv } = files("");
    const viaEnv = await runCli(["upload", csv, "--config", config], {
      env: { ILOBBY_SYNC_CLIENT_SECRET: SECRET, HTTPS_PROXY: proxyUrl },
    });
    expect(viaEnv.code).toBe(0);
    expect(proxy.tunnels.length).toBeGreaterThan(0);

    proxy.tunnels.length = 0;
    const bypassed = await runCli(["upload", csv, "--config", config], {
      env: { ILOBBY_SYNC_CLIENT_SECRET: SECRET, HTTPS_PROXY: proxyUrl, NO_PROXY: "127.0.0.1" },
    });
    expect(bypassed.code).toBe(0);
    expect(proxy.tunnels).toEqual([]);
  });
});
