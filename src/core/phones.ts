/**
 * Phone numbers iLobby can dial: MOBILE and DESKPHONE rewritten to one format (E.164 by default when `phones` is
 * configured), with the country taken from the record's SITE or the default country for numbers written without
 * one. Pure. The "max" metadata is the one that tells mobile numbers from fixed lines (SMS reaches only mobiles).
 */
import { isSupportedCountry, type PhoneNumber, parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { Row } from "./columns.ts";

export const PHONE_FORMATS = ["e164", "international", "asIs"] as const;
export type PhoneFormat = (typeof PHONE_FORMATS)[number];

export interface PhonePolicy {
  format: PhoneFormat;
  /** ISO 3166-1 alpha-2, for numbers written without a country code. */
  defaultCountry?: string | undefined;
  /** SITE -> country, consulted before defaultCountry. */
  countryBySite?: Readonly<Record<string, string>> | undefined;
  extensions: "drop" | "keep";
  invalid: "drop" | "keep";
}

/** Without a `phones` block numbers are sent as the directory holds them, as before the block existed. */
export const AS_IS: PhonePolicy = { format: "asIs", extensions: "drop", invalid: "drop" };

export const PHONE_COLUMNS = ["MOBILE", "DESKPHONE"] as const;
export type PhoneColumn = (typeof PHONE_COLUMNS)[number];

/**
 * invalid: not a number of its country (or no country known); extension-dropped: sent without its extension;
 * fixed-line-mobile: a valid MOBILE that the numbering plan says is a fixed line, so SMS cannot reach it.
 */
export type PhoneProblem = "invalid" | "extension-dropped" | "fixed-line-mobile";

export interface PhoneFinding {
  problem: PhoneProblem;
  message: string;
}

export interface NormalisedPhone {
  /** What is sent: the formatted number, the raw value (asIs, invalid: keep) or "" (invalid: drop). */
  value: string;
  findings: PhoneFinding[];
}

/** How the run summary names each problem, with a count before it. */
export const PHONE_PROBLEM_LABELS: Record<PhoneProblem, string> = {
  invalid: "invalid",
  "fixed-line-mobile": "fixed-line MOBILE",
  "extension-dropped": "extension dropped",
};

/** One finding about one person's number, as the run reports it. */
export interface PhoneReport extends PhoneFinding {
  /** The record's reference (an LDAP DN). */
  ref: string;
  email: string;
  column: PhoneColumn;
  raw: string;
  sent: string;
}

export function isCountryCode(code: string): boolean {
  return isSupportedCountry(code);
}

/** The country assumed for a number written without "+": the SITE's, else the default. */
export function countryFor(policy: PhonePolicy, site: string): string | undefined {
  // Own keys only: a SITE from the directory named "constructor" must not find Object's.
  const bySite =
    policy.countryBySite && Object.hasOwn(policy.countryBySite, site)
      ? policy.countryBySite[site]
      : undefined;
  return bySite ?? policy.defaultCountry;
}

/** A parsed number and its type (with the "max" metadata a number is valid exactly when it has a type). */
interface ValidNumber {
  number: PhoneNumber;
  type: NonNullable<ReturnType<PhoneNumber["getType"]>>;
}

function valid(number: PhoneNumber | undefined): ValidNumber | undefined {
  // One getType() instead of isValid() and then getType(): the type patterns are most of the cost.
  const type = number?.getType();
  return number && type ? { number, type } : undefined;
}

function parse(raw: string, country: string | undefined): ValidNumber | undefined {
  const options = country && isSupportedCountry(country) ? { defaultCountry: country } : undefined;
  const parsed = valid(parsePhoneNumberFromString(raw, options));
  if (parsed) return parsed;
  // "00" is the international prefix almost everywhere but in North America (011): a number written
  // "0044 20 ..." in a Canadian directory means +44, and no valid national number starts with "00" there.
  const international = /^\s*00\s*([1-9].*)$/.exec(raw);
  return international ? valid(parsePhoneNumberFromString(`+${international[1]}`)) : undefined;
}

function formatted(number: PhoneNumber, policy: PhonePolicy): string {
  const extension = policy.extensions === "keep" && number.ext ? number.ext : undefined;
  if (policy.format === "international") {
    const base = number.formatInternational({ formatExtension: (text) => text });
    return extension ? `${base} ext. ${extension}` : base;
  }
  return extension ? `${number.number};ext=${extension}` : number.number;
}

/** Why a number cannot be dialled, as the end of a sentence that starts with the number. */
function whyInvalid(raw: string, site: string, country: string | undefined): string {
  const trimmed = raw.trim();
  if (!/\d/.test(trimmed)) return "has no digits: it is not a phone number";
  if (!trimmed.startsWith("+") && !trimmed.startsWith("00") && country === undefined) {
    return `has no country code and no country is configured${site ? ` for SITE ${JSON.stringify(site)}` : ""}: set phones.defaultCountry or phones.countryBySite`;
  }
  const assumed = country && !trimmed.startsWith("+") ? ` (read as a number of ${country})` : "";
  return `is not a valid phone number${assumed}`;
}

/** One number, as the policy sends it, with what the administrator should know about it. */
export function normalisePhone(
  raw: string,
  column: PhoneColumn,
  policy: PhonePolicy,
  site: string,
): NormalisedPhone {
  if (policy.format === "asIs" || raw.trim() === "") return { value: raw, findings: [] };
  const country = countryFor(policy, site);
  const parsed = parse(raw, country);
  if (!parsed) {
    const action = policy.invalid === "drop" ? "sent empty, so iLobby keeps what it has" : "sent as written";
    return {
      value: policy.invalid === "keep" ? raw : "",
      findings: [{ problem: "invalid", message: `${whyInvalid(raw, site, country)}; ${action}` }],
    };
  }
  const { number, type } = parsed;
  const value = formatted(number, policy);
  const findings: PhoneFinding[] = [];
  if (number.ext && policy.extensions === "drop") {
    findings.push({
      problem: "extension-dropped",
      message: `is sent without its extension ${number.ext} (phones.extensions: keep sends ";ext=${number.ext}")`,
    });
  }
  if (column === "MOBILE" && type === "FIXED_LINE") {
    findings.push({
      problem: "fixed-line-mobile",
      message: "is a fixed line, not a mobile: SMS notifications cannot reach it",
    });
  }
  return { value, findings };
}

/** A row with MOBILE and DESKPHONE in the configured format, and every finding about them. */
export function normaliseRowPhones(
  row: Row,
  ref: string,
  policy: PhonePolicy,
): { row: Row; reports: PhoneReport[] } {
  if (policy.format === "asIs") return { row, reports: [] };
  const next = { ...row };
  const reports: PhoneReport[] = [];
  for (const column of PHONE_COLUMNS) {
    const raw = row[column];
    const { value, findings } = normalisePhone(raw, column, policy, row.SITE);
    next[column] = value;
    for (const finding of findings)
      reports.push({ ref, email: row.EMAIL, column, raw, sent: value, ...finding });
  }
  return { row: next, reports };
}

/** E.164: "+", a country code that does not start with 0, at most 15 digits in all. */
const E164_SHAPE = /^\+[1-9]\d{1,14}$/;
const E164_WITH_EXTENSION_SHAPE = /^\+[1-9]\d{1,14}(;ext=\d{1,20})?$/;

/**
 * For `validate`: why a number in a CSV is not in the format a run with this policy sends, or undefined when it is.
 * A CSV made elsewhere is uploaded as it is, so a number in another format reaches iLobby in that format. A value
 * already shaped as E.164 is taken as it is: parsing costs some 50 µs a number, and a file can hold millions.
 */
export function phoneFormatProblem(value: string, policy: PhonePolicy, site: string): string | undefined {
  if (policy.format === "asIs" || value === "") return undefined;
  if (policy.format === "e164") {
    const shape = policy.extensions === "keep" ? E164_WITH_EXTENSION_SHAPE : E164_SHAPE;
    if (shape.test(value)) return undefined;
  }
  const country = countryFor(policy, site);
  const parsed = parse(value, country);
  if (!parsed) return `${JSON.stringify(value)} ${whyInvalid(value, site, country)}`;
  const expected = formatted(parsed.number, policy);
  if (expected === value) return undefined;
  const name = policy.format === "e164" ? "E.164" : "international";
  return `${JSON.stringify(value)} is not in ${name} format (a run would send ${JSON.stringify(expected)})`;
}

export interface PhoneSampleCounts {
  /** Non-empty MOBILE and DESKPHONE values looked at. */
  numbers: number;
  /** Values the policy would send differently (reformatted, or dropped as invalid). */
  changed: number;
  invalid: number;
  fixedLineMobiles: number;
}

/** For `doctor`: what the policy would do to a sample of rows. */
export function countPhoneChanges(rows: Iterable<Row>, policy: PhonePolicy): PhoneSampleCounts {
  const counts: PhoneSampleCounts = { numbers: 0, changed: 0, invalid: 0, fixedLineMobiles: 0 };
  for (const row of rows) {
    for (const column of PHONE_COLUMNS) {
      const raw = row[column];
      if (raw.trim() === "") continue;
      counts.numbers++;
      const { value, findings } = normalisePhone(raw, column, policy, row.SITE);
      if (value !== raw) counts.changed++;
      if (findings.some((finding) => finding.problem === "invalid")) counts.invalid++;
      if (findings.some((finding) => finding.problem === "fixed-line-mobile")) counts.fixedLineMobiles++;
    }
  }
  return counts;
}
