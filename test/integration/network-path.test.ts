/**
 * The shared network path (src/adapters/network/network-path.ts) on its own, as the iLobby client, Graph and the
 * notification channels use it: real HTTPS to the emulator (its own test CA) and a real CONNECT proxy, both on
 * 127.0.0.1. The proxy decision comes from the environment it is given, never from process.env.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createNetworkPath, type NetworkPathOptions } from "../../src/adapters/network/network-path.ts";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { type ConnectProxy, startConnectProxy } from "../support/connect-proxy.ts";

let emulator: Emulator;
let proxy: ConnectProxy;
let proxyUrl: string;

beforeAll(async () => {
  emulator = await startEmulator();
  proxy = await startConnectProxy();
  proxyUrl = `http://127.0.0.1:${proxy.port}`;
});
afterAll(async () => {
  await proxy?.stop();
  await emulator?.stop();
});
beforeEach(() => {
  proxy.tunnels.length = 0;
});

/** One GET through a fresh path; the answer's status, or the failure's innermost code. */
async function get(options: NetworkPathOptions): Promise<number | string> {
  const path = createNetworkPath({ timeoutMs: 10_000, ...options });
  try {
    const response = await path.dispatcher.request({ origin: emulator.url, path: "/", method: "GET" });
    await response.body.dump();
    return response.statusCode;
  } catch (error) {
    let root: unknown = error;
    while ((root as { cause?: unknown }).cause) root = (root as { cause?: unknown }).cause;
    return (root as { code?: string }).code ?? String(error);
  } finally {
    await path.close();
  }
}

describe("the network path", () => {
  it("trusts the extra CA beside the system and Node roots, and only with it", async () => {
    expect(await get({ env: {}, extraCa: [emulator.caPem] })).toBeTypeOf("number");
    expect(await get({ env: {} })).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("takes HTTPS_PROXY from the environment it is given, not from process.env", async () => {
    const saved = { upper: process.env.HTTPS_PROXY, lower: process.env.https_proxy };
    // A dead proxy in this process's own environment: the path must not see it.
    process.env.HTTPS_PROXY = "http://127.0.0.1:1";
    process.env.https_proxy = "http://127.0.0.1:1";
    try {
      expect(await get({ env: {}, extraCa: [emulator.caPem] })).toBeTypeOf("number");
      expect(proxy.tunnels).toEqual([]);

      const env = { HTTPS_PROXY: proxyUrl };
      const path = createNetworkPath({ env });
      expect(path.route(emulator.url)).toEqual({
        kind: "environment",
        url: proxyUrl,
        variable: "HTTPS_PROXY",
      });
      await path.close();
      expect(await get({ env, extraCa: [emulator.caPem] })).toBeTypeOf("number");
      expect(proxy.tunnels.map((tunnel) => tunnel.target)).toEqual([new URL(emulator.url).host]);
    } finally {
      for (const [name, value] of [
        ["HTTPS_PROXY", saved.upper],
        ["https_proxy", saved.lower],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("goes direct when NO_PROXY names the host, and a configured proxy wins over both", async () => {
    const env = { HTTPS_PROXY: "http://127.0.0.1:1", NO_PROXY: "127.0.0.1" };
    expect(await get({ env, extraCa: [emulator.caPem] })).toBeTypeOf("number");
    expect(proxy.tunnels).toEqual([]);
    expect(await get({ env, proxy: proxyUrl, extraCa: [emulator.caPem] })).toBeTypeOf("number");
    expect(proxy.tunnels).toHaveLength(1);
  });
});
