/**
 * In-memory fakes of the ports the use cases need: a directory source that yields the pages it is given (and can
 * fail part-way), a state store that keeps each target's last upload as its sorted rows, and iLobby targets that
 * record what they were sent. They implement the ports exactly as the adapters do, with nothing stubbed inside
 * the use cases themselves.
 */
import {
  type AddressBookTarget,
  type CsvPayload,
  DamagedStateError,
  type DirectorySource,
  type LastUploadRead,
  type NewUpload,
  type PlanStore,
  type RunLog,
  type SourceRecord,
  type StateStore,
  type StoredRow,
  type UploadHeader,
} from "../../src/app/ports.ts";
import type { RunSyncDependencies } from "../../src/app/run-sync.ts";
import { parseConfigText } from "../../src/core/config/parse.ts";
import type { Config } from "../../src/core/config/schema.ts";
import { SyncError } from "../../src/core/errors.ts";

export function configFrom(yaml: string): Config {
  const parsed = parseConfigText(yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

export const BASE_CONFIG = `
ilobby: { clientId: client-1, baseUrl: https://api.example.test }
directory: { url: ldaps://dc1.example.test, bindDn: svc@example.test, searchBases: [DC=example,DC=test] }
`;

export function person(
  name: string,
  attributes: Record<string, string> = {},
  extra: Partial<SourceRecord> = {},
): SourceRecord {
  const [given, surname] = name.split(" ");
  return {
    ref: `CN=${name},OU=Staff,DC=example,DC=test`,
    attributes: {
      givenname: given ?? "",
      sn: surname ?? "",
      mail: `${(given ?? "").toLowerCase()}.${(surname ?? "").toLowerCase()}@example.test`,
      ...Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key.toLowerCase(), value])),
    },
    ...extra,
  };
}

/** Yields the pages in order; `failAt` makes the read throw (as a lost connection would) before that page. */
export function memorySource(pages: readonly (readonly SourceRecord[])[], options: { failAt?: number } = {}) {
  const source = {
    pagesRead: 0,
    requests: [] as unknown[],
    async *read(request: Parameters<DirectorySource["read"]>[0]) {
      source.requests.push(request);
      for (const [index, page] of pages.entries()) {
        if (index === options.failAt) {
          throw new SyncError("directory", "the search failed part-way: connection reset", {
            fix: "run again when the DC is reachable",
          });
        }
        source.pagesRead++;
        request.onProgress?.(pages.slice(0, index + 1).flat().length);
        yield page;
      }
    },
  } satisfies DirectorySource & Record<string, unknown>;
  return source;
}

/** Last uploads in memory, saved as the file store saves them: sorted rows with their stable ids. */
export function memoryState(location = "memory://state") {
  const saved = new Map<string, UploadHeader & { rows: StoredRow[] }>();
  const damaged = new Map<string, string>();
  const store = {
    location,
    saved,
    saves: 0,
    /** Makes the next reads of a target find it damaged: at once, or after its first row ("part-way"). */
    damage(target: string, how: "header" | "part-way") {
      damaged.set(target, how);
    },
    async readLastUpload(target: string): Promise<LastUploadRead> {
      const upload = saved.get(target);
      if (damaged.get(target) === "header")
        return { status: "corrupt", problem: "the state file is not valid JSON" };
      if (!upload) return { status: "missing" };
      const partWay = damaged.get(target) === "part-way";
      const { rows, ...header } = upload;
      return {
        status: "found",
        upload: {
          ...header,
          async *rows() {
            for (const [index, row] of rows.entries()) {
              if (partWay && index === 1) throw new DamagedStateError("the state file's row 2 is damaged");
              yield row;
            }
          },
        },
      };
    },
    async saveLastUpload(upload: NewUpload, options?: { onlyAfter?: Promise<unknown> }) {
      await options?.onlyAfter;
      const { rows, ...header } = upload;
      const stored: StoredRow[] = [];
      for (let index = 0; index < rows.length; index++) {
        stored.push({ row: rows.at(index) as StoredRow["row"], stableId: rows.stableId(index) });
      }
      saved.set(upload.target, { ...header, rows: stored });
      damaged.delete(upload.target);
      store.saves++;
    },
    async lastUploadFingerprint(target: string): Promise<string | undefined> {
      const upload = saved.get(target);
      return upload ? `run:${upload.runId}` : undefined;
    },
    async lock() {
      return async () => {};
    },
  } satisfies StateStore & Record<string, unknown>;
  return store;
}

/** iLobby targets that record every payload (as text) and can refuse uploads. */
export function memoryTargets(options: { refuse?: (target: string) => SyncError | undefined } = {}) {
  const sent: { target: string; csv: string }[] = [];
  const opened: string[] = [];
  const text = async (payload: CsvPayload) =>
    payload.kind === "text"
      ? payload.text
      : (await import("node:fs/promises")).readFile(payload.path, "utf8");
  return {
    sent,
    opened,
    async open(target: { name: string }): Promise<AddressBookTarget & { close(): Promise<void> }> {
      opened.push(target.name);
      return {
        async upload(payload) {
          const refusal = options.refuse?.(target.name);
          if (refusal) throw refusal;
          sent.push({ target: target.name, csv: await text(payload) });
          return { status: 200, message: "ok" };
        },
        async close() {},
      };
    },
  };
}

export function memoryLog(): RunLog & { events: { event: string; fields?: Record<string, unknown> }[] } {
  const events: { event: string; fields?: Record<string, unknown> }[] = [];
  return { events, event: (event, fields) => events.push(fields ? { event, fields } : { event }) };
}

export function dependencies(
  directory: DirectorySource,
  state: ReturnType<typeof memoryState>,
  targets: ReturnType<typeof memoryTargets>,
  warnings: string[] = [],
): RunSyncDependencies {
  let now = 1_700_000_000_000;
  return {
    directory,
    state,
    target: (target) => targets.open(target),
    clock: { now: () => (now += 5) },
    log: memoryLog(),
    say: () => {},
    warn: (message) => warnings.push(message),
  };
}

/** Saved plans kept as texts by path (plans and their HTML reports). */
export function memoryPlans(): PlanStore & { files: Map<string, string> } {
  const files = new Map<string, string>();
  return {
    files,
    pathFor: (runId) => `/state/plans/${runId}.json`,
    reportPathFor: (runId) => `/state/plans/${runId}.html`,
    async write(path, text) {
      files.set(path, text);
    },
    async read(path) {
      return files.get(path) ?? "";
    },
    async prune() {
      return [];
    },
  };
}
