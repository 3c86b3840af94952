// The floor under `run --dry-run` in Node: ldapts alone runs the same paged searches (bases, filter, attributes,
// page size, TLS settings) and drops each page once counted. The gap between this and ldapsearch is the client
// library's; the gap between this and the dry run is ilobby-sync's own (mapping, CSV, diff) and the memory it holds.
//   node bench/ldapts-search.mjs <url> <ca.pem> <bind DN> <password file> <page size> <filter> <attributes> <base>...
import { readFileSync } from "node:fs";
import { Client } from "ldapts";

const [url, caFile, bindDn, passwordFile, pageSize, filter, attributes, ...bases] = process.argv.slice(2);
const client = new Client({
  url,
  tlsOptions: { ca: readFileSync(caFile, "utf8"), minVersion: "TLSv1.2" },
  strictDN: false,
});
let entries = 0;
try {
  await client.bind(bindDn, readFileSync(passwordFile, "utf8"));
  for (const base of bases) {
    const pages = client.searchPaginated(base, {
      scope: "sub",
      filter,
      attributes: attributes.split(" "),
      paged: { pageSize: Number(pageSize) },
    });
    for await (const page of pages) entries += page.searchEntries.length;
  }
} finally {
  await client.unbind();
}
process.stdout.write(`${entries}\n`);
