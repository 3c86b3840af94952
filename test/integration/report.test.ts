/**
 * The HTML change report (`--report`) of run, run --dry-run, upload and apply, through the built CLI, with
 * hostile strings in every field, opened in Debian's headless Chromium: the text a person sees, nothing that runs
 * or loads, and no request made.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { COLUMNS } from "../../src/core/columns.ts";
import type { Emulator } from "../emulator/emulator.ts";
import { ensureChromium, renderInChromium } from "../support/chromium.ts";
import { runCli } from "../support/cli.ts";
import { expectedRows, SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleConfig, type SampleWorld, startSampleWorld } from "../support/sample-world.ts";

const CLIENT = "report-client";
const CLIENT_SECRET = "report-client-secret-value";
/** apt-get may have to install chromium first (about 100 MB). */
const CHROMIUM_INSTALL_TIMEOUT_MS = 600_000;

/** One hostile value per column but EMAIL, which must stay a well-formed address to be uploaded at all. */
const HOSTILE: Record<string, string> = {
  FIRSTNAME: "<img src=x onerror=alert(1)>",
  LASTNAME: '"><script>alert(document.domain)</script>',
  TITLE: "</td></tr></table><iframe src=https://evil.example/>",
  DIVISION: '<a href="https://evil.example/steal">click</a>',
  MOBILE: "' onmouseover='alert(1)",
  DESKPHONE: "<style>*{background:url(https://evil.example/x.png)}</style>",
  SITE: "<b>Head Office</b> & <i>Annex</i>",
};
const HOSTILE_EMAIL = "x'onfocus=alert(1)&lt&#60@evil.example";

let world: SampleWorld;
let emulator: Emulator;
let dir: string;

const secrets = {
  ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
};
const cli = (args: string[]) => runCli(args, { cwd: dir, env: secrets });

function writeConfig(change: (config: SampleConfig) => void = () => {}): void {
  const config = world.config(CLIENT);
  change(config);
  world.writeConfig(dir, config);
}

/** Every mapped column a fixed hostile value: everyone gets the same title, site, ... from the directory run. */
const hostileMapping = (config: SampleConfig) => {
  for (const [column, value] of Object.entries(HOSTILE)) config.mapping[column] = { value };
  delete config.sites;
};

beforeAll(async () => {
  ensureChromium();
  world = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET } });
  ({ emulator } = world);
}, CHROMIUM_INSTALL_TIMEOUT_MS);
afterAll(async () => {
  await world?.stop();
});
beforeEach(() => {
  emulator.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-report-"));
});

describe("the HTML change report", () => {
  it("run --dry-run: hostile directory values are text in Chromium, nothing runs or loads, 0600", async () => {
    writeConfig();
    expect((await cli(["run"])).code).toBe(0);
    writeConfig(hostileMapping);
    const result = await cli(["run", "--dry-run", "--report", "report.html"]);
    expect(result.code, result.stderr).toBe(0);
    const path = join(dir, "report.html");
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const page = await renderInChromium(path);
    expect(page.requests).toEqual([]);
    expect(page.activeElements).toEqual([]);
    expect(page.title).toMatch(
      /^iLobby Address Book change report, \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/,
    );
    for (const value of Object.values(HOSTILE)) expect(page.text).toContain(value);
    expect(page.text).toContain("Preview: nothing was uploaded.");
    expect(page.text).toMatch(/records to upload\s+\d+/);
    expect(page.text).toMatch(/Updated \(old -> new\) \(\d+\)/);
    expect(page.text).toContain(`SITE ${HOSTILE.SITE}`);
    expect(page.text).toMatch(/Run id\s+[0-9a-f-]{36}/);
  });

  it("upload --report: a CSV with hostile strings in every field, EMAIL included", async () => {
    writeConfig((config) => {
      delete config.sites;
    });
    const header = COLUMNS.join(",");
    const quote = (value: string) => `"${value.replaceAll('"', '""')}"`;
    const record = COLUMNS.map((column) =>
      quote(column === "EMAIL" ? HOSTILE_EMAIL : (HOSTILE[column] as string)),
    );
    writeFileSync(join(dir, "hostile.csv"), `${header}\r\n${record.join(",")}\r\n`);
    const result = await cli(["upload", "hostile.csv", "--report", "upload.html"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const html = readFileSync(join(dir, "upload.html"), "utf8");
    for (const value of [...Object.values(HOSTILE), HOSTILE_EMAIL]) expect(html).not.toContain(value);
    const page = await renderInChromium(join(dir, "upload.html"));
    expect(page.requests).toEqual([]);
    expect(page.activeElements).toEqual([]);
    for (const value of [...Object.values(HOSTILE), HOSTILE_EMAIL]) expect(page.text).toContain(value);
    expect(page.text).toContain("Uploaded: iLobby accepted this change.");
    expect(page.text).toContain("ilobby-sync upload hostile.csv");
  });

  it("a stopped run's report names its plan and the guard's verdict; apply --report shows what was applied", async () => {
    writeConfig();
    expect((await cli(["run"])).code).toBe(0);
    writeConfig((config) => {
      config.directory.filter = "(title=*Manager*)";
      config.mapping.MOBILE = { value: "" };
    });
    const stopped = await cli(["--json", "run", "--report", "stopped.html"]);
    expect(stopped.code).toBe(6);
    const { plan } = JSON.parse(stopped.stdout).targets[0];
    const page = await renderInChromium(join(dir, "stopped.html"));
    expect(page.text).toMatch(/Safety guard: stop\. \d+ of \d+ hosts \(\d+%\) would be disabled/);
    expect(page.text).toContain("Nothing was uploaded");
    expect(page.text).toContain(plan.command);
    expect(page.text).toMatch(/MOBILE\s+\(unchanged in iLobby\)\s+\(empty\) iLobby keeps the old value/);

    const applied = await cli(["apply", plan.path, "--yes", "--report", "applied.html"]);
    expect(applied.code, applied.stderr).toBe(0);
    const after = await renderInChromium(join(dir, "applied.html"));
    expect(after.text).toContain("Uploaded: iLobby accepted this change.");
    expect(after.text).toMatch(/Plan made by run\s+[0-9a-f-]{36}/);
    expect(after.text).toMatch(
      new RegExp(`disabled\\s+${expectedRows().length - world.enabledBook(CLIENT).length}`),
    );
  });
});
