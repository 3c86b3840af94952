// The README demo (`npm run demo`, after the build): a full sync with no Active Directory and no iLobby account.
// Starts the sample LDAPS directory (about 50 fake employees) and the local iLobby API emulator on 127.0.0.1,
// runs the real CLI (dist/cli.cjs) as a child process, first with --dry-run and then for real, prints the
// address book the emulator ends up with, and stops both servers. Exits non-zero if any step fails.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist", "cli.cjs");
const CLIENT_ID = "demo-client";
const CLIENT_SECRET = "demo-client-secret";

// The servers are TypeScript test tooling: tsx loads them in this process.
const load = (path) => tsImport(join(root, path), import.meta.url);
const { startLdapServer } = await load("test/support/ldap-server.ts");
const { createTestCa, issueServerCert } = await load("test/support/pki.ts");
const { startEmulator } = await load("test/emulator/emulator.ts");
const sample = await load("test/support/sample-directory.ts");

const say = (text = "") => process.stdout.write(`${text}\n`);
const heading = (text) => say(`\n== ${text} ${"=".repeat(Math.max(0, 100 - text.length))}\n`);

/** Runs the CLI with the demo's secrets in its environment only; resolves to its exit code. */
function runCli(args, configFile) {
  say(`$ ilobby-sync ${args.join(" ")}\n`);
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("ILOBBY_SYNC_")),
  );
  const child = spawn(process.execPath, [cli, ...args, "--config", configFile], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...env,
      ILOBBY_SYNC_BIND_PASSWORD: sample.SERVICE_ACCOUNT.password,
      ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
      // A proxy from the environment must not intercept the emulator on 127.0.0.1.
      NO_PROXY: "127.0.0.1,localhost",
    },
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function printTable(rows, columns) {
  const widths = columns.map(([title, value]) =>
    Math.max(title.length, ...rows.map((row) => value(row).length)),
  );
  const line = (cells) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join("  ")
      .trimEnd();
  say(line(columns.map(([title]) => title)));
  say(line(widths.map((width) => "-".repeat(width))));
  for (const row of rows) say(line(columns.map(([, value]) => value(row))));
}

async function demo(workDir) {
  const ca = createTestCa(join(workDir, "directory-ca"), "Sample AD Root CA");
  const certificate = issueServerCert(ca, "dc1.corp.example.test");
  const directory = await startLdapServer({
    entries: sample.SAMPLE_ENTRIES,
    users: sample.SAMPLE_ACCOUNTS,
    tls: { certPem: certificate.certPem, keyPem: certificate.keyPem },
  });
  const emulator = await startEmulator({ clients: { [CLIENT_ID]: CLIENT_SECRET } });
  try {
    const configFile = join(workDir, "ilobby-sync.yaml");
    writeFileSync(
      configFile,
      sample.sampleConfigYaml({
        url: directory.url,
        caFile: ca.certFile,
        ilobbyUrl: emulator.url,
        ilobbyCaFile: emulator.caFile,
        clientId: CLIENT_ID,
      }),
    );
    say(
      `Sample directory  ${directory.url}  (${sample.SAMPLE_PEOPLE.length} employees, ${sample.OFFICES_BASE})`,
    );
    say(`iLobby emulator   ${emulator.url}  (client id ${CLIENT_ID})`);
    say(`Config            ${configFile}`);

    heading("1. Dry run: what would change (nothing is sent to iLobby)");
    if ((await runCli(["run", "--dry-run"], configFile)) !== 0) throw new Error("the dry run failed");
    if (emulator.addressBook(CLIENT_ID).length > 0) throw new Error("the dry run changed the address book");

    heading("2. The real run");
    if ((await runCli(["run"], configFile)) !== 0) throw new Error("the run failed");

    heading("3. The address book in the iLobby emulator");
    const book = emulator
      .addressBook(CLIENT_ID)
      .sort((a, b) => a.SITE.localeCompare(b.SITE) || a.LASTNAME.localeCompare(b.LASTNAME));
    printTable(book, [
      ["NAME", (entry) => `${entry.FIRSTNAME} ${entry.LASTNAME}`],
      ["EMAIL", (entry) => entry.EMAIL],
      ["SITE", (entry) => entry.SITE],
      ["ENABLED", (entry) => (entry.enabled ? "yes" : "no")],
    ]);
    const expected = sample.expectedRows().map((row) => row.EMAIL.toLowerCase());
    const actual = book.map((entry) => entry.EMAIL.toLowerCase()).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected.sort())) {
      throw new Error(`the address book does not hold the ${expected.length} expected people`);
    }
    say(
      `\n${book.length} hosts, as expected: the sample's disabled accounts, the person with no address, the`,
    );
    say(
      "unknown office code (CGY-1), the duplicate address, the kiosk computer and the contact were left out.",
    );
  } finally {
    await Promise.all([directory.stop(), emulator.stop()]);
  }
}

if (!existsSync(cli)) {
  process.stderr.write(
    "demo: dist/cli.cjs is missing; run `npm run demo` (it builds first) or `npm run build`\n",
  );
  process.exit(1);
}
const workDir = mkdtempSync(join(tmpdir(), "ilobby-sync-demo-"));
try {
  await demo(workDir);
} catch (error) {
  process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : error}\n`);
  process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
