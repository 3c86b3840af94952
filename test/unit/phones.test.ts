/**
 * Phone normalisation. Expected E.164 values are written by hand from the numbering plans (NANP, Ofcom, ACMA,
 * ARCEP), in ranges reserved for fiction where the plan has one that the metadata accepts as valid
 * (NANP 555-01XX, London 020 7946 0XXX, Australia 0491 570 XXX and 02 5550 XXXX, France 01 99 00 XX XX).
 */
import { describe, expect, it } from "vitest";
import type { Row } from "../../src/core/columns.ts";
import { parseConfigText } from "../../src/core/config/parse.ts";
import {
  AS_IS,
  countPhoneChanges,
  countryFor,
  normalisePhone,
  normaliseRowPhones,
  type PhonePolicy,
  phoneFormatProblem,
} from "../../src/core/phones.ts";

const e164: PhonePolicy = {
  format: "e164",
  defaultCountry: "CA",
  countryBySite: { London: "GB", Sydney: "AU", Paris: "FR" },
  extensions: "drop",
  invalid: "drop",
};

const send = (
  raw: string,
  policy: PhonePolicy = e164,
  site = "Toronto",
  column: "MOBILE" | "DESKPHONE" = "DESKPHONE",
) => normalisePhone(raw, column, policy, site);

function row(overrides: Partial<Row>): Row {
  return {
    FIRSTNAME: "Ada",
    LASTNAME: "Lovelace",
    TITLE: "",
    DIVISION: "",
    EMAIL: "ada@example.test",
    MOBILE: "",
    DESKPHONE: "",
    SITE: "Toronto",
    ...overrides,
  };
}

describe("normalisePhone to E.164", () => {
  it.each([
    ["(416) 555-0199", "+14165550199"],
    [" +1 647 555 0107 ", "+16475550107"],
    ["514.555.0131", "+15145550131"],
    ["1 (514) 555-0130", "+15145550130"],
    ["+1-604-555-0300", "+16045550300"],
    // 011 is North America's international prefix; 00 is everyone else's and is read as "+" too.
    ["011 44 20 7946 0321", "+442079460321"],
    ["0044 20 7946 0000", "+442079460000"],
    ["00 33 1 99 00 12 34", "+33199001234"],
  ])("a Toronto number %j is sent as %s", (raw, expected) => {
    expect(send(raw)).toEqual({ value: expected, findings: [] });
  });

  it.each([
    ["London", "020 7946 0958", "+442079460958"],
    ["London", "+44 (0)20 7946 0959", "+442079460959"],
    ["Sydney", "(02) 5550 1234", "+61255501234"],
    ["Paris", "01 99 00 12 34", "+33199001234"],
    // A SITE not in countryBySite falls back to the default country.
    ["Montreal", "514 555 0131", "+15145550131"],
  ])("national numbers take the country of their SITE (%s: %j)", (site, raw, expected) => {
    expect(send(raw, e164, site).value).toBe(expected);
  });

  it("drops an extension and says so, or keeps it as ;ext=", () => {
    expect(send("(416) 555-0142 x204")).toEqual({
      value: "+14165550142",
      findings: [
        { problem: "extension-dropped", message: expect.stringContaining("without its extension 204") },
      ],
    });
    expect(send("416-555-0142 ext. 204", { ...e164, extensions: "keep" })).toEqual({
      value: "+14165550142;ext=204",
      findings: [],
    });
  });

  it("drops an invalid number (iLobby keeps its value) or keeps it as written, and says why", () => {
    const dropped = send("555-0199");
    expect(dropped.value).toBe("");
    expect(dropped.findings).toEqual([
      {
        problem: "invalid",
        message:
          "is not a valid phone number (read as a number of CA); sent empty, so iLobby keeps what it has",
      },
    ]);
    const kept = send("555-0199", { ...e164, invalid: "keep" });
    expect(kept.value).toBe("555-0199");
    expect(kept.findings[0]?.message).toContain("sent as written");
  });

  it("reports letters and fiction ranges that the plan does not allocate as invalid", () => {
    expect(send("ask reception").findings[0]?.message).toMatch(/^has no digits/);
    expect(send("1-800-FLOWERS").findings[0]?.problem).toBe("invalid");
    // Ofcom's drama mobile range is not a valid mobile number.
    expect(send("07700 900123", e164, "London").findings[0]?.problem).toBe("invalid");
    // A Berlin number in a site with no country: read as Canadian, it is no number at all.
    expect(send("030 23125 456", e164, "Berlin").value).toBe("");
  });

  it("takes only the configured sites' countries, whatever the directory calls a SITE", () => {
    expect(countryFor(e164, "constructor")).toBe("CA");
    expect(countryFor(e164, "__proto__")).toBe("CA");
    expect(send("(416) 555-0199", e164, "toString").value).toBe("+14165550199");
  });

  it("says how to give a country when none is configured", () => {
    const policy: PhonePolicy = { format: "e164", extensions: "drop", invalid: "drop" };
    expect(send("(416) 555-0199", policy, "Toronto").findings[0]?.message).toBe(
      'has no country code and no country is configured for SITE "Toronto": set phones.defaultCountry or phones.countryBySite; sent empty, so iLobby keeps what it has',
    );
    expect(send("+1 416 555 0199", policy).value).toBe("+14165550199");
  });

  it("warns about a MOBILE that is a fixed line, not about a NANP number that may be either", () => {
    expect(send("020 7946 0958", e164, "London", "MOBILE").findings).toEqual([
      { problem: "fixed-line-mobile", message: expect.stringContaining("SMS notifications cannot reach it") },
    ]);
    expect(send("020 7946 0958", e164, "London", "DESKPHONE").findings).toEqual([]);
    expect(send("0491 570 156", e164, "Sydney", "MOBILE")).toEqual({ value: "+61491570156", findings: [] });
    expect(send("(416) 555-0199", e164, "Toronto", "MOBILE").findings).toEqual([]);
  });

  it("writes the international format, with ' ext. ' when extensions are kept", () => {
    const international: PhonePolicy = { ...e164, format: "international" };
    expect(send("4165550199", international).value).toBe("+1 416 555 0199");
    expect(send("020 7946 0958", international, "London").value).toBe("+44 20 7946 0958");
    expect(send("(416) 555-0142 x204", { ...international, extensions: "keep" }).value).toBe(
      "+1 416 555 0142 ext. 204",
    );
    expect(send("(416) 555-0142 x204", international).value).toBe("+1 416 555 0142");
  });

  it("asIs sends every value untouched and reports nothing", () => {
    expect(send("ask reception", AS_IS)).toEqual({ value: "ask reception", findings: [] });
    expect(send("(416) 555-0199", { ...e164, format: "asIs" }).value).toBe("(416) 555-0199");
  });
});

describe("normaliseRowPhones", () => {
  it("rewrites MOBILE and DESKPHONE and reports each finding with the person and the raw value", () => {
    const { row: sent, reports } = normaliseRowPhones(
      row({ MOBILE: "020 7946 0958", DESKPHONE: "call reception", SITE: "London" }),
      "CN=Ada,OU=London",
      e164,
    );
    expect(sent).toEqual(row({ MOBILE: "+442079460958", DESKPHONE: "", SITE: "London" }));
    expect(reports).toEqual([
      {
        ref: "CN=Ada,OU=London",
        email: "ada@example.test",
        column: "MOBILE",
        raw: "020 7946 0958",
        sent: "+442079460958",
        problem: "fixed-line-mobile",
        message: expect.any(String),
      },
      {
        ref: "CN=Ada,OU=London",
        email: "ada@example.test",
        column: "DESKPHONE",
        raw: "call reception",
        sent: "",
        problem: "invalid",
        message: "has no digits: it is not a phone number; sent empty, so iLobby keeps what it has",
      },
    ]);
  });

  it("returns the same row when numbers are sent as they are", () => {
    const original = row({ MOBILE: "whatever" });
    expect(normaliseRowPhones(original, "CN=Ada", AS_IS)).toEqual({ row: original, reports: [] });
  });
});

describe("phoneFormatProblem (validate)", () => {
  it("accepts numbers already in the configured format and empty fields", () => {
    expect(phoneFormatProblem("+14165550199", e164, "Toronto")).toBeUndefined();
    expect(phoneFormatProblem("", e164, "Toronto")).toBeUndefined();
    expect(phoneFormatProblem("+14165550142;ext=204", { ...e164, extensions: "keep" }, "")).toBeUndefined();
    expect(phoneFormatProblem("+44 20 7946 0958", { ...e164, format: "international" }, "")).toBeUndefined();
  });

  it("names numbers in another format with what a run would send, and invalid numbers with why", () => {
    expect(phoneFormatProblem("(416) 555-0199", e164, "Toronto")).toBe(
      '"(416) 555-0199" is not in E.164 format (a run would send "+14165550199")',
    );
    expect(phoneFormatProblem("+14165550142;ext=204", e164, "Toronto")).toBe(
      '"+14165550142;ext=204" is not in E.164 format (a run would send "+14165550142")',
    );
    expect(phoneFormatProblem("+14165550199", { ...e164, format: "international" }, "")).toBe(
      '"+14165550199" is not in international format (a run would send "+1 416 555 0199")',
    );
    expect(phoneFormatProblem("555-0199", e164, "Toronto")).toBe(
      '"555-0199" is not a valid phone number (read as a number of CA)',
    );
    expect(phoneFormatProblem("020 7946 0958", e164, "London")).toBe(
      '"020 7946 0958" is not in E.164 format (a run would send "+442079460958")',
    );
  });

  it("has nothing to say under asIs", () => {
    expect(phoneFormatProblem("ask reception", AS_IS, "")).toBeUndefined();
  });
});

describe("countPhoneChanges (doctor)", () => {
  it("counts numbers, changes, invalid ones and fixed-line mobiles", () => {
    const rows = [
      row({ MOBILE: "+14165550101", DESKPHONE: "(416) 555-0100" }),
      row({ MOBILE: "020 7946 0958", DESKPHONE: "", SITE: "London" }),
      row({ MOBILE: "n/a", DESKPHONE: "" }),
    ];
    expect(countPhoneChanges(rows, e164)).toEqual({
      numbers: 4,
      changed: 3,
      invalid: 1,
      fixedLineMobiles: 1,
    });
  });
});

describe("the phones block in the config", () => {
  const base = `
ilobby:
  clientId: my-client-id
directory:
  url: ldaps://dc1.corp.example.com
  bindDn: svc-ilobby@corp.example.com
  searchBases: [OU=Users,DC=corp,DC=example,DC=com]
sites: [Toronto, London]
`;

  it("is absent by default (numbers sent as they are) and takes e164, drop and drop inside the block", () => {
    const without = parseConfigText(base);
    expect(without.ok && without.config.phones).toBeUndefined();
    const withBlock = parseConfigText(
      `${base}phones:\n  defaultCountry: ca\n  countryBySite: { London: gb }\n`,
    );
    expect(withBlock.ok && withBlock.config.phones).toEqual({
      format: "e164",
      defaultCountry: "CA",
      countryBySite: { London: "GB" },
      extensions: "drop",
      invalid: "drop",
    });
  });

  it("names an unknown country, a site outside `sites` and an unknown format with their key paths", () => {
    const problems = (phones: string) => {
      const result = parseConfigText(`${base}phones:\n${phones}`);
      return result.ok ? [] : result.problems.map(({ path, message }) => ({ path, message }));
    };
    expect(problems("  defaultCountry: XX\n  countryBySite: { Paris: FR }\n")).toEqual([
      {
        path: "phones.defaultCountry",
        message: "must be a two-letter ISO 3166-1 country code such as CA, GB or FR",
      },
      { path: "phones.countryBySite.Paris", message: '"Paris" is not listed in `sites`' },
    ]);
    expect(problems("  format: E164\n")).toEqual([
      { path: "phones.format", message: 'Invalid option: expected one of "e164"|"international"|"asIs"' },
    ]);
  });
});
