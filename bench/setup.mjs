// The tools the benchmarks compare against, from Debian's packages, and a description of the machine and versions
// so every result says where it was measured.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

/** Command -> Debian package that provides it. */
const REQUIRED = {
  slapd: "slapd",
  slapadd: "slapd",
  slappasswd: "slapd",
  ldapsearch: "ldap-utils",
  python3: "python3",
  curl: "curl",
  "/usr/bin/time": "time",
  "rsvg-convert": "librsvg2-bin",
  openssl: "openssl",
};

const has = (command) =>
  command.startsWith("/")
    ? existsSync(command)
    : execFileSync("sh", ["-c", `command -v ${command} || true`], { encoding: "utf8" }).trim() !== "";

/**
 * Installs what is missing (as root, non-interactively). Debian's slapd package would start the system instance
 * on port 389: when it does, that instance is stopped and disabled, since the benchmarks use only their own.
 */
export function ensurePackages(log) {
  const missing = [
    ...new Set(Object.entries(REQUIRED).flatMap(([command, pkg]) => (has(command) ? [] : [pkg]))),
  ];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(" ")} (install them, or run as root)`);
  }
  const slapdWasInstalled = has("slapd");
  log(`installing Debian packages: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { env, stdio: "ignore" });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (!slapdWasInstalled && missing.includes("slapd")) {
    for (const args of [
      ["service", "slapd", "stop"],
      ["update-rc.d", "slapd", "disable"],
    ]) {
      try {
        execFileSync(args[0], args.slice(1), { stdio: "ignore" });
      } catch {
        // Not started (policy-rc.d, containers) or no init system: nothing to stop.
      }
    }
  }
}

function firstLine(command, args) {
  try {
    const output = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return output.trim().split("\n")[0];
  } catch (error) {
    return `${error.stderr ?? ""}`.trim().split("\n")[0] || "unknown";
  }
}

function packageVersion(root, name) {
  return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
}

export function describeMachine(root, { nodeBinary, python }) {
  const slapd = firstLine("sh", ["-c", "slapd -VV 2>&1"]).match(/slapd ([\d.]+\S*)/)?.[1] ?? "unknown";
  const ldapsearch =
    firstLine("sh", ["-c", "ldapsearch -VV 2>&1"]).match(/ldapsearch ([\d.]+\S*)/)?.[1] ?? "unknown";
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: existsSync("/etc/debian_version")
      ? `Debian ${readFileSync("/etc/debian_version", "utf8").trim()}`
      : process.platform,
    kernel: firstLine("uname", ["-r"]),
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
    versions: {
      node: firstLine(nodeBinary, ["--version"]),
      ldapts: packageVersion(root, "ldapts"),
      "csv-parse": packageVersion(root, "csv-parse"),
      undici: packageVersion(root, "undici"),
      slapd,
      ldapsearch,
      python: firstLine(python, ["--version"]).replace(/^Python /, ""),
      curl: firstLine("curl", ["--version"])
        .split(" ")
        .slice(0, 2)
        .join(" ")
        .replace(/^curl /, ""),
    },
  };
}
