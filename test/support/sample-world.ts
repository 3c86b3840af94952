/**
 * The servers most integration tests need, started together on 127.0.0.1: the sample LDAPS directory with a
 * certificate from a fresh test CA, and the iLobby emulator; plus the sample config pointing at both.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { Row } from "../../src/core/columns.ts";
import { type Emulator, startEmulator } from "../emulator/emulator.ts";
import { type LdapServer, startLdapServer } from "./ldap-server.ts";
import { createTestCa, issueServerCert, type ServerCert, type TestCa } from "./pki.ts";
import { SAMPLE_ACCOUNTS, SAMPLE_ENTRIES, sampleConfigYaml } from "./sample-directory.ts";

/** A config as an object, for a test to change before it is written. */
export interface SampleConfig {
  ilobby: Record<string, unknown>;
  directory: Record<string, unknown>;
  mapping: Record<string, unknown>;
  [key: string]: unknown;
}

export interface SampleWorld {
  ca: TestCa;
  directoryCert: ServerCert;
  ldap: LdapServer;
  emulator: Emulator;
  /** The sample config for a client id, against the world's directory or another one at `url`. */
  config(clientId: string, url?: string): SampleConfig;
  /** Writes the config as `dir`/ilobby-sync.yaml and returns that path. */
  writeConfig(dir: string, config: SampleConfig): string;
  /** The enabled entries of a client's address book, as rows. */
  enabledBook(clientId: string): Row[];
  stop(): Promise<void>;
}

export async function startSampleWorld(options: {
  clients: Record<string, string>;
  /** Lifetime of the servers' certificates (doctor warns under 30 days). */
  certificateDays?: number;
  pkiDir?: string;
}): Promise<SampleWorld> {
  const ca = createTestCa(options.pkiDir ?? join(mkdtempSync(join(tmpdir(), "ilobby-pki-")), "ca"));
  const days = options.certificateDays === undefined ? {} : { days: options.certificateDays };
  const directoryCert = issueServerCert(ca, "dc1", undefined, days);
  const ldap = await startLdapServer({ entries: SAMPLE_ENTRIES, users: SAMPLE_ACCOUNTS, tls: directoryCert });
  const emulator = await startEmulator({
    clients: options.clients,
    ...(options.certificateDays === undefined ? {} : { certificateDays: options.certificateDays }),
  }).catch(async (error: unknown) => {
    await ldap.stop();
    throw error;
  });
  return {
    ca,
    directoryCert,
    ldap,
    emulator,
    config: (clientId, url = ldap.url) =>
      parse(
        sampleConfigYaml({
          url,
          caFile: ca.certFile,
          ilobbyUrl: emulator.url,
          ilobbyCaFile: emulator.caFile,
          clientId,
        }),
      ) as SampleConfig,
    writeConfig(dir, config) {
      const path = join(dir, "ilobby-sync.yaml");
      writeFileSync(path, stringify(config));
      return path;
    },
    enabledBook: (clientId) =>
      emulator
        .addressBook(clientId)
        .filter((entry) => entry.enabled)
        .map(({ enabled: _enabled, ...row }) => row),
    stop: async () => {
      await Promise.all([ldap.stop(), emulator.stop()]);
    },
  };
}
