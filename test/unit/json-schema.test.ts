import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../src/core/config/json-schema.ts";
import { parseConfigText } from "../../src/core/config/parse.ts";

const root = new URL("../../", import.meta.url);

describe("shipped config files", () => {
  it("schema/ilobby-sync.schema.json matches the config schema (run `npm run schema` after changing it)", () => {
    const shipped = JSON.parse(readFileSync(new URL("schema/ilobby-sync.schema.json", root), "utf8"));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it("config.example.yaml is valid and points editors at the schema", () => {
    const text = readFileSync(new URL("config.example.yaml", root), "utf8");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=./schema/ilobby-sync.schema.json");
    const result = parseConfigText(text);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });
});
