/**
 * Targets: the iLobby keys that receive uploads. Without `targets` the `ilobby` block is the one target and gets
 * every record; with `targets` each record goes to the targets whose `sites` include its SITE.
 */
import type { Row } from "./columns.ts";
import { directorySecretNames } from "./config/directory-secrets.ts";
import type { Config, IlobbyConfig } from "./config/schema.ts";
import type { MappedRecord, SkippedRecord } from "./mapping.ts";
import { notifySecretNames } from "./notify/config.ts";
import { DEFAULT_CLIENT_SECRET_NAME } from "./secret-names.ts";

const SINGLE_TARGET_NAME = "default";

export type ConnectionSettings = Omit<IlobbyConfig, "clientId">;

export interface ResolvedTarget {
  name: string;
  clientId: string;
  secretName: string;
  connection: ConnectionSettings;
  /** The sites this target receives; undefined = every record. */
  sites: readonly string[] | undefined;
}

export function resolveTargets(config: Config): ResolvedTarget[] {
  const { clientId, ...connection } = config.ilobby;
  if (!config.targets) {
    return [
      {
        name: SINGLE_TARGET_NAME,
        clientId: clientId ?? "",
        secretName: DEFAULT_CLIENT_SECRET_NAME,
        connection,
        sites: undefined,
      },
    ];
  }
  return config.targets.map((target) => ({
    name: target.name,
    clientId: target.clientId,
    secretName: target.secretName ?? `${DEFAULT_CLIENT_SECRET_NAME}-${target.name.toLowerCase()}`,
    connection: { ...connection, baseUrl: target.baseUrl ?? connection.baseUrl },
    sites: target.sites,
  }));
}

/** Every secret a sync with this config reads: each target's client secret, each directory source's, notify's. */
export function secretNamesFor(config: Config): string[] {
  return [
    ...new Set([
      ...resolveTargets(config).map((target) => target.secretName),
      ...config.sources.flatMap((source) => directorySecretNames(source.block)),
      ...notifySecretNames(config.notify),
    ]),
  ];
}

export interface TargetRows {
  target: ResolvedTarget;
  rows: Row[];
}

/** Splits records between targets; records whose SITE no target covers are reported, never guessed. */
export function assignToTargets(
  records: readonly MappedRecord[],
  targets: readonly ResolvedTarget[],
): { perTarget: TargetRows[]; covered: MappedRecord[]; uncovered: SkippedRecord[] } {
  const perTarget = targets.map((target) => ({ target, rows: [] as Row[] }));
  const covered: MappedRecord[] = [];
  const uncovered: SkippedRecord[] = [];
  for (const record of records) {
    let isCovered = false;
    for (const entry of perTarget) {
      if (!entry.target.sites || entry.target.sites.includes(record.row.SITE)) {
        entry.rows.push(record.row);
        isCovered = true;
      }
    }
    if (isCovered) covered.push(record);
    else {
      uncovered.push({
        ref: record.ref,
        email: record.row.EMAIL,
        reason: "no-target",
        message: `SITE "${record.row.SITE}" is not covered by any target's sites`,
      });
    }
  }
  return { perTarget, covered, uncovered };
}

/**
 * The SITE values a CSV may carry: one target's sites, or (no target named) any site some target covers, or the
 * portal's `sites`. Undefined when nothing restricts SITE.
 */
export function acceptedSites(config: Config, targetName?: string): readonly string[] | undefined {
  const targets = resolveTargets(config);
  if (targetName !== undefined) {
    const target = targets.find((candidate) => candidate.name === targetName);
    if (!target) return undefined;
    return target.sites ?? config.sites;
  }
  if (!config.targets) return config.sites;
  return [...new Set(targets.flatMap((target) => target.sites ?? []))];
}
