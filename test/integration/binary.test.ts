/**
 * The single-executable binaries. The Linux one is built here and used as an administrator uses it: copied alone
 * into a folder outside the repository (no node_modules, no Node on PATH), then --version, validate, run --dry-run,
 * a real run uploading to the iLobby emulator from the LDAPS test directory, a guard stop applied with `apply`,
 * and `secret set` followed by a sync that reads the secrets from a real Secret Service, after which the addon's
 * private temp directory must be gone.
 * The Windows and macOS binaries cannot run here: with ILOBBY_SYNC_TEST_ALL_BINARIES=1 they are built too (about
 * a minute and 700 MB of downloads and cache on a fresh machine) and checked structurally.
 * ILOBBY_SYNC_TEST_BINARIES=<folder> tests binaries already built there (`npm run build:bin`) instead.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../emulator/emulator.ts";
import {
  ENTRA_CERT_CLIENT_ID,
  ENTRA_SECRET,
  type EntraWorld,
  startEntraWorld,
} from "../support/entra-world.ts";
import {
  type HttpsReceiver,
  type SmtpReceiver,
  startHttpsReceiver,
  startSmtpReceiver,
} from "../support/notify-receivers.ts";
import { issueServerCert } from "../support/pki.ts";
import { expectedRows, SAMPLE_GROUPS, SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleWorld, startSampleWorld } from "../support/sample-world.ts";
import { type SecretService, startSecretService } from "../support/secret-service.ts";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
const ALL_BINARIES = process.env.ILOBBY_SYNC_TEST_ALL_BINARIES === "1";
/** Cold: the npm registry serves the Node binaries (about 50 MB each) and keyring addons. */
const BUILD_TIMEOUT_MS = ALL_BINARIES ? 900_000 : 300_000;
/** apt-get may have to install gnome-keyring first. */
const SECRET_SERVICE_TIMEOUT_MS = 600_000;

const FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const SEA_BLOB_MAGIC = 0x0143da20;
const SEA_FLAG_HAS_ASSETS = 0x8;
const HEADER = "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE";
const CLIENT = "binary-client";
const CLIENT_SECRET = "binary-client-secret-value";

const work = mkdtempSync(join(tmpdir(), "ilobby-binary-test-"));
const prebuilt = process.env.ILOBBY_SYNC_TEST_BINARIES;
const buildDir = prebuilt ? resolve(prebuilt) : join(work, "build");
/** Where the administrator put it; PATH holds only an empty folder, so nothing else can be found. */
const installed = join(work, "opt", "ilobby-sync");
const emptyPath = join(work, "empty-path");
/** The binary's TMPDIR: the addon's extraction directory appears (and must vanish) only here. */
const privateTmp = join(work, "tmp");

let emulator: Emulator;
let world: SampleWorld;
/** dist/cli.cjs as the build read it (other builds in a shared tree may rewrite it while the tests run). */
let bundle: Buffer;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBinary(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(installed, args, {
      cwd: options.cwd,
      env: { PATH: emptyPath, HOME: work, TMPDIR: privateTmp, NO_COLOR: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** A folder with a config for the sample directory and the emulator; its state (./state) is its own. */
function siteWithConfig(name: string): string {
  const site = join(work, name);
  mkdirSync(site);
  world.writeConfig(site, world.config(CLIENT));
  return site;
}

const enabledBook = () => world.enabledBook(CLIENT);

beforeAll(async () => {
  const cli = join(REPO, "dist", "cli.cjs");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  bundle = readFileSync(cli);
  if (!prebuilt) {
    const platforms = ALL_BINARIES ? "linux-x64,win-x64,macos-x64,macos-arm64" : "linux-x64";
    const started = performance.now();
    await promisify(execFile)(
      process.execPath,
      [join(REPO, "scripts", "build-binaries.mjs"), "--platform", platforms, "--out", buildDir],
      { cwd: REPO, maxBuffer: 16 * 1024 * 1024 },
    );
    console.log(`built ${platforms} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  mkdirSync(dirname(installed), { recursive: true });
  mkdirSync(emptyPath);
  mkdirSync(privateTmp, { mode: 0o700 });
  copyFileSync(join(buildDir, "ilobby-sync-linux-x64"), installed);
  chmodSync(installed, 0o755);

  world = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET }, pkiDir: join(work, "pki") });
  ({ emulator } = world);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("the Linux binary, installed alone", () => {
  it("is alone in its folder, and prints package.json's version and the commands", async () => {
    expect(readdirSync(dirname(installed))).toEqual(["ilobby-sync"]);
    const printed = await runBinary(["--version"], { cwd: work });
    expect(printed).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    const help = await runBinary(["--help"], { cwd: work });
    expect(help.code).toBe(0);
    for (const command of ["run", "validate", "upload", "secret"]) expect(help.stdout).toContain(command);
  });

  it("validates a CSV: a good one passes, a bad one fails with the line and exit code 3", async () => {
    const site = join(work, "validate");
    mkdirSync(site);
    writeFileSync(
      join(site, "good.csv"),
      `${HEADER}\r\nAnn,Lee,Engineer,IT,ann.lee@example.test,,,Toronto\r\nBo,Chan,,,bo.chan@example.test,,,Montreal\r\n`,
    );
    writeFileSync(join(site, "bad.csv"), `${HEADER}\r\nAnn,Lee,,,not-an-address,,,Toronto\r\n`);
    const good = await runBinary(["validate", "good.csv"], { cwd: site });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain("valid: 2 record(s), 0 error(s)");
    const bad = await runBinary(["validate", "bad.csv"], { cwd: site });
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/bad\.csv:2 .*EMAIL/);
  });

  it("runs --dry-run (no upload), then a real run that fills the emulator's address book", async () => {
    emulator.reset();
    const site = siteWithConfig("run");
    const env = {
      ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
      ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
    };
    const dryRun = await runBinary(["--json", "run", "--dry-run", "--output", "preview.csv"], {
      cwd: site,
      env,
    });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(JSON.parse(dryRun.stdout).rows).toEqual(expectedRows());
    expect(readFileSync(join(site, "preview.csv"), "utf8")).toContain(expectedRows()[0]?.EMAIL);
    expect(emulator.requests).toEqual([]);

    const real = await runBinary(["run"], { cwd: site, env });
    expect(real.code, real.stderr).toBe(0);
    expect(enabledBook()).toEqual(expectedRows());
  });
});

describe("the Linux binary normalises phone numbers", () => {
  it("sends MOBILE and DESKPHONE in E.164 when `phones` asks for it", async () => {
    emulator.reset();
    const site = join(work, "phones");
    mkdirSync(site);
    world.writeConfig(site, { ...world.config(CLIENT), phones: { format: "e164", defaultCountry: "CA" } });
    const real = await runBinary(["run"], {
      cwd: site,
      env: { ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password, ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET },
    });
    expect(real.code, real.stderr).toBe(0);
    // The directory holds "+1 416 555 0101": E.164 is the same digits without the spaces.
    const e164 = (number: string) => number.replaceAll(" ", "");
    const expected = expectedRows().map((row) => ({
      ...row,
      MOBILE: e164(row.MOBILE),
      DESKPHONE: e164(row.DESKPHONE),
    }));
    expect(expected.some((row) => row.DESKPHONE === "+14165550101")).toBe(true);
    expect(enabledBook()).toEqual(expected);
  });
});

describe("the Linux binary notifies", () => {
  let https: HttpsReceiver;
  let smtp: SmtpReceiver;
  const account = { user: "binary@example.test", password: "binary-smtp-Pa55" };

  beforeAll(async () => {
    const cert = issueServerCert(world.ca, "binary-receiver", ["DNS:localhost", "IP:127.0.0.1"], {
      days: 365,
    });
    https = await startHttpsReceiver(cert);
    smtp = await startSmtpReceiver(cert, account);
  });
  afterAll(async () => {
    await Promise.all([https?.stop(), smtp?.stop()]);
  });

  it("a run's webhook (undici), e-mail (nodemailer, STARTTLS) and heartbeat ping", async () => {
    emulator.reset();
    const site = join(work, "notify");
    mkdirSync(site);
    const config = world.config(CLIENT);
    config.notify = {
      on: ["warning", "success"],
      caFile: world.ca.certFile,
      webhooks: [{ url: `${https.url}/hook`, format: "json" }],
      email: {
        host: "127.0.0.1",
        port: smtp.port,
        username: account.user,
        from: account.user,
        to: ["ops@example.test"],
      },
      ping: `${https.url}/ping/binary`,
    };
    world.writeConfig(site, config);
    const result = await runBinary(["run"], {
      cwd: site,
      env: {
        ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
        ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
        ILOBBY_SYNC_SMTP_PASSWORD: account.password,
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain("notification");
    const hook = https.requests.find((request) => request.path === "/hook");
    expect(JSON.parse(hook?.body ?? "{}")).toMatchObject({ exitCode: 0, targets: [{ status: "uploaded" }] });
    expect(
      https.requests.filter((request) => request.path.startsWith("/ping/")).map((request) => request.path),
    ).toEqual(["/ping/binary/start", "/ping/binary"]);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]?.subject).toMatch(/^ilobby-sync (warning|success): synced 1 target/);
  });
});

describe("the Linux binary reads Microsoft Entra ID", () => {
  let entra: EntraWorld;
  const ENTRA_ILOBBY_CLIENT = "binary-entra-client";

  beforeAll(async () => {
    entra = await startEntraWorld({ ilobbyClients: { [ENTRA_ILOBBY_CLIENT]: CLIENT_SECRET } });
  });
  afterAll(async () => {
    await entra?.stop();
  });

  it("syncs a tenant with a client secret, and with a certificate (msal's client assertion inside the binary)", async () => {
    const site = join(work, "entra");
    mkdirSync(site);
    entra.writeConfig(site, entra.config(ENTRA_ILOBBY_CLIENT));
    const env = { ILOBBY_SYNC_ENTRA_CLIENT_SECRET: ENTRA_SECRET, ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET };
    const dryRun = await runBinary(["--json", "run", "--dry-run"], { cwd: site, env });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    const emails = JSON.parse(dryRun.stdout).rows.map((row: { EMAIL: string }) => row.EMAIL.toLowerCase());
    expect(emails.sort()).toEqual(entra.facts.allStaffEmails);
    const real = await runBinary(["run"], { cwd: site, env });
    expect(real.code, real.stderr).toBe(0);
    const book = entra.ilobby.addressBook(ENTRA_ILOBBY_CLIENT).filter((entry) => entry.enabled);
    expect(book.map((entry) => entry.EMAIL.toLowerCase()).sort()).toEqual(entra.facts.allStaffEmails);

    const config = entra.config(ENTRA_ILOBBY_CLIENT);
    config.directory.clientId = ENTRA_CERT_CLIENT_ID;
    config.directory.certificateFile = entra.certificate.pemFile;
    entra.writeConfig(site, config);
    const withCertificate = await runBinary(["--json", "run", "--dry-run"], {
      cwd: site,
      env: { ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET },
    });
    expect(withCertificate.code, withCertificate.stderr).toBe(0);
    expect(entra.graph.requests.filter((request) => request.endpoint === "token").at(-1)?.credential).toBe(
      "certificate",
    );
  });
});

describe("the Linux binary reviews changes", () => {
  it("saves a plan and an HTML report when the guard stops a run; `apply --yes` uploads exactly that plan", async () => {
    emulator.reset();
    const site = siteWithConfig("plans");
    const env = {
      ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
      ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
    };
    expect((await runBinary(["run"], { cwd: site, env })).code).toBe(0);
    const narrowed = world.config(CLIENT);
    narrowed.directory.groups = [SAMPLE_GROUPS.hosts];
    world.writeConfig(site, narrowed);
    const stopped = await runBinary(["--json", "run", "--report", "stopped.html"], { cwd: site, env });
    expect(stopped.code, stopped.stderr).toBe(6);
    const { plan } = JSON.parse(stopped.stdout).targets[0];
    expect(plan.command).toMatch(/^ilobby-sync --config \S+ apply \S+\.json$/);
    expect(readFileSync(join(site, "stopped.html"), "utf8")).toContain("Safety guard: stop.");
    expect(enabledBook()).toEqual(expectedRows());

    const refused = await runBinary(["apply", plan.path], { cwd: site, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/apply needs --yes/);
    const applied = await runBinary(["apply", plan.path, "--yes"], {
      cwd: site,
      env: { ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET },
    });
    expect(applied.code, applied.stderr).toBe(0);
    expect(enabledBook()).toEqual(expectedRows({ groups: [SAMPLE_GROUPS.hosts] }));
  });
});

describe("the Linux binary with secrets in a real Secret Service", () => {
  let secretService: SecretService;

  beforeAll(async () => {
    secretService = await startSecretService();
  }, SECRET_SERVICE_TIMEOUT_MS);
  afterAll(async () => {
    await secretService?.stop();
  });

  it("stores the secrets with `secret set`, then syncs with them, leaving no extracted addon behind", async () => {
    emulator.reset();
    const site = siteWithConfig("keychain");
    const { env } = secretService;
    for (const [name, value] of [
      ["bind-password", SERVICE_ACCOUNT.password],
      ["client-secret", CLIENT_SECRET],
    ] as const) {
      const stored = await runBinary(["secret", "set", name], { cwd: site, env, input: `${value}\n` });
      expect(stored.code, stored.stderr).toBe(0);
      expect(secretService.lookup("ilobby-sync", name)).toBe(value);
      expect(readdirSync(privateTmp)).toEqual([]);
    }

    const synced = await runBinary(["run"], { cwd: site, env });
    expect(synced.code, synced.stderr).toBe(0);
    expect(enabledBook()).toEqual(expectedRows());
    expect(readdirSync(privateTmp)).toEqual([]);
  });

  it("extracts the addon under TMPDIR: a missing TMPDIR is a keychain error that names it", async () => {
    const missing = join(work, "no-such-tmp");
    const result = await runBinary(["secret", "list"], {
      cwd: work,
      env: { ...secretService.env, TMPDIR: missing },
    });
    expect(result.code).toBe(8);
    expect(result.stderr).toContain("the OS keychain support (@napi-rs/keyring) could not be loaded");
    expect(result.stderr).toContain(`cannot create a private folder for the addon in ${missing}`);
    expect(result.stderr).toContain("point TMPDIR at a folder this account may write to");
  });

  it("leaves nothing behind when the keychain cannot be reached either", async () => {
    const site = siteWithConfig("keychain-unreachable");
    const result = await runBinary(["run"], {
      cwd: site,
      env: { ...secretService.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(work, "no-such-bus")}` },
    });
    expect(result.code).toBe(8);
    expect(result.stderr).toContain("the D-Bus session bus named by DBUS_SESSION_BUS_ADDRESS is not running");
    expect(readdirSync(privateTmp)).toEqual([]);
  });
});

/**
 * What every binary must hold: the flipped fuse, and the SEA blob (Node's magic, then a header whose layout
 * changes between Node versions) carrying this build's bundle and the keyring asset. Returns the blob's offset.
 */
function expectSeaInjected(bytes: Buffer): number {
  expect(bytes.indexOf(`${FUSE}:1`)).toBeGreaterThan(0);
  expect(bytes.indexOf(`${FUSE}:0`)).toBe(-1);
  const script = bytes.indexOf(bundle);
  expect(script).toBeGreaterThan(0);
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(SEA_BLOB_MAGIC);
  const blob = bytes.lastIndexOf(magic, script);
  expect(script - blob).toBeLessThan(64);
  expect(bytes.readUInt32LE(blob + 4) & SEA_FLAG_HAS_ASSETS).toBe(SEA_FLAG_HAS_ASSETS);
  expect(bytes.indexOf("keyring.node", script + bundle.length)).toBeGreaterThan(0);
  return blob;
}

const cString = (bytes: Buffer, start: number, length: number) =>
  bytes
    .subarray(start, start + length)
    .toString("latin1")
    .replace(/\0.*$/s, "");

/** The 64-bit Mach-O header's CPU type and each LC_SEGMENT_64's sections with their file offsets. */
function machO(bytes: Buffer) {
  const LC_SEGMENT_64 = 0x19;
  const segments = new Map<string, { name: string; offset: number }[]>();
  let command = 32;
  for (let index = 0; index < bytes.readUInt32LE(16); index++) {
    if (bytes.readUInt32LE(command) === LC_SEGMENT_64) {
      const sections = [];
      for (let section = 0; section < bytes.readUInt32LE(command + 64); section++) {
        const header = command + 72 + section * 80;
        sections.push({ name: cString(bytes, header, 16), offset: bytes.readUInt32LE(header + 48) });
      }
      segments.set(cString(bytes, command + 8, 16), sections);
    }
    command += bytes.readUInt32LE(command + 4);
  }
  return { magic: bytes.readUInt32LE(0), cpuType: bytes.readUInt32LE(4), segments };
}

describe("every binary's structure", () => {
  it("Linux: an ELF executable with the blob injected", () => {
    const bytes = readFileSync(installed);
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expectSeaInjected(bytes);
  });

  it.runIf(ALL_BINARIES)("Windows: a PE executable for x64 with the NODE_SEA_BLOB resource", () => {
    const bytes = readFileSync(join(buildDir, "ilobby-sync-win-x64.exe"));
    expect(bytes.subarray(0, 2).toString("latin1")).toBe("MZ");
    const pe = bytes.readUInt32LE(0x3c);
    expect(bytes.subarray(pe, pe + 4).toString("latin1")).toBe("PE\0\0");
    expect(bytes.readUInt16LE(pe + 4)).toBe(0x8664);
    // Resource names are UTF-16 in the resource directory.
    expect(bytes.indexOf(Buffer.from("NODE_SEA_BLOB", "utf16le"))).toBeGreaterThan(pe);
    expectSeaInjected(bytes);
  });

  it.runIf(ALL_BINARIES).each([
    ["macos-x64", 0x01000007],
    ["macos-arm64", 0x0100000c],
  ])("macOS %s: a 64-bit Mach-O with the blob in the NODE_SEA segment", (platform, cpuType) => {
    const bytes = readFileSync(join(buildDir, `ilobby-sync-${platform}`));
    const header = machO(bytes);
    expect(header.magic).toBe(0xfeedfacf);
    expect(header.cpuType).toBe(cpuType);
    const blob = expectSeaInjected(bytes);
    expect(header.segments.get("NODE_SEA")).toEqual([{ name: "__NODE_SEA_BLOB", offset: blob }]);
  });

  it("SHA256SUMS lists exactly the binaries built, with their digests", () => {
    const lines = readFileSync(join(buildDir, "SHA256SUMS"), "utf8").trim().split("\n");
    const files = readdirSync(buildDir).filter((file) => file !== "SHA256SUMS");
    expect(lines.map((line) => line.split("  ")[1]).sort()).toEqual(files.sort());
    const check = spawnSync("sha256sum", ["--check", "--strict", "SHA256SUMS"], {
      cwd: buildDir,
      encoding: "utf8",
    });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });
});

const hasWine = spawnSync("sh", ["-c", "command -v wine64"], { stdio: "ignore" }).status === 0;

describe.runIf(ALL_BINARIES && hasWine)("the Windows binary under wine", () => {
  it("prints its version, unless wine hits the known crash of Node 24's V8", (context) => {
    // wine cannot write to a pipe from this exe (EBADF): the output goes to a file.
    const out = join(work, "wine-version.txt");
    const result = spawnSync(
      "sh",
      ["-c", `wine64 "$0" --version > "$1" 2>&1`, join(buildDir, "ilobby-sync-win-x64.exe"), out],
      { encoding: "utf8", timeout: 120_000, env: { ...process.env, WINEDEBUG: "-all" } },
    );
    const printed = existsSync(out) ? readFileSync(out, "utf8") : "";
    if (result.status !== 0 && /SegmentedTable|InitializeTable/.test(printed)) {
      context.skip(
        "wine crashes in Node 24's V8 (SegmentedTable::InitializeTable), as docs/install.md records",
      );
    }
    expect(printed.trim()).toBe(version);
  });
});
