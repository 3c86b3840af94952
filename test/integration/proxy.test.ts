/**
 * Uploads through an HTTP CONNECT proxy, configured (`ilobby.proxy`) or from HTTPS_PROXY, with proxy credentials
 * that never reach the output. TLS still runs end to end: the proxy only sees the tunnel. `doctor` and `upload`
 * take the same network path, so what doctor reports is what the upload does.
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

  it("an empty https_proxy beside HTTPS_PROXY: doctor and the upload both use HTTPS_PROXY", async () => {
    // Before one network path, doctor reported and tested HTTPS_PROXY while undici took the empty https_proxy as
    // "set", fell back to http_proxy (none) and went direct: doctor's proxy was never used by a run.
    const { config, csv } = files("");
    const env = { ILOBBY_SYNC_CLIENT_SECRET: SECRET, https_proxy: "", HTTPS_PROXY: proxyUrl };
    const host = new URL(emulator.url).host;
    const doctor = await runCli(["doctor", "--json", "--config", config], { env });
    const checks = (
      JSON.parse(doctor.stdout) as { checks: { id: string; status: string; summary: string }[] }
    ).checks;
    const check = (id: string) => checks.find((candidate) => candidate.id === id);
    expect(check(`proxy:${emulator.url}`)?.summary).toBe(
      `HTTPS_PROXY: http://sync:[REDACTED]@127.0.0.1:${proxy.port}/`,
    );
    expect(check(`tls:${emulator.url}`)?.status).not.toBe("fail"); // a short-lived test certificate may warn
    expect(check("token:default")?.status).toBe("pass");
    expect(proxy.tunnels.map((tunnel) => tunnel.target)).toEqual([host, host]);

    proxy.tunnels.length = 0;
    const upload = await runCli(["upload", csv, "--config", config], { env });
    expect(upload.code).toBe(0);
    expect(proxy.tunnels.length).toBeGreaterThan(0); // before: none, the upload went direct
    expect(proxy.tunnels.every((tunnel) => tunnel.target === host)).toBe(true);
    expect(emulator.addressBook(CLIENT)).toHaveLength(1);
  });

  it("a proxy that refuses the credentials: doctor and the upload fail alike, with the fix (exit 5)", async () => {
    const strict = await startConnectProxy({ requireAuthorization: "Basic bm90LXRoaXM=" });
    try {
      const wrong = `http://sync:${PROXY_PASSWORD}@127.0.0.1:${strict.port}`;
      const { config, csv } = files(`  proxy: ${wrong}\n`);
      const env = { ILOBBY_SYNC_CLIENT_SECRET: SECRET };
      const host = new URL(emulator.url).host;
      const refused = `the proxy refused the tunnel to ${host} (HTTP 407)`;
      const fix = "check the user name and password in the proxy URL (ilobby.proxy or HTTPS_PROXY)";

      const doctor = await runCli(["doctor", "--json", "--config", config], { env });
      const checks = (
        JSON.parse(doctor.stdout) as { checks: { id: string; summary: string; fix?: string }[] }
      ).checks;
      expect(checks.find((check) => check.id === `tls:${emulator.url}`)).toMatchObject({
        status: "fail",
        summary: refused,
        fix,
      });

      const upload = await runCli(["upload", csv, "--config", config, "--json"], { env });
      expect(upload.code).toBe(5);
      expect(upload.stderr).toContain(refused);
      expect(upload.stderr).toContain(fix);
      expect(`${doctor.stdout}${upload.stdout}${upload.stderr}`).not.toContain(PROXY_PASSWORD);
      expect(emulator.addressBook(CLIENT)).toEqual([]);
    } finally {
      await strict.stop();
    }
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
