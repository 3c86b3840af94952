/**
 * `validate` with a config that has `phones`: a CSV made elsewhere is uploaded as it is, so numbers that are not in
 * the configured format are reported (warnings, with line and column) through the built CLI.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runCli } from "../support/cli.ts";

const HEADER = "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ilobby-phones-"));
});

function writeConfig(phones: Record<string, unknown> | undefined): void {
  writeFileSync(
    join(dir, "ilobby-sync.yaml"),
    stringify({
      ilobby: { clientId: "phones-client" },
      directory: {
        url: "ldaps://dc1.corp.example.test",
        bindDn: "svc@corp.example.test",
        searchBases: ["OU=Staff,DC=corp,DC=example,DC=test"],
      },
      ...(phones ? { phones } : {}),
    }),
  );
}

function writeCsv(): string {
  const path = join(dir, "hosts.csv");
  writeFileSync(
    path,
    [
      HEADER,
      "Ann,Lee,,,ann@example.test,+14165550101,+14165550100,Toronto",
      'Bo,Chan,,,bo@example.test,(416) 555-0102,"+1 416 555 0103",Toronto',
      "Cy,Roy,,,cy@example.test,020 7946 0958,555-0199,London",
      "",
    ].join("\r\n"),
  );
  return path;
}

describe("validate with phones", () => {
  it("warns about each number not in E.164, with the number a run would send, and stays valid", async () => {
    writeConfig({ format: "e164", defaultCountry: "CA", countryBySite: { London: "GB" } });
    const path = writeCsv();
    const result = await runCli(["validate", path, "--json"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const verdict = JSON.parse(result.stdout);
    expect(verdict.valid).toBe(true);
    expect(verdict.problems).toEqual([
      {
        severity: "warning",
        line: 3,
        column: "MOBILE",
        message: '"(416) 555-0102" is not in E.164 format (a run would send "+14165550102")',
      },
      {
        severity: "warning",
        line: 3,
        column: "DESKPHONE",
        message: '"+1 416 555 0103" is not in E.164 format (a run would send "+14165550103")',
      },
      {
        severity: "warning",
        line: 4,
        column: "MOBILE",
        message: '"020 7946 0958" is not in E.164 format (a run would send "+442079460958")',
      },
      {
        severity: "warning",
        line: 4,
        column: "DESKPHONE",
        message: '"555-0199" is not a valid phone number (read as a number of GB)',
      },
    ]);
    const human = await runCli(["validate", path], { cwd: dir });
    expect(human.stdout).toContain(
      'hosts.csv:3 MOBILE: warning: "(416) 555-0102" is not in E.164 format (a run would send "+14165550102")',
    );
  });

  it("says nothing about numbers without a phones block", async () => {
    writeConfig(undefined);
    const result = await runCli(["validate", writeCsv(), "--json"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).problems).toEqual([]);
  });
});
