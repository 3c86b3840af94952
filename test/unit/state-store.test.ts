import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFileStateStore } from "../../src/adapters/state/file-state-store.ts";
import { DamagedStateError, type StoredRow } from "../../src/app/ports.ts";
import type { Row } from "../../src/core/columns.ts";
import { createRowTableBuilder } from "../../src/core/row-table.ts";
import { testRow } from "../support/rows.ts";

const row = (email: string, overrides: Partial<Row> = {}): Row =>
  testRow(email, { FIRSTNAME: "Ann", LASTNAME: "Côté", SITE: "Montréal", ...overrides });
const header = {
  target: "default",
  clientId: "c",
  baseUrl: "https://x.test",
  uploadedAt: "2026-01-01",
  runId: "r",
};

async function readAll(rows: AsyncIterable<StoredRow>): Promise<StoredRow[]> {
  const all: StoredRow[] = [];
  for await (const stored of rows) all.push(stored);
  return all;
}

function table(entries: [Row, string | undefined][]) {
  const builder = createRowTableBuilder();
  for (const [value, stableId] of entries) builder.add(value, stableId);
  return builder.finish();
}

describe("the file state store", () => {
  it("writes one JSON line per row, sorted by EMAIL key, with each stable id, and reads them back in order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ilobby-state-"));
    const store = createFileStateStore(dir);
    const rows = table([
      [row("zed@x.test", { TITLE: 'quote " and\nnewline' }), "guid-z"],
      [row("Amy@x.test"), undefined],
    ]);
    await store.saveLastUpload({ ...header, rows });
    const lines = readFileSync(join(dir, "default.last-upload.json"), "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ version: 2, rows: 2, clientId: "c" });
    expect(JSON.parse(lines[2] as string)).toHaveLength(9);
    const read = await store.readLastUpload("default");
    if (read.status !== "found") throw new Error(read.status);
    expect(read.upload).toMatchObject(header);
    expect(await readAll(read.upload.rows())).toEqual([
      { row: row("Amy@x.test"), stableId: undefined },
      { row: row("zed@x.test", { TITLE: 'quote " and\nnewline' }), stableId: "guid-z" },
    ]);
  });

  it("reads the old one-document state (version 1), sorted by EMAIL key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ilobby-state-"));
    const values = (value: Row) => Object.values(value);
    writeFileSync(
      join(dir, "default.last-upload.json"),
      `${JSON.stringify({
        version: 1,
        ...header,
        columns: Object.keys(row("a@x.test")),
        rows: [values(row("b@x.test")), values(row("A@x.test"))],
      })}\n`,
    );
    const read = await createFileStateStore(dir).readLastUpload("default");
    if (read.status !== "found") throw new Error(read.status);
    expect((await readAll(read.upload.rows())).map((stored) => stored.row.EMAIL)).toEqual([
      "A@x.test",
      "b@x.test",
    ]);
  });

  it("finds a damaged header at once, and a damaged or missing row while reading", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ilobby-state-"));
    const store = createFileStateStore(dir);
    const path = join(dir, "default.last-upload.json");
    writeFileSync(path, '{"version":2,"target":"default"');
    expect(await store.readLastUpload("default")).toMatchObject({ status: "corrupt" });

    await store.saveLastUpload({
      ...header,
      rows: table([
        [row("a@x.test"), undefined],
        [row("b@x.test"), undefined],
      ]),
    });
    const whole = readFileSync(path, "utf8");
    writeFileSync(path, whole.slice(0, whole.lastIndexOf("[")));
    const truncated = await store.readLastUpload("default");
    if (truncated.status !== "found") throw new Error(truncated.status);
    await expect(readAll(truncated.upload.rows())).rejects.toBeInstanceOf(DamagedStateError);

    writeFileSync(path, whole.replace('"b@x.test"', "42"));
    const damaged = await store.readLastUpload("default");
    if (damaged.status !== "found") throw new Error(damaged.status);
    await expect(readAll(damaged.upload.rows())).rejects.toThrow(/row 2 is damaged/);
  });

  it("leaves the old state whole when writing the new one fails part-way", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ilobby-state-"));
    const store = createFileStateStore(dir);
    await store.saveLastUpload({ ...header, rows: table([[row("a@x.test"), undefined]]) });
    const before = readFileSync(join(dir, "default.last-upload.json"), "utf8");
    const failing = table([[row("b@x.test"), undefined]]);
    const broken = {
      ...failing,
      encoded: () => {
        throw new Error("disk full");
      },
    };
    await expect(store.saveLastUpload({ ...header, rows: broken })).rejects.toThrow(/disk full/);
    expect(readFileSync(join(dir, "default.last-upload.json"), "utf8")).toBe(before);
  });

  it("written while the upload is in flight, replaces the old state only once the upload is accepted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ilobby-state-"));
    const store = createFileStateStore(dir);
    const path = join(dir, "default.last-upload.json");
    await store.saveLastUpload({ ...header, rows: table([[row("a@x.test"), undefined]]) });
    const before = readFileSync(path, "utf8");
    const next = { ...header, runId: "r2", rows: table([[row("b@x.test"), undefined]]) };

    const refused = Promise.reject(new Error("HTTP 400 from iLobby"));
    refused.catch(() => {}); // observed by the caller too, as deliverToTarget does
    await expect(store.saveLastUpload(next, { onlyAfter: refused })).rejects.toThrow(/HTTP 400/);
    expect(readFileSync(path, "utf8")).toBe(before);
    expect(readdirSync(dir)).toEqual(["default.last-upload.json"]); // no temporary file left behind

    let accept = () => {};
    const accepted = new Promise<void>((resolve) => {
      accept = resolve;
    });
    const saving = store.saveLastUpload(next, { onlyAfter: accepted });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readFileSync(path, "utf8")).toBe(before); // written aside, not yet in place
    accept();
    await saving;
    expect(readFileSync(path, "utf8")).toContain('"r2"');
  });

  it("removes the temporary state files a killed run left behind when the next run takes the lock", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ilobby-state-"));
    const leftover = `.default.last-upload.json.${crypto.randomUUID()}.tmp`;
    writeFileSync(join(dir, leftover), "half a state");
    writeFileSync(join(dir, "notes.tmp"), "not ours");
    const release = await createFileStateStore(dir).lock();
    try {
      expect(readdirSync(dir)).not.toContain(leftover);
      expect(readdirSync(dir)).toContain("notes.tmp");
    } finally {
      await release();
    }
  });
});
