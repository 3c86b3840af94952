/**
 * How the single executable opens its embedded keyring addon: a private 0700 directory that is gone as soon as
 * dlopen has returned or failed, and the sweep of directories that earlier runs could not remove. The SEA asset
 * and dlopen are replaced by fakes; test/integration/binary.test.ts covers the real binary.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AddonHost,
  EXTRACTION_PREFIX,
  loadEmbeddedAddon,
} from "../../src/adapters/secrets/embedded-addon.ts";

const ASSET_BYTES = Buffer.from("\x7fELF pretend shared library");

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "ilobby-embedded-addon-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function host(dlopen: AddonHost["dlopen"]): AddonHost {
  return {
    getAsset: (name) => {
      expect(name).toBe("keyring.node");
      return ASSET_BYTES.buffer.slice(ASSET_BYTES.byteOffset, ASSET_BYTES.byteOffset + ASSET_BYTES.length);
    },
    dlopen,
    tempRoot: () => root,
  };
}

describe("loadEmbeddedAddon", () => {
  it("opens the asset from a private directory and removes that directory before returning", () => {
    let seen: { file: string; bytes: Buffer; dirMode: number } | undefined;
    const exports = loadEmbeddedAddon<{ AsyncEntry: string }>(
      "keyring.node",
      host((addon, file) => {
        seen = { file, bytes: readFileSync(file), dirMode: statSync(dirname(file)).mode & 0o777 };
        addon.exports = { AsyncEntry: "the native class" };
      }),
    );
    expect(exports).toEqual({ AsyncEntry: "the native class" });
    expect(seen?.bytes).toEqual(ASSET_BYTES);
    expect(seen?.dirMode).toBe(0o700);
    expect(dirname(seen?.file ?? "")).toMatch(new RegExp(`^${root}/${EXTRACTION_PREFIX}`));
    expect(readdirSync(root)).toEqual([]);
  });

  it("removes the directory when dlopen fails, and says how to get past a noexec temp folder", () => {
    let extractedTo = "";
    const opening = () =>
      loadEmbeddedAddon(
        "keyring.node",
        host((_module, file) => {
          extractedTo = dirname(file);
          throw new Error("failed to map segment from shared object");
        }),
      );
    expect(opening).toThrow(/cannot open the addon extracted to .*failed to map segment.*point TMPDIR at/);
    expect(extractedTo).not.toBe("");
    expect(existsSync(extractedTo)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it("sweeps extraction directories older than an hour and leaves recent and unrelated ones", () => {
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    const make = (name: string, time?: Date) => {
      const dir = join(root, name);
      mkdirSync(dir);
      if (time) utimesSync(dir, time, time);
    };
    make(`${EXTRACTION_PREFIX}killedRun`, twoHoursAgo);
    make(`${EXTRACTION_PREFIX}runningNow`);
    make("someone-elses-dir", twoHoursAgo);
    loadEmbeddedAddon(
      "keyring.node",
      host(() => {}),
    );
    expect(readdirSync(root).sort()).toEqual([`${EXTRACTION_PREFIX}runningNow`, "someone-elses-dir"]);
  });
});
