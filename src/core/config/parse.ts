/**
 * Turns the text of a YAML config into a validated Config, or into a list of problems that each name the key path
 * and the line. Pure: no file access, so tests and `validate`-style tooling can call it directly.
 */

import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  LineCounter,
  parseDocument,
} from "yaml";
import type { z } from "zod";
import { editDistance } from "../edit-distance.ts";
import { DEFAULT_CLIENT_SECRET_NAME } from "../secret-names.ts";
import { DIRECTORY_KEYS } from "./directory.ts";
import { directorySecretHint } from "./directory-secrets.ts";
import { type Config, configObjectSchema, configSchema, ilobbySchema, keychainSchema } from "./schema.ts";

export interface ConfigProblem {
  /** Key path such as `directory.searchBases[0].base`; empty for the document itself. */
  path: string;
  line: number | undefined;
  message: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

type PathSegment = string | number;

/** Keys that would hold a secret: secrets belong in the keychain, never in a file. */
const SECRET_KEY =
  /^(client_?secret|secret|secret_?key|password|passwd|pass|pwd|bind_?password|bind_?pw|credentials?|private_?key|api_?key|access_?token|token)$/i;

/** The secret name a misplaced secret key most likely meant, so the message can give the exact command. */
function secretNameFor(path: readonly PathSegment[], raw: unknown): string {
  if (path[0] === "directory") {
    // In a list of sources, the block the key is in decides.
    const block = typeof path[1] === "number" ? ["directory", path[1]] : ["directory"];
    return directorySecretHint(valueAt(raw, block)) ?? "<name>";
  }
  if (path[0] === "ilobby") return DEFAULT_CLIENT_SECRET_NAME;
  return "<name>";
}

export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The config file's text, or the line where it stops being UTF-8. Decoding leniently once turned `Montréal`
 * saved as Windows-1252 into `Montr\uFFFDal` in every uploaded row.
 */
export function decodeConfigBytes(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; problems: ConfigProblem[] } {
  try {
    return { ok: true, text: strictUtf8.decode(bytes) };
  } catch {
    const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
    let line = 1;
    let start = 0;
    for (let index = 0; index <= bytes.length; index++) {
      if (index < bytes.length && bytes[index] !== 0x0a) continue;
      try {
        strictUtf8.decode(bytes.subarray(start, index));
      } catch {
        break;
      }
      line++;
      start = index + 1;
    }
    return {
      ok: false,
      problems: [
        {
          path: "",
          line,
          message: utf16
            ? "the file is UTF-16; save it as UTF-8"
            : "this line is not UTF-8 (an accented letter saved as Windows-1252 or Latin-1?); save the file as UTF-8",
        },
      ],
    };
  }
}

/** A problem found after the schema accepted the file (a source's own checks), by key path. */
export interface ConfigIssue {
  path: readonly PathSegment[];
  message: string;
}

/** The problems of `issues` with the line of each key in `text`, in file order. */
export function locateConfigIssues(text: string, issues: readonly ConfigIssue[]): ConfigProblem[] {
  const { lineOfPath } = openDocument(text);
  return issues
    .map((issue) => ({ path: formatPath(issue.path), line: lineOfPath(issue.path), message: issue.message }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function openDocument(text: string) {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  const lineOfPath = (path: readonly PathSegment[]): number | undefined => {
    const node = document.getIn(path, true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lineAt(node.range[0]);
    // The key itself may be missing: point at the nearest parent that exists.
    return path.length > 0 ? lineOfPath(path.slice(0, -1)) : undefined;
  };
  return { document, lineAt, lineOfPath };
}

export function parseConfigText(text: string): ConfigResult {
  const { document, lineAt, lineOfPath } = openDocument(text);

  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => ({
        path: "",
        line: lineAt(error.pos[0]),
        message: `YAML syntax error: ${error.message.split("\n")[0]}`,
      })),
    };
  }

  const bomb = findAliasBomb(document);
  if (bomb) {
    return {
      ok: false,
      problems: [
        {
          path: formatPath(bomb.path),
          line: lineAt(bomb.offset),
          message:
            `the alias *${bomb.alias} makes the file expand to more than ${MAX_EXPANDED_VALUES} values ` +
            "(a YAML alias bomb); aliases may repeat a part of the config, not multiply it",
        },
      ],
    };
  }

  // Expansion is bounded above, so yaml's own alias-count limit (which refuses some ordinary reuse) is not needed.
  const raw: unknown = document.toJS({ maxAliasCount: -1 });
  if (raw === null || raw === undefined) {
    return { ok: false, problems: [{ path: "", line: 1, message: "the config file is empty" }] };
  }

  const lineOfKey = (path: readonly PathSegment[], key: string): number | undefined => {
    const parent = path.length === 0 ? document.contents : document.getIn(path, true);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
      const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
      if (range) return lineAt(range[0]);
    }
    return lineOfPath(path);
  };

  const secretProblems = findSecretKeys(raw).map(({ path, key }) => ({
    path: formatPath([...path, key]),
    line: lineOfKey(path, key),
    message:
      `secrets must not be stored in the config file. Remove "${key}" and store the value in the OS keychain ` +
      `with \`ilobby-sync secret set ${secretNameFor(path, raw)}\` (or an ILOBBY_SYNC_* environment variable; ` +
      "see docs/secrets.md)",
  }));
  if (secretProblems.length > 0) return { ok: false, problems: secretProblems };

  const result = configSchema.safeParse(raw);
  if (result.success) return { ok: true, config: result.data };
  return {
    ok: false,
    // In file order, so an administrator can work down the file.
    problems: result.error.issues
      .flatMap((issue) => describeIssue(issue, raw, lineOfPath, lineOfKey))
      .sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
  };
}

/** The raw value at a key path, or undefined when the key is absent. */
function valueAt(raw: unknown, path: readonly PathSegment[]): unknown {
  let value = raw;
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value === "string" ? "text" : `a ${typeof value}`} (${JSON.stringify(value)})`;
}

const EXPECTED_KIND: Record<string, string> = {
  object: "a mapping of keys",
  array: "a list",
  string: "text",
  number: "a number",
  boolean: "true or false",
};

function describeIssue(
  issue: z.core.$ZodIssue,
  raw: unknown,
  lineOfPath: (path: readonly PathSegment[]) => number | undefined,
  lineOfKey: (path: readonly PathSegment[], key: string) => number | undefined,
): ConfigProblem[] {
  const path = issue.path.filter((segment): segment is PathSegment => typeof segment !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      path: formatPath([...path, key]),
      line: lineOfKey(path, key),
      message: `unknown key "${key}"${suggestKey(key, path)} (a misspelt key would silently do nothing)`,
    }));
  }
  if (issue.code === "invalid_union") {
    // `directory` is one block or a list of blocks: report the problems of the form that was written.
    const written = issue.errors.filter(
      (option) => !option.some((inner) => inner.code === "invalid_type" && inner.path.length === 0),
    );
    if (written.length === 1) {
      return (written[0] ?? []).flatMap((inner) =>
        describeIssue(
          { ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue,
          raw,
          lineOfPath,
          lineOfKey,
        ),
      );
    }
  }
  if (issue.code === "invalid_type") {
    // zod does not report the input by default: look at the document itself.
    const value = valueAt(raw, path);
    const message =
      value === undefined
        ? "is required"
        : `must be ${EXPECTED_KIND[issue.expected] ?? issue.expected}, not ${kindOf(value)}`;
    return [{ path: formatPath(path), line: lineOfPath(path), message }];
  }
  return [{ path: formatPath(path), line: lineOfPath(path), message: issue.message }];
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
  "": Object.keys(configObjectSchema.shape),
  ilobby: Object.keys(ilobbySchema.shape),
  directory: DIRECTORY_KEYS,
  keychain: Object.keys(keychainSchema.shape),
};

function suggestKey(key: string, path: readonly PathSegment[]): string {
  // A block of a `directory` list has the keys of a single block.
  const blockPath = path[0] === "directory" ? path.filter((segment) => typeof segment !== "number") : path;
  const candidates = KNOWN_KEYS[formatPath(blockPath)] ?? [];
  const lower = key.toLowerCase();
  const match = candidates.find(
    (candidate) => candidate.toLowerCase() === lower || editDistance(candidate.toLowerCase(), lower) <= 2,
  );
  return match ? `; did you mean "${match}"?` : "";
}

function findSecretKeys(value: unknown, path: PathSegment[] = []): { path: PathSegment[]; key: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => findSecretKeys(item, [...path, index]));
  if (typeof value !== "object" || value === null) return [];
  // Keys of mapping tables are data (glob patterns, group DNs), not settings.
  if (path.at(-1) === "map") return [];
  return Object.entries(value).flatMap(([key, child]) => [
    ...(SECRET_KEY.test(key) ? [{ path, key }] : []),
    ...findSecretKeys(child, [...path, key]),
  ]);
}

/** A config is a few hundred values; aliases that expand past this are an attack ("billion laughs"), not a config. */
export const MAX_EXPANDED_VALUES = 100_000;

/**
 * Finds the first alias at which the document, expanded, passes MAX_EXPANDED_VALUES, without expanding it: the
 * size of each node is counted once (aliases add the size of what they point at), so this takes time in proportion
 * to the text, whereas expanding nine aliases of nine aliases of ... takes forever.
 */
function findAliasBomb(
  document: Document,
): { path: PathSegment[]; alias: string; offset: number | undefined } | undefined {
  const sizes = new Map<unknown, number>();
  const sizeOf = (node: unknown): number => {
    if (isPair(node)) return sizeOf(node.key) + sizeOf(node.value);
    if (isAlias(node)) {
      const source = node.resolve(document);
      return source ? sizeOf(source) : 1;
    }
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, Number.POSITIVE_INFINITY); // an alias to a node it sits in: infinite
    let size = 1;
    for (const item of node.items) size = Math.min(size + sizeOf(item), Number.MAX_SAFE_INTEGER);
    sizes.set(node, size);
    return size;
  };
  let expanded = 0;
  const walk = (node: unknown, path: PathSegment[]): ReturnType<typeof findAliasBomb> => {
    if (isAlias(node)) {
      expanded += sizeOf(node);
      return expanded > MAX_EXPANDED_VALUES
        ? { path, alias: node.source, offset: node.range?.[0] }
        : undefined;
    }
    expanded += 1;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : "?";
        const found = walk(pair.key, path) ?? walk(pair.value, [...path, key]);
        if (found) return found;
      }
    } else if (isCollection(node)) {
      for (const [index, item] of node.items.entries()) {
        const found = walk(item, [...path, index]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(document.contents, []);
}
