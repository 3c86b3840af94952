/**
 * vitest globalSetup for the "ad" project: one seeded Samba AD DC for the whole run, stopped by PID in teardown.
 * Tests read the connection details with `inject("sambaDc")` and may kill or restart the DC through
 * `sambaDcControl(inject("sambaDc").controlUrl)`; a test that changes the DC must restore it before it ends.
 */
import type { TestProject } from "vitest/node";
import { ensureSambaPackages, type SambaDcConnection, serveSambaDcControl, startSambaDc } from "./testbed.ts";

declare module "vitest" {
  export interface ProvidedContext {
    sambaDc: SambaDcConnection & { controlUrl: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureSambaPackages();
  const started = Date.now();
  const dc = await startSambaDc({ log: (message) => console.log(`[samba] ${message}`) });
  const control = await serveSambaDcControl(dc).catch(async (error: unknown) => {
    await dc.stop();
    throw error;
  });
  console.log(
    `[samba] DC ready in ${((Date.now() - started) / 1000).toFixed(1)} s, PID ${dc.pid}, ${dc.runDir}`,
  );
  project.provide("sambaDc", { ...dc.connection, controlUrl: control.url });
  return async () => {
    await control.close();
    await dc.stop();
  };
}
