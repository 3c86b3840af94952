// Writes schema/ilobby-sync.schema.json from the config schema the tool validates with, so editors (YAML language
// server) complete and check the same keys. test/unit/json-schema.test.ts fails when the file is out of date.
import { writeFileSync } from "node:fs";
import { configJsonSchema } from "../src/core/config/json-schema.ts";

writeFileSync(
  new URL("../schema/ilobby-sync.schema.json", import.meta.url),
  `${JSON.stringify(configJsonSchema(), null, 2)}\n`,
);
