/** Finds and reads the YAML config (cosmiconfig search or an explicit path) and reports problems by key and line. */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { cosmiconfig } from "cosmiconfig";
import {
  type Config,
  type ConfigProblem,
  decodeConfigBytes,
  parseConfigText,
} from "../../core/config/index.ts";
import { locateConfigIssues } from "../../core/config/parse.ts";
import { errorCode, errorMessage, SyncError } from "../../core/errors.ts";

export interface LoadedConfig {
  config: Config;
  path: string;
  /** Resolves a path from the config (caFile, stateDir, ...) relative to the config file's folder. */
  resolvePath(path: string): string;
}

const CONFIG_SEARCH_PLACES = [
  "ilobby-sync.yaml",
  "ilobby-sync.yml",
  ".ilobby-syncrc",
  ".ilobby-syncrc.yaml",
  ".ilobby-syncrc.yml",
  ".config/ilobby-sync.yaml",
];

async function findConfig(cwd: string): Promise<string | undefined> {
  const explorer = cosmiconfig("ilobby-sync", {
    searchPlaces: CONFIG_SEARCH_PLACES,
    // We only need the location: the text is parsed below with line numbers.
    loaders: {
      ".yaml": (_path, content) => content,
      ".yml": (_path, content) => content,
      noExt: (_path, content) => content,
    },
    searchStrategy: "none",
  });
  return (await explorer.search(cwd))?.filepath;
}

export async function loadConfig(
  explicitPath: string | undefined,
  cwd = process.cwd(),
): Promise<LoadedConfig> {
  const path = explicitPath ? resolve(cwd, explicitPath) : await findConfig(cwd);
  if (!path) {
    throw new SyncError("config", `no config file found in ${cwd}`, {
      fix: `pass --config <file>, set ILOBBY_SYNC_CONFIG, or create ilobby-sync.yaml (see config.example.yaml or run \`ilobby-sync init\`)`,
      data: { notFound: true },
    });
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new SyncError(
      "config",
      `cannot read the config file ${path}: ${errorCode(error) ?? errorMessage(error)}`,
      {
        fix: "check the path given with --config and that this account may read it",
        error,
      },
    );
  }
  const decoded = decodeConfigBytes(bytes);
  if (!decoded.ok) throw configProblems(path, decoded.problems);
  const text = decoded.text;
  const result = parseConfigText(text);
  // A source's own checks (an LDAP filter that does not parse) run before anything connects anywhere.
  const problems = result.ok
    ? locateConfigIssues(
        text,
        await (await import("../directory-sources.ts")).directoryConfigIssues(result.config),
      )
    : result.problems;
  if (!result.ok || problems.length > 0) throw configProblems(path, problems);
  const folder = dirname(path);
  return { config: result.config, path, resolvePath: (file) => resolve(folder, file) };
}

function configProblems(path: string, problems: readonly ConfigProblem[]): SyncError {
  const lines = problems.map(
    (problem) =>
      `  ${path}${problem.line ? `:${problem.line}` : ""}: ${problem.path || "(file)"}: ${problem.message}`,
  );
  return new SyncError("config", `the config file has ${problems.length} problem(s):\n${lines.join("\n")}`, {
    fix: "correct the keys named above; config.example.yaml documents every key",
    data: { problems },
  });
}

/** Reads a PEM file named in the config; a wrong path or a non-PEM file is a config error, not a TLS mystery. */
export async function readPemFile(path: string, key: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new SyncError(
      "config",
      `${key}: cannot read ${path} (${errorCode(error) ?? errorMessage(error)})`,
      {
        fix: `check the path in ${key}; relative paths are relative to the config file`,
        error,
      },
    );
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) {
    throw new SyncError("config", `${key}: ${path} does not contain a PEM certificate`, {
      fix: "export the CA certificate as Base-64 encoded X.509 (.cer/.pem), not DER or PFX",
    });
  }
  return text;
}
