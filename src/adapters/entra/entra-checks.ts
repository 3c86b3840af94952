/**
 * The Entra ID source's part of `doctor`: the credential (certificate file), a token, each application permission
 * (a 403 named as the missing permission, with the fix), each group's name, user count and examples, and the
 * attribute coverage of the people a run would read. Every check runs; one whose predecessor failed is skipped.
 */
import { X509Certificate } from "node:crypto";
import { stat } from "node:fs/promises";
import type { SourceRecord } from "../../app/ports.ts";
import { type CheckResult, failed, isUsable, passed, skipped, warned } from "../../core/checks.ts";
import { ENTRA_CLIENT_SECRET_NAME } from "../../core/config/directory-secrets.ts";
import type { EntraDirectoryConfig } from "../../core/config/schema.ts";
import { assessCoverage, attributeCoverage, daysUntil, samplePeople } from "../../core/doctor.ts";
import { readRequestFor } from "../../core/plan.ts";
import { OBJECT_ID_PATTERN } from "../../core/site-groups.ts";
import type { SourceDoctorContext } from "../directory-sources.ts";
import { readCertificateFile } from "./certificate-file.ts";
import type { EntraDirectory } from "./entra-directory.ts";
import { readCertificateCredential } from "./entra-token.ts";
import { openEntraDirectory } from "./index.ts";

const EXAMPLES = 3;
const CERTIFICATE_WARNING_DAYS = 30;

async function certificateCheck(
  block: EntraDirectoryConfig,
  context: SourceDoctorContext,
): Promise<CheckResult> {
  const file = context.resolvePath(block.certificateFile ?? "");
  const id = "certificate";
  const title = `certificate ${file}`;
  try {
    const pem = await readCertificateFile(file);
    const credential = readCertificateCredential(pem, file);
    const certificate = new X509Certificate(credential.x5c ?? "");
    const days = daysUntil(certificate.validTo, context.now());
    const details = [
      `SHA-256 thumbprint ${credential.thumbprintSha256}`,
      `subject ${certificate.subject.replaceAll("\n", ", ")}`,
    ];
    const mode = (await stat(file)).mode;
    if (process.platform !== "win32" && (mode & 0o077) !== 0) {
      return warned(
        id,
        title,
        `the private key is readable by other accounts (mode ${(mode & 0o777).toString(8)})`,
        `chmod 600 ${file} (only the account that runs ilobby-sync needs it)`,
        details,
      );
    }
    if (days < 0) {
      return warned(
        id,
        title,
        `the certificate expired ${-days} days ago`,
        "make a new certificate and upload it to the app registration (docs/entra-id.md)",
        details,
      );
    }
    const summary = `certificate and key match; expires in ${days} days`;
    return days < CERTIFICATE_WARNING_DAYS
      ? warned(
          id,
          title,
          summary,
          "make a new certificate, upload it to the app registration and replace the file before it expires",
          details,
        )
      : passed(id, title, summary, details);
  } catch (error) {
    return failed(id, title, error);
  }
}

/** Group object ids this block reads: `groups`, then the `siteGroups` keys that are Entra object ids. */
function groupsToCheck(
  block: EntraDirectoryConfig,
  context: SourceDoctorContext,
): Array<{ id: string; site?: string }> {
  const siteGroups = Object.entries(context.config.siteGroups ?? {})
    .filter(([key]) => OBJECT_ID_PATTERN.test(key))
    .map(([id, site]) => ({ id, site }));
  return [
    ...block.groups.map((id) => ({ id })),
    ...siteGroups.filter((group) => !block.groups.includes(group.id)),
  ];
}

async function groupCheck(
  directory: EntraDirectory,
  group: { id: string; site?: string },
): Promise<CheckResult> {
  const id = `group:${group.id}`;
  const title = group.site === undefined ? `group ${group.id}` : `site group ${group.id} -> ${group.site}`;
  try {
    const summary = await directory.describeGroup(group.id, EXAMPLES);
    const others =
      summary.otherCount > 0
        ? `; ${summary.otherCount} other members (groups, devices, apps, contacts) skipped`
        : "";
    const found = `"${summary.name}": ${summary.userCount} users, nested groups included${others}`;
    if (summary.userCount === 0) {
      return warned(
        id,
        title,
        found,
        "add users to the group (guests and disabled accounts are left out unless includeGuests / includeDisabled)",
      );
    }
    return passed(id, title, found, [`e.g. ${summary.examples.join("; ")}`]);
  } catch (error) {
    return failed(id, title, error);
  }
}

export async function entraDoctorChecks(
  block: EntraDirectoryConfig,
  context: SourceDoctorContext,
): Promise<CheckResult[]> {
  const { config } = context;
  const checks: CheckResult[] = [];
  const groups = groupsToCheck(block, context);
  const tokenTitle = `token for app ${block.clientId} from ${block.authorityUrl}/${block.tenantId}`;
  const later = [
    { id: "permissions", title: "Graph application permissions" },
    ...groups.map((group) => ({ id: `group:${group.id}`, title: `group ${group.id}` })),
    { id: "users", title: "users a run would read" },
    { id: "coverage", title: "attribute coverage" },
  ];
  const skipRest = (from: number, reason: string) =>
    later.slice(from).map((check) => skipped(check.id, check.title, reason));

  let credentialUsable: boolean;
  if (block.certificateFile === undefined) {
    const secret = context.secretChecks.find((check) => check.id === `secret:${ENTRA_CLIENT_SECRET_NAME}`);
    credentialUsable = isUsable(secret);
  } else {
    const certificate = await certificateCheck(block, context);
    checks.push(certificate);
    credentialUsable = certificate.status !== "fail";
  }
  if (!credentialUsable) {
    const reason =
      block.certificateFile === undefined
        ? `the ${ENTRA_CLIENT_SECRET_NAME} secret is not available`
        : "the certificate file cannot be used";
    return [...checks, skipped("token", tokenTitle, reason), ...skipRest(0, reason)];
  }

  let directory: Awaited<ReturnType<typeof openEntraDirectory>> | undefined;
  try {
    directory = await openEntraDirectory(block, context);
    const { expiresOn } = await directory.checkToken();
    checks.push(
      passed(
        "token",
        tokenTitle,
        `obtained an access token${expiresOn ? ` valid until ${expiresOn.toISOString()}` : ""}`,
        [
          `credential: ${block.certificateFile === undefined ? `the ${ENTRA_CLIENT_SECRET_NAME} secret` : "certificate (signed client assertion)"}`,
        ],
      ),
    );
  } catch (error) {
    await directory?.close();
    checks.push(failed("token", tokenTitle, error));
    return [...checks, ...skipRest(0, "no access token")];
  }

  // Every way out of here ends the Graph network path.
  try {
    try {
      const granted = await directory.checkPermissions(groups.map((group) => group.id));
      checks.push(passed("permissions", "Graph application permissions", `${granted.join(" and ")} granted`));
    } catch (error) {
      checks.push(failed("permissions", "Graph application permissions", error));
      return [...checks, ...skipRest(1, "a permission is missing")];
    }

    for (const group of groups) checks.push(await groupCheck(directory, group));

    const records: SourceRecord[] = [];
    try {
      for await (const page of directory.read(readRequestFor(config)))
        for (const record of page) records.push(record);
    } catch (error) {
      checks.push(failed("users", "users a run would read", error));
      return [...checks, skipped("coverage", "attribute coverage", "the users could not be read")];
    }
    const scope =
      block.groups.length === 0 ? "every user of the tenant" : `members of ${block.groups.length} group(s)`;
    const leftOut = [
      block.includeGuests ? "" : "guests",
      block.includeDisabled ? "" : "disabled accounts",
    ].filter(Boolean);
    const users =
      records.length === 0
        ? warned(
            "users",
            "users a run would read",
            `no users (${scope})`,
            "check directory.groups, and that the groups hold users",
          )
        : passed(
            "users",
            "users a run would read",
            `${records.length} users (${scope}${leftOut.length > 0 ? `; ${leftOut.join(" and ")} left out` : ""})`,
            [`e.g. ${samplePeople(config, records).join("; ")}`],
          );
    checks.push(users);
    checks.push(assessCoverage("coverage", "attribute coverage", config, attributeCoverage(config, records)));
    return checks;
  } finally {
    await directory.close();
  }
}
