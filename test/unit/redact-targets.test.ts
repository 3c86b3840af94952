import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/core/config/parse.ts";
import type { MappedRecord } from "../../src/core/mapping.ts";
import { createRedactor } from "../../src/core/redact.ts";
import { assignToTargets, resolveTargets } from "../../src/core/targets.ts";

describe("redactor", () => {
  it("removes known secrets and credential-shaped text everywhere", () => {
    const redactor = createRedactor();
    redactor.add("s3cr3t-value");
    const text = redactor.redact(
      "bind failed for s3cr3t-value; Authorization: Bearer eyJabc.def-ghi; client_secret=abc123&x=1; http://user:pw@proxy:8080",
    );
    expect(text).not.toMatch(/s3cr3t-value|eyJabc|abc123|:pw@/);
    expect(redactor.redactValue({ nested: ["s3cr3t-value"] })).toEqual({ nested: ["[REDACTED]"] });
  });
});

describe("targets", () => {
  const parsed = parseConfigText(`
directory: { url: ldaps://dc1, bindDn: svc, searchBases: [DC=x] }
sites: [Toronto, Montreal, Vancouver]
ilobby: { baseUrl: https://api.example.test }
targets:
  - { name: east, clientId: east-id, sites: [Toronto, Montreal] }
  - { name: west, clientId: west-id, secretName: west-key, baseUrl: https://west.example.test, sites: [Vancouver] }
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const targets = resolveTargets(parsed.config);

  it("gives each target its secret name and connection", () => {
    expect(targets.map((target) => [target.name, target.secretName, target.connection.baseUrl])).toEqual([
      ["east", "client-secret-east", "https://api.example.test"],
      ["west", "west-key", "https://west.example.test"],
    ]);
  });

  it("sends each record to the targets covering its SITE and reports the rest", () => {
    const record = (email: string, SITE: string): MappedRecord => ({
      ref: `CN=${email}`,
      siteSource: "attribute",
      sourceIndex: 0,
      row: {
        FIRSTNAME: "",
        LASTNAME: "",
        TITLE: "",
        DIVISION: "",
        EMAIL: email,
        MOBILE: "",
        DESKPHONE: "",
        SITE,
      },
    });
    const { perTarget, uncovered } = assignToTargets(
      [record("a@x.test", "Toronto"), record("b@x.test", "Vancouver"), record("c@x.test", "Calgary")],
      targets,
    );
    expect(perTarget.map((entry) => entry.rows.map((row) => row.EMAIL))).toEqual([
      ["a@x.test"],
      ["b@x.test"],
    ]);
    expect(uncovered).toEqual([expect.objectContaining({ reason: "no-target", email: "c@x.test" })]);
  });
});

describe("redactor and secret names", () => {
  it("keeps systemd credential lines that name a secret", () => {
    const line =
      "LoadCredentialEncrypted=bind-password:/etc/credstore.encrypted/ilobby-sync-bind-password.cred";
    expect(createRedactor().redact(line)).toBe(line);
    expect(createRedactor().redact("password=hunter2")).toBe("password=[REDACTED]");
  });
});
