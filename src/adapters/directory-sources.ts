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
import { entraSource } from "./entra/index.ts";
import { ldapSource } from "./ldap/index.ts";

/** What a source needs from the outside world to open itself. */
export interface SourceContext {
  config: Config;
  secrets: SecretSource;
  /** The injected environment: the proxy variables (HTTPS_PROXY, NO_PROXY) of a source that speaks HTTPS. */
  env: NodeJS.ProcessEnv;
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

const DESCRIPTORS: Descriptors = { ldap: ldapSource, entra: entraSource };

export function sourceFor(directory: DirectoryConfig): DirectorySourceDescriptor {
  return DESCRIPTORS[directory.type] as DirectorySourceDescriptor;
}

/** The source of each `directory` block, in config order (one unless `directory` is a list). */
export function openDirectorySources(context: SourceContext): Promise<DirectorySource[]> {
  return Promise.all(context.config.sources.map(({ block }) => sourceFor(block).open(block, context)));
}

/**
 * The config as one source sees it: that source's block as `directory` and its own mapping. A source's own
 * checks (doctor, init) read `config.directory` and `config.mapping`; with several sources each gets its view.
 */
export function configOfSource(config: Config, sourceIndex: number): Config {
  const source = config.sources[sourceIndex];
  if (source === undefined) throw new RangeError(`no source ${sourceIndex} in the config`);
  return { ...config, directory: source.block, mapping: source.mapping, sources: [source] };
}

export async function directoryConfigIssues(config: Config): Promise<ConfigIssue[]> {
  const listed = config.sources.length > 1;
  const issues = await Promise.all(
    config.sources.map(async ({ block }, index) =>
      (await sourceFor(block).checkConfig(block)).map((issue) =>
        // A source names its keys as directory.<key>; in a list they are directory[index].<key>.
        listed && issue.path[0] === "directory"
          ? { ...issue, path: ["directory", index, ...issue.path.slice(1)] }
          : issue,
      ),
    ),
  );
  return issues.flat();
}
