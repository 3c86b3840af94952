// A reference for `validate`: csv-parse alone, with the options validate used before issue 12, counting records.
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";

let records = 0;
const parser = createReadStream(process.argv[2]).pipe(
  parse({ bom: true, relax_column_count: true, info: true, skip_empty_lines: true }),
);
for await (const _ of parser) records++;
process.stdout.write(`${records}\n`);
