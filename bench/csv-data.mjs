// iLobby address-book CSV files of a given size for the validate and upload benchmarks: the same people as the
// directory, written the way `ilobby-sync run --output` writes them (CRLF, RFC 4180 quoting, UTF-8).
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { makePerson, seededRandom } from "./people.mjs";

const HEADER = "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE";

const quote = (value) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/**
 * Writes rows until the file holds `rows` records or reaches `bytes` (whichever is given). Every EMAIL is unique,
 * so the file is valid and `validate` reads it to the end.
 */
export async function writeAddressBookCsv(
  path,
  { rows = Number.POSITIVE_INFINITY, bytes = Number.POSITIVE_INFINITY },
) {
  const out = createWriteStream(path);
  const random = seededRandom(7_700_001);
  let written = Buffer.byteLength(`${HEADER}\r\n`);
  out.write(`${HEADER}\r\n`);
  let count = 0;
  let chunk = "";
  while (count < rows && written < bytes) {
    const person = makePerson(random, count);
    const line = `${[
      person.givenName,
      person.surname,
      person.title,
      person.department,
      person.mail ?? person.userPrincipalName,
      person.mobile ?? "",
      person.telephone ?? "",
      person.office.site,
    ]
      .map(quote)
      .join(",")}\r\n`;
    chunk += line;
    written += Buffer.byteLength(line);
    count++;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.end(chunk);
  await finished(out);
  return { rows: count, bytes: written };
}
