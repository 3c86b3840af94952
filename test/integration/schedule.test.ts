/**
 * `ilobby-sync schedule` through the built CLI: what it prints for each scheduler, and --install / --uninstall
 * against stand-ins for systemctl and crontab put first on the child's PATH, so no real scheduler is touched.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLI_PATH, runCli } from "../support/cli.ts";

const CONFIG_TEXT = `ilobby: { clientId: test-client }
directory: { url: ldaps://dc1.corp.example.test, bindDn: svc@corp.example.test, searchBases: ["OU=Staff,DC=corp,DC=example,DC=test"] }
`;

/** Appends its arguments, one call per line, to $FAKE_SYSTEMCTL_LOG. */
const FAKE_SYSTEMCTL = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_SYSTEMCTL_LOG"
`;

/** Keeps the table in $FAKE_CRONTAB; answers like cron when there is none yet. */
const FAKE_CRONTAB = `#!/bin/sh
if [ "$1" = "-u" ]; then shift 2; fi
case "$1" in
  -l) if [ -f "$FAKE_CRONTAB" ]; then cat "$FAKE_CRONTAB"; else echo "no crontab for tester" >&2; exit 1; fi ;;
  -) cat > "$FAKE_CRONTAB" ;;
  *) echo "fake crontab: unexpected arguments: $*" >&2; exit 2 ;;
esac
`;

let dir: string;
let configPath: string;
let fakeBin: string;

function fakeTool(name: string, script: string): void {
  const path = join(fakeBin, name);
  writeFileSync(path, script);
  chmodSync(path, 0o755);
}

function schedule(args: string[], env: Record<string, string> = {}) {
  return runCli(["--config", configPath, "schedule", ...args], {
    cwd: dir,
    env: { PATH: `${fakeBin}:${process.env.PATH}`, ...env },
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ilobby-schedule-"));
  configPath = join(dir, "ilobby-sync.yaml");
  writeFileSync(configPath, CONFIG_TEXT);
  fakeBin = join(dir, "bin");
  mkdirSync(fakeBin);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("printing", () => {
  it("prints a crontab entry with absolute paths", async () => {
    const run = await schedule(["--platform", "cron", "--time", "7:05"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `5 7 * * * ILOBBY_SYNC_CLIENT_SECRET_FILE=${dir}/secrets/client-secret ILOBBY_SYNC_BIND_PASSWORD_FILE=${dir}/secrets/bind-password ${process.execPath} ${CLI_PATH} run --config ${configPath} >>${dir}/ilobby-sync.cron.log 2>&1 # ilobby-sync-schedule ${configPath}`,
    );
  });

  it("prints the systemd service and timer", async () => {
    const run = await schedule([
      "--platform",
      "systemd",
      "--user",
      "ilobby",
      "--unit-dir",
      join(dir, "units"),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`--- ${join(dir, "units", "ilobby-sync.service")} ---`);
    expect(run.stdout).toContain(`ExecStart=${process.execPath} ${CLI_PATH} run --config ${configPath}`);
    expect(run.stdout).toContain(
      "LoadCredentialEncrypted=client-secret:/etc/credstore.encrypted/ilobby-sync-client-secret.cred",
    );
    expect(run.stdout).toContain("OnCalendar=*-*-* 06:30:00");
    expect(run.stdout).toContain("systemctl enable --now ilobby-sync.timer");
    expect(run.stdout).toContain("set `stateDir: /var/lib/ilobby-sync` in the config");
  });

  it("prints the Windows task, and gives the files and commands as data with --json", async () => {
    const run = await schedule(["--platform", "windows", "--user", "CORP\\svc-ilobby", "--time", "05:45"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("<LogonType>Password</LogonType>");
    expect(run.stdout).toContain(
      "schtasks /Create /TN ilobby-sync /XML ilobby-sync.xml /RU CORP\\svc-ilobby /RP * /F",
    );

    const json = await runCli(["--json", "--config", configPath, "schedule", "--platform", "windows"], {
      cwd: dir,
      env: { USERDOMAIN: "CORP", USERNAME: "ann" },
    });
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({ ok: true, action: "print", platform: "windows", time: "06:30", done: [] });
    expect(result.files).toHaveLength(1);
    expect(result.files[0]).toMatchObject({ path: "ilobby-sync.xml", encoding: "utf-16le" });
    expect(result.files[0].content).toMatch(/<StartBoundary>\d{4}-\d{2}-\d{2}T06:30:00<\/StartBoundary>/);
    expect(result.files[0].content).toContain("<UserId>CORP\\ann</UserId>");
    expect(result.uninstallCommands).toEqual(["schtasks /Delete /TN ilobby-sync /F"]);
  });

  it("refuses a bad time, a missing config and --unit-dir without systemd", async () => {
    const badTime = await schedule(["--platform", "cron", "--time", "25:00"]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--time "25:00" is not a time of day');

    const noConfig = await runCli(["schedule", "--platform", "cron"], { cwd: fakeBin });
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain("no config file found");

    const unitDir = await schedule(["--platform", "cron", "--unit-dir", dir]);
    expect(unitDir.code).toBe(2);
    expect(unitDir.stderr).toContain("--unit-dir applies to --platform systemd only");
  });
});

describe("systemd --install / --uninstall", () => {
  let unitDir: string;
  let systemctlLog: string;
  const install = (extra: string[] = []) =>
    schedule(["--platform", "systemd", "--user", "ilobby", "--unit-dir", unitDir, "--install", ...extra], {
      FAKE_SYSTEMCTL_LOG: systemctlLog,
    });
  const uninstall = () =>
    schedule(["--platform", "systemd", "--user", "ilobby", "--unit-dir", unitDir, "--uninstall"], {
      FAKE_SYSTEMCTL_LOG: systemctlLog,
    });
  const systemctlCalls = () => (existsSync(systemctlLog) ? readFileSync(systemctlLog, "utf8") : "");

  beforeEach(() => {
    unitDir = join(dir, "units");
    systemctlLog = join(dir, "systemctl.log");
    fakeTool("systemctl", FAKE_SYSTEMCTL);
  });

  it("writes both units, reloads and enables the timer; uninstall disables it and removes them", async () => {
    const installed = await install(["--time", "04:10"]);
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain("installed: systemd (system timer)");
    expect(systemctlCalls()).toBe("daemon-reload\nenable --now ilobby-sync.timer\n");
    const service = readFileSync(join(unitDir, "ilobby-sync.service"), "utf8");
    expect(service).toContain("User=ilobby");
    expect(service).toContain(
      "LoadCredentialEncrypted=bind-password:/etc/credstore.encrypted/ilobby-sync-bind-password.cred",
    );
    expect(readFileSync(join(unitDir, "ilobby-sync.timer"), "utf8")).toContain("OnCalendar=*-*-* 04:10:00");
    // The credentials are made by hand: the command says which are missing.
    expect(installed.stderr).toContain("ilobby-sync-client-secret.cred does not exist yet");

    expect((await install()).code).toBe(0);
    expect(readFileSync(join(unitDir, "ilobby-sync.timer"), "utf8")).toContain("OnCalendar=*-*-* 06:30:00");

    writeFileSync(systemctlLog, "");
    const removed = await uninstall();
    expect(removed.code).toBe(0);
    expect(systemctlCalls()).toBe("disable --now ilobby-sync.timer\ndaemon-reload\n");
    expect(existsSync(join(unitDir, "ilobby-sync.service"))).toBe(false);
    expect(existsSync(join(unitDir, "ilobby-sync.timer"))).toBe(false);

    writeFileSync(systemctlLog, "");
    const again = await uninstall();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`no ilobby-sync units in ${unitDir}`);
    expect(systemctlCalls()).toBe("");
  });

  it("leaves a unit file it did not write alone", async () => {
    mkdirSync(unitDir);
    writeFileSync(join(unitDir, "ilobby-sync.timer"), "[Timer]\nOnCalendar=hourly\n");
    for (const run of [await install(), await uninstall()]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("was not written by `ilobby-sync schedule`");
    }
    expect(readFileSync(join(unitDir, "ilobby-sync.timer"), "utf8")).toBe("[Timer]\nOnCalendar=hourly\n");
    expect(systemctlCalls()).toBe("");
  });

  it("says so when systemctl is missing", async () => {
    const run = await runCli(
      ["--config", configPath, "schedule", "--platform", "systemd", "--unit-dir", unitDir, "--install"],
      { cwd: dir, env: { PATH: join(dir, "empty") } },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("`systemctl` was not found on PATH");
    expect(run.stderr).toContain("choose --platform cron");
    expect(existsSync(join(unitDir, "ilobby-sync.service"))).toBe(false);
    expect(existsSync(join(unitDir, "ilobby-sync.timer"))).toBe(false);
  });
});

describe("cron --install / --uninstall", () => {
  let table: string;
  const cron = (action: "--install" | "--uninstall", extra: string[] = []) =>
    schedule(["--platform", "cron", action, ...extra], { FAKE_CRONTAB: table });
  const tagged = () =>
    readFileSync(table, "utf8")
      .split("\n")
      .filter((line) => line.endsWith(`# ilobby-sync-schedule ${configPath}`));

  beforeEach(() => {
    table = join(dir, "crontab.txt");
    fakeTool("crontab", FAKE_CRONTAB);
  });

  it("installs one entry however often it runs, and uninstall keeps every other line", async () => {
    const others = "MAILTO=ops@example.test\n15 2 * * * /usr/local/bin/backup --all\n";
    writeFileSync(table, others);

    const first = await cron("--install");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("added the ilobby-sync entry to your crontab");
    const second = await cron("--install", ["--time", "21:00"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("replaced the ilobby-sync entry in your crontab");

    const lines = tagged();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^# ilobby-sync: daily/);
    expect(lines[1]).toMatch(/^0 21 \* \* \* /);
    expect(readFileSync(table, "utf8").startsWith(others)).toBe(true);

    const removed = await cron("--uninstall");
    expect(removed.code).toBe(0);
    expect(readFileSync(table, "utf8")).toBe(others);

    const again = await cron("--uninstall");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("your crontab has no ilobby-sync entry for this config");
    expect(readFileSync(table, "utf8")).toBe(others);
  });

  it("starts a crontab for an account that has none", async () => {
    const run = await cron("--install", ["--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ action: "install", platform: "cron" });
    expect(tagged()).toHaveLength(2);
  });

  it("says so when crontab is missing", async () => {
    const run = await runCli(["--config", configPath, "schedule", "--platform", "cron", "--install"], {
      cwd: dir,
      env: { PATH: join(dir, "empty") },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("`crontab` was not found on PATH");
    expect(run.stderr).toContain("apt install cron");
  });
});
