/**
 * A real, private Secret Service for tests: a D-Bus session bus of our own and gnome-keyring-daemon on it, with
 * HOME and XDG_RUNTIME_DIR in a temp dir, so nothing touches the user's keyring. Both run in the foreground as
 * our children and are stopped by PID. Installs the Debian packages when they are missing and we are root.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** command -> the Debian package that provides it */
const SECRET_SERVICE_COMMANDS: Record<string, string> = {
  "gnome-keyring-daemon": "gnome-keyring",
  "dbus-daemon": "dbus",
  "dbus-send": "dbus",
  "secret-tool": "libsecret-tools",
};

function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** Makes sure the commands exist: installs their Debian packages when root, otherwise says what to install. */
export function ensureCommands(packageOf: Record<string, string>): void {
  const missing = Object.keys(packageOf).filter((command) => !hasCommand(command));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((command) => packageOf[command] as string))];
  if (process.getuid?.() !== 0 || !hasCommand("apt-get")) {
    throw new Error(
      `missing ${missing.join(", ")}: install the packages ${packages.join(" ")} (Debian names)`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { env, stdio: "ignore" });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
    env,
    stdio: "ignore",
  });
  const stillMissing = missing.filter((command) => !hasCommand(command));
  if (stillMissing.length > 0)
    throw new Error(`still missing after apt-get install: ${stillMissing.join(", ")}`);
}

export interface SecretService {
  /** What a child process needs to reach this Secret Service: HOME, XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS. */
  env: Record<string, string>;
  /** `secret-tool lookup service <service> username <name>`: the stored value, or undefined. */
  lookup(service: string, name: string): string | undefined;
  stop(): Promise<void>;
}

export interface SecretServiceOptions {
  /** false: a session bus with no Secret Service on it (no service files either, so nothing is activated). */
  keyring?: boolean;
}

/** A session bus that activates nothing: only what we start ourselves is on it. */
function busConfig(socketPath: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socketPath}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

async function firstLine(child: ChildProcess, what: string): Promise<string> {
  let text = "";
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = once(child, "exit").then(() => {
    throw new Error(`${what} exited early: ${errors.trim()}`);
  });
  const line = new Promise<string>((resolve) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf("\n");
      if (end >= 0) resolve(text.slice(0, end).trim());
    });
  });
  return Promise.race([line, exited]);
}

function nameHasOwner(env: Record<string, string>, name: string): boolean {
  const result = spawnSync(
    "dbus-send",
    [
      "--session",
      "--dest=org.freedesktop.DBus",
      "--print-reply",
      "/org/freedesktop/DBus",
      "org.freedesktop.DBus.NameHasOwner",
      `string:${name}`,
    ],
    { env, encoding: "utf8" },
  );
  return result.status === 0 && /boolean true/.test(result.stdout);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, "exit");
  process.kill(child.pid, "SIGTERM");
  await exited;
}

export async function startSecretService(options: SecretServiceOptions = {}): Promise<SecretService> {
  ensureCommands(SECRET_SERVICE_COMMANDS);
  const root = mkdtempSync(join(tmpdir(), "ilobby-secret-service-"));
  const home = join(root, "home");
  const runtime = join(root, "run");
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(runtime, { mode: 0o700 });
  const configFile = join(root, "bus.conf");
  writeFileSync(configFile, busConfig(join(runtime, "bus")));

  const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_RUNTIME_DIR: runtime };
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of [...children].reverse()) await stopChild(child);
    rmSync(root, { recursive: true, force: true });
  };

  try {
    const bus = spawn("dbus-daemon", [`--config-file=${configFile}`, "--nofork", "--print-address=1"], {
      env: baseEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(bus);
    const env = { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: await firstLine(bus, "dbus-daemon") };

    if (options.keyring !== false) {
      const keyring = spawn("gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"], {
        env,
        stdio: ["pipe", "ignore", "pipe"],
      });
      children.push(keyring);
      let keyringErrors = "";
      keyring.stderr?.on("data", (chunk: Buffer) => {
        keyringErrors += chunk.toString();
      });
      // --unlock reads the password of the new login keyring from standard input.
      keyring.stdin?.end("test-keyring-password");
      const deadline = Date.now() + 15_000;
      while (!nameHasOwner(env, "org.freedesktop.secrets")) {
        if (keyring.exitCode !== null || Date.now() > deadline) {
          throw new Error(`gnome-keyring-daemon did not start: ${keyringErrors.trim()}`);
        }
        await sleep(50);
      }
    }

    return {
      env,
      lookup(service, name) {
        const result = spawnSync("secret-tool", ["lookup", "service", service, "username", name], {
          env,
          encoding: "utf8",
        });
        return result.status === 0 ? result.stdout : undefined;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
