/**
 * The servers the Entra ID integration tests need, on 127.0.0.1: the Graph emulator serving the sample tenant
 * (an app registration with a client secret and one with a certificate) and the iLobby emulator; plus a config
 * for `directory.type: entra` pointing at both.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import {
  type GraphClient,
  type GraphEmulator,
  startGraphEmulator,
} from "../graph-emulator/graph-emulator.ts";
import {
  buildSampleTenant,
  SAMPLE_GROUPS,
  SAMPLE_TENANT_ID,
  type SampleTenantFacts,
} from "../graph-emulator/sample-tenant.ts";
import { type ClientCertificate, createClientCertificate } from "./pki.ts";

export const ENTRA_CLIENT_ID = "11111111-2222-3333-4444-555555555555";
export const ENTRA_CERT_CLIENT_ID = "66666666-7777-8888-9999-000000000000";
export const ENTRA_SECRET = "entra-client-secret-value-0123456789";
export const TENANT_GUID = "9c2f7b34-0000-4000-8000-000000000001";

export interface EntraWorld {
  graph: GraphEmulator;
  ilobby: Emulator;
  facts: SampleTenantFacts;
  certificate: ClientCertificate;
  /** A config object for `directory.type: entra` and the iLobby emulator; change it before writing. */
  config(ilobbyClientId: string): EntraConfig;
  /** Writes the config as `dir`/ilobby-sync.yaml and returns that path. */
  writeConfig(dir: string, config: object): string;
  stop(): Promise<void>;
}

export interface EntraConfig {
  ilobby: Record<string, unknown>;
  directory: Record<string, unknown>;
  [key: string]: unknown;
}

export async function startEntraWorld(options: {
  ilobbyClients: Record<string, string>;
  /** Change the tenant before the emulator serves it (say, add a person another source also has). */
  prepare?: (facts: SampleTenantFacts) => void;
  extraClients?: Record<string, GraphClient>;
}): Promise<EntraWorld> {
  const pkiDir = mkdtempSync(join(tmpdir(), "entra-world-"));
  const certificate = createClientCertificate(pkiDir, "entra-app");
  const facts = buildSampleTenant();
  options.prepare?.(facts);
  const graph = await startGraphEmulator({
    tenant: facts.tenant,
    tenantIds: [SAMPLE_TENANT_ID, TENANT_GUID],
    clients: {
      [ENTRA_CLIENT_ID]: { secret: ENTRA_SECRET },
      [ENTRA_CERT_CLIENT_ID]: { certificatePem: certificate.certPem },
      ...options.extraClients,
    },
  });
  const ilobby = await startEmulator({ clients: options.ilobbyClients }).catch(async (error: unknown) => {
    await graph.stop();
    throw error;
  });
  return {
    graph,
    ilobby,
    facts,
    certificate,
    config: (ilobbyClientId) => ({
      ilobby: { clientId: ilobbyClientId, baseUrl: ilobby.url, caFile: ilobby.caFile },
      directory: {
        type: "entra",
        tenantId: SAMPLE_TENANT_ID,
        clientId: ENTRA_CLIENT_ID,
        groups: [SAMPLE_GROUPS.allStaff],
        authorityUrl: graph.url,
        graphUrl: graph.url,
        caFile: graph.caFile,
        // Small pages: the sample tenant's 200 people take several nextLinks.
        pageSize: 40,
      },
      stateDir: "state",
    }),
    writeConfig(dir, config) {
      const path = join(dir, "ilobby-sync.yaml");
      writeFileSync(path, stringify(config));
      return path;
    },
    async stop() {
      await Promise.all([graph.stop(), ilobby.stop()]);
      rmSync(pkiDir, { recursive: true, force: true });
    },
  };
}
