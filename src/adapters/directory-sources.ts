/**
 * The directory sources ilobby-sync can read, selected by `directory.type`. Each source lives in its own folder
 * (src/adapters/<type>/) and exports one descriptor: the secrets it reads, its own config checks, a factory for
 * its DirectorySource and its doctor checks. A new source is a new folder, a schema branch in
 * src/core/config/directory.ts and one line here. Descriptors load their heavy modules (ldapts, ...) on use, so
 * listing them costs a command's start-up nothing.
 */
import type { DirectorySource, SecretSource } from "../app/ports.ts";
import type { CheckResult } from "../core/checks.ts";
import type { ConfigIssue } from "../core/config/parse.ts";
import type { Config, DirectoryConfig } from "../core/config/schema.ts";
import { ldapSource } from "./ldap/index.ts";

/** What a source needs from the outside world to open itself. */
export interface SourceContext {
  config: Config;
  secrets: SecretSource;
  /** A path from the config (caFile, ...) relative to the config file's folder. */
  resolvePath(path: string): string;
  /** A line of --verbose output. */
  verbose(message: string): void;
  /** Every secret and token the source handles is added here, so no output ever shows it. */
  redact(value: string | undefined): void;
  /**
   * Told the expiry of each server certificate the source's connections verified (a DC, Graph): one that expires
   * within 30 days becomes a notification warning. `endpoint` is fit to print, e.g. "directory ldaps://dc1:636".
   */
  onCertificate?: ((endpoint: string, validTo: string) => void) | undefined;
}

export interface SourceDoctorContext extends SourceContext {
  now(): number;
  /** The secret checks already run (`secret:<name>`): a check that needs a missing secret is skipped. */
  secretChecks: readonly CheckResult[];
}

export interface DirectorySourceDescriptor<Block extends DirectoryConfig = DirectoryConfig> {
  readonly type: Block["type"];
  /** The secrets this source reads (the targets' client secrets come on top). */
  secretNames(block: Block): string[];
  /** Problems the schema cannot see (an LDAP filter that does not parse), by key path; before any connection. */
  checkConfig(block: Block): Promise<ConfigIssue[]>;
  open(block: Block, context: SourceContext): Promise<DirectorySource>;
  /** Its part of `doctor`: reachability, credentials, what it would read. */
  doctorChecks(block: Block, context: SourceDoctorContext): Promise<CheckResult[]>;
}

type Descriptors = {
  [Type in DirectoryConfig["type"]]: DirectorySourceDescriptor<Extract<DirectoryConfig, { type: Type }>>;
};

const DESCRIPTORS: Descriptors = { ldap: ldapSource };

export function sourceFor(directory: DirectoryConfig): DirectorySourceDescriptor {
  return DESCRIPTORS[directory.type] as DirectorySourceDescriptor;
}

export function openDirectorySource(context: SourceContext): Promise<DirectorySource> {
  const { directory } = context.config;
  return sourceFor(directory).open(directory, context);
}

export function directoryConfigIssues(config: Config): Promise<ConfigIssue[]> {
  return sourceFor(config.directory).checkConfig(config.directory);
}
