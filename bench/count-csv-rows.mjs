// The floor under `validate`: csv-parse alone, with the options ilobby-sync uses, counting records. The gap between
// this and Python's C reader is the parser's; the gap between this and `validate` is ilobby-sync's own.
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";

let records = 0;
const parser = createReadStream(process.argv[2]).pipe(
  parse({ bom: true, relax_column_count: true, info: true, skip_empty_lines: true }),
);
for await (const _ of parser) records++;
process.stdout.write(`${records}\n`);
