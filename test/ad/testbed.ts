/**
 * A real Active Directory for tests: a Samba AD DC bound to 127.0.0.1, seeded from seed.ts, with a test CA.
 *
 * The first start provisions and seeds a DC (about 10 s) and keeps it as a tarball under .testbed/samba/, keyed on
 * a hash of seed.ts, this file and the Samba version; later starts unpack that snapshot into a fresh directory.
 * Samba runs as our child in the foreground (`-i -M single`: one process whose PID we own) and exits by itself
 * when our end of its stdin closes, so a crashed test run cannot leave a DC behind.
 *
 * Where Samba differs from Windows AD (so counts alone cannot catch a missing paging control or range loop):
 * no 1,000-entry MaxPageSize, no 1,500-value MaxValRange (`member;range=...` works when asked for, but a plain
 * read returns every value), referrals in searches from the domain root, no Who-am-I extended operation.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "ldapts";
import { createTestCa, issueServerCert } from "../support/pki.ts";
import { BASE_DN, buildSeed, DC_HOST_NAME, DNS_DOMAIN, NETBIOS_DOMAIN, REALM } from "./seed.ts";

/** Debian packages for a Samba AD DC plus the ldb and OpenLDAP command-line tools. */
const SAMBA_PACKAGES = [
  "samba",
  "samba-ad-dc",
  "samba-ad-provision",
  "samba-dsdb-modules",
  "winbind",
  "python3-samba",
  "ldb-tools",
  "ldap-utils",
];

const SAMBA_BINARY = "/usr/sbin/samba";
const SNAPSHOT_DIR = fileURLToPath(new URL("../../.testbed/samba/", import.meta.url));
const RUN_DIR_PREFIX = "ilobby-samba-dc-";
/** Stands for the DC directory in the snapshot's smb.conf, which is rewritten for each run directory. */
const DC_DIR_PLACEHOLDER = "@TESTBED_DC_DIR@";
const ADMIN_PASSWORD = "Testbed-Admin-Pass-1!";
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** A GnuTLS priority for a DC that speaks only TLS 1.0 and 1.1, to prove the client refuses TLS < 1.2. */
export const OLD_TLS_PRIORITY = "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1";

export interface SambaDcAccount {
  dn: string;
  upn: string;
  /** DOMAIN\user form, e.g. CORP\svc-ilobby. */
  downLevel: string;
  password: string;
}

export interface SambaDcTlsOptions {
  /** GnuTLS priority string for the DC, e.g. OLD_TLS_PRIORITY; Samba's default accepts TLS 1.0 to 1.3. */
  tlsPriority?: string;
}

export interface SambaDcStartOptions extends SambaDcTlsOptions {
  /** Progress lines (provisioning, seeding, timings); silent by default. */
  log?: (message: string) => void;
}

/** Everything a test needs to reach the DC; plain data, so vitest can `provide` it to test workers. */
export interface SambaDcConnection {
  /** The cert's SANs are DNS:dc1.corp.example.test and DNS:localhost, so this URL verifies. */
  ldapsUrl: string;
  /** Plain LDAP for StartTLS; Samba refuses simple binds here until TLS is started. */
  ldapUrl: string;
  /**
   * Same DC, a name the certificate does not cover: ldaps://127.0.0.1:636. The cert deliberately has no IP SAN,
   * because the DC listens on 127.0.0.1 only (127.0.0.2 is refused) and no other name may be added to /etc/hosts.
   */
  mismatchUrl: string;
  /** PEM of the CA that signed the DC certificate. */
  caFile: string;
  /** PEM of a CA that did NOT sign the DC certificate, with a localhost server cert and key of its own. */
  otherCaFile: string;
  otherCertFile: string;
  otherKeyFile: string;
  baseDn: string;
  adminUpn: string;
  adminPassword: string;
  serviceAccount: SambaDcAccount;
  /** Disabled (userAccountControl 66050): binding fails with result 49 and "data 533". */
  disabledServiceAccount: SambaDcAccount;
}

export interface SambaDc extends SambaDcConnection {
  /** The connection fields alone, as plain data (for vitest's `provide`). */
  readonly connection: SambaDcConnection;
  /** PID of the running samba process; changes on restart. */
  readonly pid: number;
  /** Private directory of this DC (configuration, databases, certificates, samba.log). */
  readonly runDir: string;
  /** Stops samba (SIGTERM, then SIGKILL), waits for it to exit and deletes the run directory. */
  stop(): Promise<void>;
  /** SIGKILL, as if the DC crashed; the data stays, so `restart()` brings it back. */
  kill(): Promise<void>;
  /** Stops samba if it runs and starts it again on the same data; the new options replace the old ones. */
  restart(options?: SambaDcTlsOptions): Promise<void>;
}

function missingPackages(): string[] {
  return SAMBA_PACKAGES.filter((name) => {
    try {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      const status = execFileSync("dpkg-query", ["-W", "-f=${Status}", name], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      return !status.includes("install ok installed");
    } catch {
      return true;
    }
  });
}

/** Installs the Samba packages when any is missing; `apt-get update` runs only in that case. */
export function ensureSambaPackages(): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `The Samba AD DC test bed needs these Debian packages: ${missing.join(" ")}. ` +
        `Install them as root: apt-get install --no-install-recommends ${SAMBA_PACKAGES.join(" ")}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { env, stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...SAMBA_PACKAGES], {
    env,
    stdio: "inherit",
  });
}

function run(command: string, args: string[]): void {
  try {
    execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`${command} ${args[0] ?? ""} failed: ${stderr.trim().split("\n").slice(-10).join("\n")}`);
  }
}

/** A changed seed, test bed or Samba version gives a new key, so a stale snapshot is never restored. */
function snapshotKey(): string {
  const hash = createHash("sha256");
  for (const file of ["./seed.ts", "./testbed.ts"]) hash.update(readFileSync(new URL(file, import.meta.url)));
  hash.update(execFileSync(SAMBA_BINARY, ["--version"]));
  return hash.digest("hex").slice(0, 16);
}

/**
 * Sets keys in the [global] section of smb.conf. Existing keys are replaced in place, because Samba lets a later
 * duplicate win and the provisioned file already has most of them; missing keys are added at the section's end.
 */
function setGlobalOptions(smbConf: string, options: Record<string, string>): string {
  const pending = new Map(Object.entries(options).map(([key, value]) => [key.toLowerCase(), { key, value }]));
  const lines = smbConf.split("\n");
  const globalStart = lines.findIndex((line) => line.trim().toLowerCase() === "[global]");
  if (globalStart < 0) throw new Error("smb.conf has no [global] section");
  let globalEnd = lines.findIndex((line, index) => index > globalStart && line.trim().startsWith("["));
  if (globalEnd < 0) globalEnd = lines.length;
  for (let index = globalStart + 1; index < globalEnd; index++) {
    const key = lines[index]?.split("=")[0]?.trim().toLowerCase();
    const option = key === undefined ? undefined : pending.get(key);
    if (key !== undefined && option) {
      lines[index] = `\t${option.key} = ${option.value}`;
      pending.delete(key);
    }
  }
  const added = [...pending.values()].map(({ key, value }) => `\t${key} = ${value}`);
  lines.splice(globalEnd, 0, ...added);
  return lines.join("\n");
}

/** Options that keep the DC small, private to its directory and on 127.0.0.1 only. */
function dcOptions(dcDir: string): Record<string, string> {
  return {
    "server services": "ldap",
    "disable netbios": "yes",
    interfaces: "127.0.0.1",
    "bind interfaces only": "yes",
    "log file": `${dcDir}/log/log.%m`,
    "pid directory": `${dcDir}/run`,
    "ncalrpc dir": `${dcDir}/run/ncalrpc`,
    "winbindd socket directory": `${dcDir}/run/winbindd`,
    "ntp signd socket directory": `${dcDir}/run/ntp_signd`,
    "cache directory": `${dcDir}/cache`,
    "panic action": "",
    "tls enabled": "yes",
    "tls keyfile": `${dcDir}/pki/${DC_HOST_NAME}.key`,
    "tls certfile": `${dcDir}/pki/${DC_HOST_NAME}.pem`,
    "tls cafile": `${dcDir}/pki/ca.pem`,
  };
}

function buildSnapshot(snapshotFile: string, log: (message: string) => void): void {
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  const buildDir = mkdtempSync(join(SNAPSHOT_DIR, "build-"));
  try {
    const dcDir = join(buildDir, "dc");
    let started = Date.now();
    run("samba-tool", [
      "domain",
      "provision",
      `--targetdir=${dcDir}`,
      `--realm=${REALM}`,
      `--domain=${NETBIOS_DOMAIN}`,
      "--server-role=dc",
      "--dns-backend=NONE",
      "--use-rfc2307",
      `--host-name=${DC_HOST_NAME}`,
      `--adminpass=${ADMIN_PASSWORD}`,
      "--option=interfaces=127.0.0.1",
      "--option=bind interfaces only=yes",
    ]);
    const smbConfFile = join(dcDir, "etc", "smb.conf");
    writeFileSync(smbConfFile, setGlobalOptions(readFileSync(smbConfFile, "utf8"), dcOptions(dcDir)));
    log(`provisioned in ${seconds(started)}`);

    started = Date.now();
    const seedFile = join(buildDir, "seed.ldif");
    writeFileSync(seedFile, buildSeed().ldif);
    // ldbmodify, not ldbadd: the seed ends with a modify record that closes a group cycle.
    run("ldbmodify", [`--configfile=${smbConfFile}`, "-H", join(dcDir, "private", "sam.ldb"), seedFile]);
    log(`seeded in ${seconds(started)}`);

    writeFileSync(smbConfFile, readFileSync(smbConfFile, "utf8").replaceAll(dcDir, DC_DIR_PLACEHOLDER));
    const partialFile = `${snapshotFile}.${process.pid}.partial`;
    run("tar", ["-czf", partialFile, "-C", dcDir, "."]);
    renameSync(partialFile, snapshotFile);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  for (const name of readdirSync(SNAPSHOT_DIR)) {
    if (
      name.startsWith("snapshot-") &&
      name.endsWith(".tar.gz") &&
      join(SNAPSHOT_DIR, name) !== snapshotFile
    ) {
      rmSync(join(SNAPSHOT_DIR, name), { force: true });
    }
  }
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Run directories of crashed runs would pile up in the temp dir; an owner PID file tells which are stale. */
function removeStaleRunDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const ownerFile = join(dir, "owner.pid");
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, "utf8")) : Number.NaN;
    if (!Number.isInteger(owner) || !isProcessAlive(owner)) rmSync(dir, { recursive: true, force: true });
  }
}

function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return true;
  const timeout = new Promise<false>((resolve) => setTimeout(resolve, timeoutMs, false).unref());
  return Promise.race([once(child, "exit").then(() => true), timeout]);
}

function logTail(logFile: string): string {
  return existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-15).join("\n") : "";
}

/** Ready means an LDAPS bind as Administrator succeeds: the port alone opens before TLS and the SAM are usable. */
async function waitUntilReady(
  child: ChildProcess,
  connection: SambaDcConnection,
  logFile: string,
  oldTls: boolean,
): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  const ca = readFileSync(connection.caFile);
  // An old-TLS DC is probed with TLS 1.0 enabled; the tests themselves keep Node's defaults.
  const tlsOptions = oldTls ? { ca, minVersion: "TLSv1" as const, ciphers: "DEFAULT:@SECLEVEL=0" } : { ca };
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      throw new Error(`samba exited during start-up (code ${child.exitCode}):\n${logTail(logFile)}`);
    }
    const client = new Client({
      url: connection.ldapsUrl,
      tlsOptions,
      connectTimeout: 2_000,
      timeout: 5_000,
    });
    try {
      await client.bind(connection.adminUpn, connection.adminPassword);
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.unbind().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `Samba did not answer an LDAPS bind within ${STARTUP_TIMEOUT_MS} ms (${lastError}):\n${logTail(logFile)}`,
  );
}

/** Unpacks the snapshot into a fresh run directory and points its smb.conf there. */
function restoreSnapshot(snapshotFile: string): { runDir: string; dcDir: string; smbConfFile: string } {
  const runDir = mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX));
  writeFileSync(join(runDir, "owner.pid"), String(process.pid));
  const dcDir = join(runDir, "dc");
  mkdirSync(dcDir);
  run("tar", ["-xzf", snapshotFile, "-C", dcDir]);
  const smbConfFile = join(dcDir, "etc", "smb.conf");
  writeFileSync(smbConfFile, readFileSync(smbConfFile, "utf8").replaceAll(DC_DIR_PLACEHOLDER, dcDir));
  for (const dir of ["log", "run", "cache"]) mkdirSync(join(dcDir, dir), { recursive: true });
  return { runDir, dcDir, smbConfFile };
}

/** The DC certificate where dcOptions() expects it, and an unrelated CA with a cert of its own for negative tests. */
function createCertificates(
  runDir: string,
  dcDir: string,
): Pick<SambaDcConnection, "caFile" | "otherCaFile" | "otherCertFile" | "otherKeyFile"> {
  const ca = createTestCa(join(dcDir, "pki"));
  // No IP SAN on purpose: ldaps://127.0.0.1 is the host-name mismatch case (see SambaDcConnection.mismatchUrl).
  const dcCert = issueServerCert(ca, DC_HOST_NAME, [`DNS:${DC_HOST_NAME}.${DNS_DOMAIN}`, "DNS:localhost"], {
    rsa: true,
  });
  chmodSync(dcCert.keyFile, 0o600); // Samba refuses a key file others can read.
  const otherCa = createTestCa(join(runDir, "other-ca"), "ilobby-sync Other Test CA");
  const otherCert = issueServerCert(otherCa, "localhost");
  return {
    caFile: ca.certFile,
    otherCaFile: otherCa.certFile,
    otherCertFile: otherCert.certFile,
    otherKeyFile: otherCert.keyFile,
  };
}

/** Starts a seeded DC on 127.0.0.1 (ports 389, 636, 3268, 3269); only one can run per machine. */
export async function startSambaDc(options: SambaDcStartOptions = {}): Promise<SambaDc> {
  const log = options.log ?? (() => {});
  if (!existsSync(SAMBA_BINARY)) {
    throw new Error(`${SAMBA_BINARY} is missing: call ensureSambaPackages() first`);
  }
  for (const port of [389, 636]) {
    if (await isPortOpen(port)) {
      throw new Error(
        `Port ${port} on 127.0.0.1 is already in use (another Samba test bed? see \`pgrep -a samba\`); ` +
          "only one DC can listen there at a time.",
      );
    }
  }

  const snapshotFile = join(SNAPSHOT_DIR, `snapshot-${snapshotKey()}.tar.gz`);
  if (!existsSync(snapshotFile)) {
    log("building the seeded Samba snapshot (first start after a seed or test bed change)");
    buildSnapshot(snapshotFile, log);
  }

  removeStaleRunDirs();
  const { runDir, dcDir, smbConfFile } = restoreSnapshot(snapshotFile);
  const seed = buildSeed();
  const connection: SambaDcConnection = {
    ldapsUrl: "ldaps://localhost:636",
    ldapUrl: "ldap://localhost:389",
    mismatchUrl: "ldaps://127.0.0.1:636",
    ...createCertificates(runDir, dcDir),
    baseDn: BASE_DN,
    adminUpn: `Administrator@${DNS_DOMAIN}`,
    adminPassword: ADMIN_PASSWORD,
    serviceAccount: seed.serviceAccount,
    disabledServiceAccount: seed.disabledServiceAccount,
  };

  const logFile = join(runDir, "samba.log");
  let child: ChildProcess | undefined;

  const launch = async (tlsPriority: string | undefined): Promise<void> => {
    const started = Date.now();
    const logFd = openSync(logFile, "a");
    const args = ["-i", "-M", "single", `--configfile=${smbConfFile}`];
    if (tlsPriority) args.push(`--option=tls priority=${tlsPriority}`);
    // stdin stays a pipe: on EOF samba SIGTERMs its own process group (it makes one: no --no-process-group) and exits.
    child = spawn(SAMBA_BINARY, args, { stdio: ["pipe", logFd, logFd] });
    closeSync(logFd);
    await waitUntilReady(child, connection, logFile, tlsPriority !== undefined);
    log(`samba (PID ${child.pid}) answered an LDAPS bind after ${seconds(started)}`);
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    if (!child?.pid || hasExited(child)) return;
    process.kill(child.pid, signal);
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
      process.kill(child.pid, "SIGKILL");
      await waitForExit(child, STOP_TIMEOUT_MS);
    }
  };

  try {
    await launch(options.tlsPriority);
  } catch (error) {
    await terminate("SIGKILL");
    throw error;
  }

  return {
    ...connection,
    connection,
    get pid(): number {
      if (!child?.pid) throw new Error("samba has no PID");
      return child.pid;
    },
    runDir,
    async stop() {
      await terminate("SIGTERM");
      rmSync(runDir, { recursive: true, force: true });
    },
    async kill() {
      await terminate("SIGKILL");
    },
    async restart(restartOptions: SambaDcTlsOptions = {}) {
      await terminate("SIGTERM");
      await launch(restartOptions.tlsPriority);
    },
  };
}

export interface SambaDcControl {
  kill(): Promise<void>;
  restart(options?: SambaDcTlsOptions): Promise<void>;
}

async function handleControlRequest(dc: SambaDc, request: IncomingMessage): Promise<void> {
  let body = "";
  for await (const chunk of request) body += String(chunk);
  if (request.method === "POST" && request.url === "/kill") return dc.kill();
  if (request.method === "POST" && request.url === "/restart") {
    return dc.restart(JSON.parse(body || "{}") as SambaDcTlsOptions);
  }
  throw new Error(`unknown request ${request.method} ${request.url}`);
}

/**
 * Test files run in workers, but the DC belongs to the global setup. This HTTP endpoint on 127.0.0.1 lets a test
 * kill or restart that DC (e.g. into old-TLS mode and back) without a second DC fighting for port 636.
 */
export async function serveSambaDcControl(dc: SambaDc): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    handleControlRequest(dc, request).then(
      () =>
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ pid: dc.pid })),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("control server has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The test-worker side of `serveSambaDcControl`. */
export function sambaDcControl(controlUrl: string): SambaDcControl {
  const post = async (path: string, body: unknown): Promise<void> => {
    const response = await fetch(`${controlUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`Samba DC control ${path} failed: ${await response.text()}`);
  };
  return {
    kill: () => post("/kill", {}),
    restart: (options = {}) => post("/restart", options),
  };
}
