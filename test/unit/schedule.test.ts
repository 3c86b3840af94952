import { describe, expect, it } from "vitest";
import { EXIT_CODES, SyncError } from "../../src/core/errors.ts";
import {
  cronEntry,
  crontabHasEntry,
  crontabWithEntry,
  crontabWithoutEntry,
  defaultSchedulePlatform,
  exitStatusSummary,
  GENERATED_MARKER,
  nextDailyStartDate,
  parseScheduleTime,
  type ScheduleOptions,
  schtasksCreateArguments,
  systemdUnits,
  windowsQuote,
  windowsTask,
} from "../../src/core/schedule.ts";
import { environmentVariableFor } from "../../src/core/secret-names.ts";

const NODE = "/usr/bin/node";
const CLI = "/opt/ilobby-sync/dist/cli.cjs";
const CONFIG = "/etc/ilobby-sync/ilobby-sync.yaml";

/** Common options plus what a test sets, typed so that the generators' own options (scope, startDate) fit. */
function options<Extra extends Partial<ScheduleOptions> & object>(overrides: Extra): ScheduleOptions & Extra {
  return {
    executable: [NODE, CLI],
    configPath: CONFIG,
    time: "06:30",
    secretNames: ["client-secret", "bind-password"],
    ...overrides,
  };
}

function lines(text: string): string[] {
  return text.split("\n");
}

function expectConfigError(action: () => unknown, message: RegExp): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).category).toBe("config");
    expect((error as SyncError).message).toMatch(message);
    return;
  }
  throw new Error("expected a SyncError");
}

describe("schedule time and platform", () => {
  it("normalises HH:MM and refuses anything that is not a time of day", () => {
    expect(parseScheduleTime("6:30")).toBe("06:30");
    expect(parseScheduleTime("23:59")).toBe("23:59");
    for (const bad of ["24:00", "7:5", "0630", "06:60", ""]) {
      expectConfigError(() => parseScheduleTime(bad), /is not a time of day/);
    }
  });

  it("picks the scheduler from the platform it is given", () => {
    expect(defaultSchedulePlatform("win32", false)).toBe("windows");
    expect(defaultSchedulePlatform("linux", true)).toBe("systemd");
    expect(defaultSchedulePlatform("linux", false)).toBe("cron");
    expect(defaultSchedulePlatform("darwin", false)).toBe("cron");
  });

  it("starts the Windows trigger on the next day the time comes round", () => {
    expect(nextDailyStartDate(new Date(2025, 2, 10, 5, 59), "06:30")).toBe("2025-03-10");
    expect(nextDailyStartDate(new Date(2025, 2, 10, 6, 30), "06:30")).toBe("2025-03-11");
    expect(nextDailyStartDate(new Date(2025, 11, 31, 23, 0), "06:30")).toBe("2026-01-01");
  });

  it("explains every non-zero exit code as a failed run", () => {
    const summary = exitStatusSummary();
    expect(summary).toContain("Exit status 0 means the sync succeeded");
    expect(summary).toContain("any other status means the run failed and nothing was uploaded");
    for (const [name, code] of Object.entries(EXIT_CODES)) {
      if (code !== 0) expect(summary).toContain(`${code} ${name}`);
    }
  });
});

describe("crontab entry", () => {
  it("is a comment line and a daily line with absolute paths, --config, a log and the tag", () => {
    const entry = cronEntry(options({ time: "07:05" }));
    const [comment, line] = entry.lines;
    expect(entry.tag).toBe(`# ilobby-sync-schedule ${CONFIG}`);
    expect(comment).toMatch(/^# ilobby-sync: daily Active Directory -> iLobby sync at 07:05/);
    expect(comment).toContain("cron's PATH is minimal");
    expect(comment).toContain("cannot reach the desktop keychain");
    expect(comment).toContain("any other status means the run failed");
    expect(comment?.endsWith(` ${entry.tag}`)).toBe(true);
    expect(line).toBe(
      "5 7 * * * " +
        "ILOBBY_SYNC_CLIENT_SECRET_FILE=/etc/ilobby-sync/secrets/client-secret " +
        "ILOBBY_SYNC_BIND_PASSWORD_FILE=/etc/ilobby-sync/secrets/bind-password " +
        `${NODE} ${CLI} run --config ${CONFIG} >>/etc/ilobby-sync/ilobby-sync.cron.log 2>&1 ${entry.tag}`,
    );
  });

  it("names each secret file with the variable the secret sources read", () => {
    const entry = cronEntry(options({ secretNames: ["client-secret-north", "bind-password"] }));
    for (const file of entry.secretFiles) {
      expect(file.variable).toBe(`${environmentVariableFor(file.name)}_FILE`);
    }
    expect(entry.secretSetup[0]).toContain("umask 077");
    expect(entry.secretSetup[0]).toContain("> /etc/ilobby-sync/secrets/client-secret-north");
  });

  it("quotes paths with spaces for sh and escapes % for cron", () => {
    const entry = cronEntry(options({ configPath: "/srv/sync 50%/ilobby-sync.yaml" }));
    const line = entry.lines[1] ?? "";
    expect(line).toContain("--config '/srv/sync 50\\%/ilobby-sync.yaml'");
    expect(line).not.toMatch(/[^\\]%/);
    expect(entry.tag).toBe("# ilobby-sync-schedule /srv/sync 50\\%/ilobby-sync.yaml");
  });

  it("refuses a path with a line break, which would end the crontab line", () => {
    expectConfigError(() => cronEntry(options({ configPath: "/etc/x\n* * * * * evil" })), /line break/);
  });

  it("installs once however often it is installed, and uninstalls only its own lines", () => {
    const entry = cronEntry(options({}));
    const other = cronEntry(options({ configPath: "/etc/other/ilobby-sync.yaml" }));
    const table = "MAILTO=ops@example.test\n0 1 * * * /usr/local/bin/backup\n";
    const once = crontabWithEntry(table, entry);
    expect(crontabWithEntry(once, entry)).toBe(once);
    expect(once).toBe(`${table}${entry.lines.join("\n")}\n`);
    expect(crontabHasEntry(once, entry.tag)).toBe(true);

    const later = cronEntry(options({ time: "22:00" }));
    const moved = crontabWithEntry(once, later);
    expect(moved.split("\n").filter((line) => line.startsWith("0 22 * * *"))).toHaveLength(1);
    expect(moved).not.toContain("30 6 * * *");

    const both = crontabWithEntry(once, other);
    expect(crontabWithoutEntry(both, entry.tag)).toBe(`${table}${other.lines.join("\n")}\n`);
    expect(crontabWithoutEntry(once, entry.tag)).toBe(table);
    expect(crontabWithoutEntry(crontabWithEntry("", entry), entry.tag)).toBe("");
  });

  it("adds the line break cron needs after a table that lacks one", () => {
    const entry = cronEntry(options({}));
    expect(crontabWithEntry("0 1 * * * backup", entry)).toBe(`0 1 * * * backup\n${entry.lines.join("\n")}\n`);
  });
});

describe("systemd units", () => {
  it("makes a hardened oneshot service with one encrypted credential per secret", () => {
    const units = systemdUnits(
      options({ scope: "system", user: "ilobby", stateDir: "/var/lib/ilobby-sync" }),
    );
    const service = lines(units.service);
    expect(service).toContain("Type=oneshot");
    expect(service).toContain("User=ilobby");
    expect(service).toContain(`ExecStart=${NODE} ${CLI} run --config ${CONFIG}`);
    expect(service).toContain(
      "LoadCredentialEncrypted=client-secret:/etc/credstore.encrypted/ilobby-sync-client-secret.cred",
    );
    expect(service).toContain(
      "LoadCredentialEncrypted=bind-password:/etc/credstore.encrypted/ilobby-sync-bind-password.cred",
    );
    for (const setting of [
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=read-only",
      "PrivateTmp=yes",
      "StateDirectory=ilobby-sync",
      "After=network-online.target",
    ]) {
      expect(service).toContain(setting);
    }
    // V8's JIT needs writable executable memory.
    expect(units.service).not.toMatch(/^MemoryDenyWriteExecute=/m);
    expect(units.service).toContain(GENERATED_MARKER);
    expect(units.service).toContain("any other status means the run failed");
    expect(units.notes).toEqual([]);
  });

  it("runs daily at the time with a random delay and catches up after downtime", () => {
    const timer = lines(systemdUnits(options({ scope: "system", time: "07:15" })).timer);
    expect(timer).toContain("OnCalendar=*-*-* 07:15:00");
    expect(timer).toContain("RandomizedDelaySec=10min");
    expect(timer).toContain("Persistent=true");
    expect(timer).toContain("WantedBy=timers.target");
  });

  it("prints the systemd-creds command for each credential, named as the service loads it", () => {
    const units = systemdUnits(options({ scope: "system" }));
    expect(units.secretSetup).toEqual([
      "mkdir -p -m 0700 /etc/credstore.encrypted",
      "systemd-ask-password -n 'client-secret: ' | systemd-creds encrypt --name=client-secret - /etc/credstore.encrypted/ilobby-sync-client-secret.cred",
      "systemd-ask-password -n 'bind-password: ' | systemd-creds encrypt --name=bind-password - /etc/credstore.encrypted/ilobby-sync-bind-password.cred",
    ]);
  });

  it("says when the state or the log would be read-only, and opens the log's folder", () => {
    const units = systemdUnits(options({ scope: "system", logFile: "/var/log/ilobby-sync/runs.jsonl" }));
    expect(lines(units.service)).toContain("ReadWritePaths=-/var/log/ilobby-sync");
    expect(units.notes.join("\n")).toContain("set `stateDir: /var/lib/ilobby-sync` in the config");
    expect(units.notes.join("\n")).toContain("runs as root");
    const elsewhere = systemdUnits(options({ scope: "system", stateDir: "/srv/ilobby/state" }));
    expect(lines(elsewhere.service)).toContain("ReadWritePaths=-/srv/ilobby/state");
  });

  it("keeps a user service to what a user manager can do, with the secrets in the user's keychain", () => {
    const units = systemdUnits(options({ scope: "user" }));
    expect(units.service).not.toContain("ProtectSystem");
    expect(units.service).not.toContain("network-online");
    expect(units.service).not.toContain("LoadCredentialEncrypted");
    expect(units.credentials).toEqual([]);
    expect(units.secretSetup).toEqual([
      `${NODE} ${CLI} --config ${CONFIG} secret set client-secret`,
      `${NODE} ${CLI} --config ${CONFIG} secret set bind-password`,
    ]);
    expect(units.notes.join("\n")).toContain("keychain, which must be unlocked");
  });

  it("quotes spaces and escapes specifiers in ExecStart", () => {
    const units = systemdUnits(
      options({
        scope: "system",
        executable: ["/opt/ilobby sync/ilobby-sync"],
        configPath: "/etc/a%b/$c.yaml",
      }),
    );
    expect(lines(units.service)).toContain(
      'ExecStart="/opt/ilobby sync/ilobby-sync" run --config "/etc/a%%b/$$c.yaml"',
    );
  });

  it("refuses a user name that would break the unit", () => {
    expectConfigError(
      () => systemdUnits(options({ scope: "system", user: "ann smith" })),
      /contains a space/,
    );
  });
});

describe("Windows task", () => {
  const task = windowsTask(
    options({
      executable: ["C:\\Program Files\\nodejs\\node.exe", "C:\\Program Files\\ilobby-sync\\dist\\cli.cjs"],
      configPath: "C:\\ProgramData\\ilobby-sync\\R&D.yaml",
      user: "CORP\\svc-ilobby",
      startDate: "2025-03-10",
      time: "05:45",
    }),
  );

  it("declares UTF-16 and a daily calendar trigger at the time", () => {
    expect(task.xml.startsWith('<?xml version="1.0" encoding="UTF-16"?>\r\n')).toBe(true);
    expect(task.xml).toContain("<StartBoundary>2025-03-10T05:45:00</StartBoundary>");
    expect(task.xml).toMatch(/<ScheduleByDay>\s*<DaysInterval>1<\/DaysInterval>\s*<\/ScheduleByDay>/);
    expect(task.xml).toContain("<StartWhenAvailable>true</StartWhenAvailable>");
    expect(task.xml).toContain("<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>");
  });

  it("runs as the account whether it is logged on or not", () => {
    expect(task.xml).toMatch(
      /<Principal id="Author">\s*<UserId>CORP\\svc-ilobby<\/UserId>\s*<LogonType>Password<\/LogonType>/,
    );
    expect(task.notes.join("\n")).toContain(
      "`ilobby-sync secret set <name>` while logged on as CORP\\svc-ilobby",
    );
    expect(task.notes.join("\n")).toContain("Log on as a batch job");
    expect(task.notes.join("\n")).toContain("set log.file");
    expect(task.secretSetup[0]).toBe(
      '"C:\\Program Files\\nodejs\\node.exe" "C:\\Program Files\\ilobby-sync\\dist\\cli.cjs" --config C:\\ProgramData\\ilobby-sync\\R&D.yaml secret set client-secret',
    );
  });

  it("starts node with quoted, XML-escaped arguments", () => {
    expect(task.xml).toContain("<Command>C:\\Program Files\\nodejs\\node.exe</Command>");
    expect(task.xml).toContain(
      '<Arguments>"C:\\Program Files\\ilobby-sync\\dist\\cli.cjs" run --config C:\\ProgramData\\ilobby-sync\\R&amp;D.yaml</Arguments>',
    );
    expect(task.xml).toContain("any other status means the run failed");
  });

  it("is created from the XML with a password prompt, replacing an earlier install", () => {
    expect(schtasksCreateArguments("C:\\Temp\\task.xml", "CORP\\svc-ilobby")).toEqual([
      "/Create",
      "/TN",
      "ilobby-sync",
      "/XML",
      "C:\\Temp\\task.xml",
      "/RU",
      "CORP\\svc-ilobby",
      "/RP",
      "*",
      "/F",
    ]);
  });

  it("quotes arguments the way CommandLineToArgvW splits them", () => {
    expect(windowsQuote("plain")).toBe("plain");
    expect(windowsQuote("")).toBe('""');
    expect(windowsQuote("C:\\a b\\")).toBe('"C:\\a b\\\\"');
    expect(windowsQuote('say "hi"')).toBe('"say \\"hi\\""');
  });
});
