/**
 * The LDAP source's own `doctor` checks (and the ones `init` uses to test its answers): DNS, TCP and TLS of each
 * domain controller, the bind account's name and a real bind, the users each search base and group holds, and the
 * attribute coverage of everything found. Every check runs; one whose predecessor failed is skipped with the reason.
 */
import { NoSuchObjectError } from "ldapts";
import { type EndpointProbe, endpointChecks } from "../../app/doctor.ts";
import type { DirectoryReadRequest, SourceRecord } from "../../app/ports.ts";
import { bindNameCheck } from "../../core/bind-name.ts";
import { type CheckResult, failed, isUsable, passed, skipped, warned } from "../../core/checks.ts";
import { BIND_PASSWORD_SECRET_NAME } from "../../core/config/directory-secrets.ts";
import type { Config, LdapDirectoryConfig } from "../../core/config/schema.ts";
import { assessCoverage, attributeCoverage, samplePeople } from "../../core/doctor.ts";
import { SyncError } from "../../core/errors.ts";
import { readRequestFor } from "../../core/plan.ts";
import type { LdapDirectory } from "./ldap-directory.ts";

/** Builds the directory of a block with the run's password and trust (doctor narrows the block per check). */
export type LdapConnector = (directory: LdapDirectoryConfig) => LdapDirectory;

async function collect(pages: AsyncIterable<readonly SourceRecord[]>): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const page of pages) for (const record of page) records.push(record);
  return records;
}

export async function bindCheck(bindDn: string, directory: LdapDirectory): Promise<CheckResult> {
  const title = `bind as ${bindDn}`;
  try {
    const { url } = await directory.checkBind();
    return passed("bind", title, `bound on ${url}`);
  } catch (error) {
    return failed("bind", title, error);
  }
}

export interface BaseSearch {
  check: CheckResult;
  records: SourceRecord[];
}

/** The users the run's filter finds under one search base, with the first few by name. */
export async function searchBaseCheck(
  config: Config,
  block: LdapDirectoryConfig,
  directory: LdapDirectory,
  baseIndex: number,
): Promise<BaseSearch> {
  const base = block.searchBases[baseIndex]?.base ?? "";
  const id = `search:${base}`;
  const title = `search ${base}`;
  const request: DirectoryReadRequest = readRequestFor(config);
  try {
    const records = await collect(directory.readBase(request, baseIndex));
    const details = [`filter ${directory.filter.toString()}`];
    if (records.length === 0) {
      return {
        records,
        check: warned(
          id,
          title,
          "no users match under this base",
          "users must be below this OU; check directory.groups and directory.filter (disabled accounts are left out unless directory.includeDisabled)",
          details,
        ),
      };
    }
    details.push(`e.g. ${samplePeople(config, records).join("; ")}`);
    return { records, check: passed(id, title, `${records.length} users match`, details) };
  } catch (error) {
    return { records: [], check: failed(id, title, error) };
  }
}

/** A group in `directory.groups`: that it exists, and how many users in the search bases belong to it. */
export async function groupCheck(
  config: Config,
  block: LdapDirectoryConfig,
  connect: LdapConnector,
  group: string,
): Promise<CheckResult> {
  const id = `group:${group}`;
  const title = `group ${group}`;
  const { nestedGroups } = block;
  try {
    if (!(await connect(block).isGroup(group))) {
      return failed(
        id,
        title,
        new SyncError("config", `"${group}" exists but is not a group`, {
          fix: "list the group's distinguishedName in directory.groups",
        }),
      );
    }
  } catch (error) {
    const missing = error instanceof Error && error.cause instanceof NoSuchObjectError;
    return failed(
      id,
      title,
      missing
        ? new SyncError("directory", `the group "${group}" does not exist`, {
            cause: "a typo in the group's distinguished name, or the group was renamed or moved",
            fix: "copy the DN from the group's distinguishedName attribute in AD into directory.groups",
            error,
          })
        : error,
    );
  }
  try {
    const members = connect({ ...block, groups: [group] });
    const records = await collect(members.read({ ...readRequestFor(config), siteGroups: [] }));
    const membership = nestedGroups ? "members, nested groups included" : "direct members";
    if (records.length === 0) {
      return warned(
        id,
        title,
        `no users in the search bases are ${membership}`,
        "check that the group's members are users below directory.searchBases",
      );
    }
    return passed(id, title, `${records.length} users in the search bases are ${membership}`, [
      `e.g. ${samplePeople(config, records).join("; ")}`,
    ]);
  } catch (error) {
    return failed(id, title, error);
  }
}

export interface LdapDoctorContext {
  config: Config;
  block: LdapDirectoryConfig;
  now(): number;
  endpoint: EndpointProbe;
  /** The secret checks already run: the bind needs the bind-password secret. */
  secretChecks: readonly CheckResult[];
  /** Reads the bind password and trust as a run does; throws a SyncError. */
  open(): Promise<LdapConnector>;
}

export async function ldapDoctorChecks(context: LdapDoctorContext): Promise<CheckResult[]> {
  const { config, block } = context;
  const checks: CheckResult[] = [bindNameCheck(block.bindDn)];
  const tlsResults: CheckResult[] = [];
  for (const url of block.url) {
    const endpoint = await endpointChecks(url, context.endpoint, context.now());
    checks.push(...endpoint);
    const tls = endpoint.at(-1);
    if (tls) tlsResults.push(tls);
  }
  const bases = block.searchBases.map((searchBase) => searchBase.base);
  const later = [
    ...bases.map((base) => ({ id: `search:${base}`, title: `search ${base}` })),
    ...block.groups.map((group) => ({ id: `group:${group}`, title: `group ${group}` })),
    { id: "coverage", title: "attribute coverage" },
  ];
  const skipAll = (reason: string) => later.map((check) => skipped(check.id, check.title, reason));

  const bindPassword = context.secretChecks.find(
    (check) => check.id === `secret:${BIND_PASSWORD_SECRET_NAME}`,
  );
  const bindTitle = `bind as ${block.bindDn}`;
  let bind: CheckResult;
  let connect: LdapConnector | undefined;
  let directory: LdapDirectory | undefined;
  if (!isUsable(bindPassword))
    bind = skipped("bind", bindTitle, `the ${BIND_PASSWORD_SECRET_NAME} secret is not available`);
  else if (!tlsResults.some(isUsable))
    bind = skipped("bind", bindTitle, "no directory URL passed the TLS check");
  else {
    try {
      connect = await context.open();
      directory = connect(block);
      bind = await bindCheck(block.bindDn, directory);
    } catch (error) {
      bind = failed("bind", bindTitle, error);
    }
  }
  checks.push(bind);
  if (!connect || !directory || !isUsable(bind)) return [...checks, ...skipAll("the bind did not succeed")];

  const records: SourceRecord[] = [];
  let searchesOk = true;
  for (const index of bases.keys()) {
    const search = await searchBaseCheck(config, block, directory, index);
    checks.push(search.check);
    for (const record of search.records) records.push(record);
    searchesOk &&= isUsable(search.check);
  }
  for (const group of block.groups) checks.push(await groupCheck(config, block, connect, group));
  checks.push(
    searchesOk
      ? assessCoverage("coverage", "attribute coverage", config, attributeCoverage(config, records))
      : skipped("coverage", "attribute coverage", "a search failed"),
  );
  return checks;
}
