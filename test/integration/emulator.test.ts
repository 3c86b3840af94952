/**
 * The iLobby emulator itself: its sync rules, the token and upload endpoints over real TLS, each fault kind,
 * and the standalone process with its admin API.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { Agent, FormData, request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AddressBook,
  type AddressBookEntry,
  type AddressBookRecord,
  CSV_COLUMNS,
} from "../emulator/address-book.js";
import { type Emulator, startEmulator } from "../emulator/emulator.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const HEADER = CSV_COLUMNS.join(",");

function record(email: string, fields: Partial<AddressBookRecord> = {}): AddressBookRecord {
  return {
    FIRSTNAME: "",
    LASTNAME: "",
    TITLE: "",
    DIVISION: "",
    EMAIL: email,
    MOBILE: "",
    DESKPHONE: "",
    SITE: "",
    ...fields,
  };
}

function entry(email: string, fields: Partial<AddressBookRecord> = {}, enabled = true): AddressBookEntry {
  return { ...record(email, fields), enabled };
}

/** RFC 4180 text for `records`, CRLF line ends like the vendor's PowerShell export. */
function csv(records: AddressBookRecord[]): string {
  const quote = (value: string): string =>
    /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
  const lines = records.map((r) => CSV_COLUMNS.map((column) => quote(r[column])).join(","));
  return `${[HEADER, ...lines].join("\r\n")}\r\n`;
}

describe("address book sync rules", () => {
  function sync(book: AddressBook, records: AddressBookRecord[]) {
    const upload = book.beginUpload();
    records.forEach((r, index) => {
      upload.add(r, index + 2);
    });
    return upload.commit();
  }

  it("adds, overwrites, ignores empty values, disables the absent and re-enables the returning", () => {
    const book = new AddressBook();
    book.replace([
      entry("ann@corp.test", { FIRSTNAME: "Ann", TITLE: "Clerk", MOBILE: "+1 555 0100" }),
      entry("bob@corp.test", { FIRSTNAME: "Bob" }),
      entry("cy@corp.test", { FIRSTNAME: "Cy" }, false),
      entry("dee@corp.test", { FIRSTNAME: "Dee" }),
    ]);
    const summary = sync(book, [
      record("ANN@Corp.Test", { FIRSTNAME: "Ann", TITLE: "Manager" }), // MOBILE empty: kept
      record("bob@corp.test", { FIRSTNAME: "Bob" }),
      record("cy@corp.test", { FIRSTNAME: "Cy" }),
      record("eve@corp.test", { FIRSTNAME: "Eve" }),
    ]);
    expect(summary).toEqual({ records: 4, added: 1, updated: 2, unchanged: 1, disabled: 1, skipped: 0 });
    expect(book.entries()).toEqual([
      entry("ANN@Corp.Test", { FIRSTNAME: "Ann", TITLE: "Manager", MOBILE: "+1 555 0100" }),
      entry("bob@corp.test", { FIRSTNAME: "Bob" }),
      entry("cy@corp.test", { FIRSTNAME: "Cy" }),
      entry("dee@corp.test", { FIRSTNAME: "Dee" }, false),
      entry("eve@corp.test", { FIRSTNAME: "Eve" }),
    ]);
  });

  it("does not count an already disabled record as disabled again", () => {
    const book = new AddressBook();
    book.replace([entry("gone@corp.test", {}, false)]);
    expect(sync(book, []).disabled).toBe(0);
  });

  it("changes nothing until commit, and refuses duplicate or empty emails", () => {
    const book = new AddressBook();
    book.replace([entry("ann@corp.test")]);
    const upload = book.beginUpload();
    upload.add(record("bob@corp.test"), 2);
    expect(() => upload.add(record("BOB@corp.test"), 3)).toThrow("line 3: duplicate EMAIL BOB@corp.test");
    expect(() => upload.add(record(""), 4)).toThrow("line 4: EMAIL is empty");
    expect(book.entries()).toEqual([entry("ann@corp.test")]);
  });

  it("skips names longer than 50 characters and leaves their stored record alone", () => {
    const book = new AddressBook();
    book.replace([entry("long@corp.test", { FIRSTNAME: "Short" })]);
    const summary = sync(book, [
      record("long@corp.test", { LASTNAME: "x".repeat(51) }),
      record("ok@corp.test"),
    ]);
    expect(summary).toMatchObject({ records: 2, added: 1, disabled: 0, skipped: 1 });
    expect(book.entries()[0]).toEqual(entry("long@corp.test", { FIRSTNAME: "Short" }));
  });
});

describe("iLobby emulator", () => {
  let emulator: Emulator;
  let agent: Agent;

  beforeAll(async () => {
    emulator = await startEmulator({ clients: { alpha: "alpha-secret", beta: "beta-secret" } });
    agent = new Agent({ connect: { ca: emulator.caPem } });
  });
  afterAll(async () => {
    await agent?.close();
    await emulator?.stop();
  });
  beforeEach(() => emulator.reset());

  async function requestToken(form: Record<string, string>) {
    const response = await request(`${emulator.url}/auth/connect/token`, {
      dispatcher: agent,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      json: (await response.body.json()) as unknown,
    };
  }

  async function tokenFor(clientId: string, secret = `${clientId}-secret`): Promise<string> {
    const { status, json } = await requestToken({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: secret,
    });
    expect(status).toBe(200);
    return (json as { access_token: string }).access_token;
  }

  async function upload(token: string | undefined, file: string | Buffer, fieldName = "file") {
    const form = new FormData();
    form.append(fieldName, new Blob([file]), "adextract.csv");
    const response = await request(`${emulator.url}/addressbook/uploadcsv`, {
      dispatcher: agent,
      method: "POST",
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      body: form,
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  }

  describe("token endpoint", () => {
    it("issues a bearer token for good client credentials and records the form", async () => {
      const { status, headers, json } = await requestToken({
        grant_type: "client_credentials",
        client_id: "alpha",
        client_secret: "alpha-secret",
      });
      expect(status).toBe(200);
      expect(headers["content-type"]).toMatch(/^application\/json/);
      expect(json).toEqual({ access_token: expect.any(String), expires_in: 3600, token_type: "Bearer" });
      expect(emulator.requests).toMatchObject([
        {
          endpoint: "token",
          method: "POST",
          path: "/auth/connect/token",
          status: 200,
          clientId: "alpha",
          form: { grant_type: "client_credentials", client_id: "alpha", client_secret: "alpha-secret" },
        },
      ]);
    });

    it("answers 401 invalid_client for a wrong secret or an unknown client", async () => {
      for (const [clientId, secret] of [
        ["alpha", "wrong"],
        ["nobody", "x"],
      ] as const) {
        const { status, json } = await requestToken({
          grant_type: "client_credentials",
          client_id: clientId,
          client_secret: secret,
        });
        expect(status).toBe(401);
        expect(json).toEqual({ error: "invalid_client" });
      }
    });

    it("answers 400 unsupported_grant_type for other grant types", async () => {
      const { status, json } = await requestToken({
        grant_type: "password",
        client_id: "alpha",
        client_secret: "alpha-secret",
      });
      expect(status).toBe(400);
      expect(json).toEqual({ error: "unsupported_grant_type" });
    });

    it("accepts clients added with setClient", async () => {
      emulator.setClient("gamma", "gamma-secret");
      await expect(tokenFor("gamma")).resolves.toEqual(expect.any(String));
    });
  });

  describe("upload endpoint", () => {
    it("syncs uploads by the vendor's rules and answers with a summary", async () => {
      const token = await tokenFor("alpha");
      const first = await upload(
        token,
        csv([
          record("ann@corp.test", {
            FIRSTNAME: "Ann",
            LASTNAME: "Lee",
            TITLE: "Clerk",
            MOBILE: "+1 555 0100",
          }),
          record("bob@corp.test", { FIRSTNAME: "Bob", DIVISION: 'R&D, "Labs"\r\nNorth' }),
        ]),
      );
      expect(first).toMatchObject({
        status: 200,
        text: "Upload complete: 2 records (2 added, 0 updated, 0 unchanged, 0 disabled)",
      });

      // Ann: new title, empty mobile (kept), other email case; Bob absent (disabled).
      const second = await upload(
        token,
        csv([record("ANN@CORP.TEST", { FIRSTNAME: "Ann", TITLE: "Manager" })]),
      );
      expect(second.text).toBe("Upload complete: 1 records (0 added, 1 updated, 0 unchanged, 1 disabled)");
      expect(emulator.addressBook("alpha")).toEqual([
        entry("ANN@CORP.TEST", {
          FIRSTNAME: "Ann",
          LASTNAME: "Lee",
          TITLE: "Manager",
          MOBILE: "+1 555 0100",
        }),
        entry("bob@corp.test", { FIRSTNAME: "Bob", DIVISION: 'R&D, "Labs"\r\nNorth' }, false),
      ]);

      const third = await upload(token, csv([record("ann@corp.test"), record("Bob@corp.test")]));
      expect(third.text).toBe("Upload complete: 2 records (0 added, 2 updated, 0 unchanged, 0 disabled)");
      expect(emulator.addressBook("alpha").map((e) => [e.EMAIL, e.enabled])).toEqual([
        ["ann@corp.test", true],
        ["Bob@corp.test", true],
      ]);
    });

    it("records the upload: client, part name, file name, bytes and rows", async () => {
      const token = await tokenFor("alpha");
      const body = `\uFEFF${csv([record("ann@corp.test"), record("bob@corp.test")])}`;
      expect((await upload(token, body)).status).toBe(200);
      expect(emulator.requests.at(-1)).toMatchObject({
        endpoint: "upload",
        status: 200,
        clientId: "alpha",
        uploadFieldName: "file",
        uploadFilename: "adextract.csv",
        csvBytes: Buffer.byteLength(body),
        rows: 2,
      });
    });

    it("keeps a separate address book per client", async () => {
      emulator.seedAddressBook("beta", [entry("zed@corp.test", { FIRSTNAME: "Zed" })]);
      await upload(await tokenFor("alpha"), csv([record("ann@corp.test")]));
      expect(emulator.addressBook("alpha").map((e) => e.EMAIL)).toEqual(["ann@corp.test"]);
      expect(emulator.addressBook("beta")).toEqual([entry("zed@corp.test", { FIRSTNAME: "Zed" })]);
    });

    it.each([
      [
        "a wrong header",
        "FIRSTNAME,LASTNAME,Title,DIVISION,EMAIL,MOBILE,DESKPHONE,SITE\r\n",
        /column 3 is "Title"/,
      ],
      [
        "a missing column",
        "FIRSTNAME,LASTNAME,TITLE,DIVISION,EMAIL,MOBILE,DESKPHONE\r\n",
        /7 columns instead of 8/,
      ],
      ["an empty file", "", /the file is empty/],
      ["a short row", `${HEADER}\r\nAnn,Lee,,,ann@corp.test\r\n`, /Invalid Record Length.*line 2/],
      ["an unclosed quote", `${HEADER}\r\nAnn,"Lee,,,,ann@corp.test,,,\r\n`, /Quote Not Closed/],
      ["a row without EMAIL", `${HEADER}\r\nAnn,Lee,,,,,,\r\n`, /line 2: EMAIL is empty/],
      [
        "Windows-1252 text",
        Buffer.from(`${HEADER}\r\nRen\xe9,Roy,,,rene@corp.test,,,\r\n`, "latin1"),
        /UTF-8/,
      ],
    ])("refuses %s with 400 and leaves the book alone", async (_name, file, message) => {
      emulator.seedAddressBook("alpha", [entry("old@corp.test")]);
      const response = await upload(await tokenFor("alpha"), file);
      expect(response.status).toBe(400);
      expect(response.text).toMatch(message);
      expect(emulator.addressBook("alpha")).toEqual([entry("old@corp.test")]);
    });

    it('refuses a file part not named "file"', async () => {
      const response = await upload(await tokenFor("alpha"), csv([]), "upload");
      expect(response).toMatchObject({ status: 400, text: expect.stringContaining('got "upload"') });
    });

    it("refuses a malformed multipart body with 400", async () => {
      const response = await request(`${emulator.url}/addressbook/uploadcsv`, {
        dispatcher: agent,
        method: "POST",
        headers: {
          authorization: `Bearer ${await tokenFor("alpha")}`,
          "content-type": "multipart/form-data; boundary=xyz",
        },
        body: `--xyz\r\n${"x".repeat(100_000)}\r\n\r\n${csv([])}\r\n--xyz--\r\n`,
      });
      expect(response.statusCode).toBe(400);
      expect(await response.body.text()).toMatch(/^Malformed multipart\/form-data body: /);
    });

    it("answers 401 without a token, with an unknown token and with an expired one", async () => {
      const token = await tokenFor("alpha");
      expect((await upload(undefined, csv([]))).status).toBe(401);
      expect((await upload("not-a-token", csv([]))).status).toBe(401);
      emulator.expireAllTokens();
      const expired = await upload(token, csv([]));
      expect(expired).toMatchObject({ status: 401, text: "Unauthorized: token expired" });
      expect(expired.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/);
      expect(emulator.requests.at(-1)).toMatchObject({ status: 401, clientId: "alpha" });
    });

    it("expires tokens after their lifetime", async () => {
      const shortLived = await startEmulator({ clients: { alpha: "alpha-secret" }, tokenTtlSeconds: 0 });
      const shortAgent = new Agent({ connect: { ca: shortLived.caPem } });
      try {
        const tokenResponse = await request(`${shortLived.url}/auth/connect/token`, {
          dispatcher: shortAgent,
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "grant_type=client_credentials&client_id=alpha&client_secret=alpha-secret",
        });
        const { access_token } = (await tokenResponse.body.json()) as { access_token: string };
        const response = await request(`${shortLived.url}/addressbook/uploadcsv`, {
          dispatcher: shortAgent,
          method: "POST",
          headers: { authorization: `Bearer ${access_token}` },
          body: new FormData(),
        });
        expect(response.statusCode).toBe(401);
        expect(await response.body.text()).toBe("Unauthorized: token expired");
      } finally {
        await shortAgent.close();
        await shortLived.stop();
      }
    });
  });

  describe("faults", () => {
    it("answers a queued status with Retry-After, for the given number of requests", async () => {
      const token = await tokenFor("alpha");
      emulator.queueFault("upload", { kind: "status", status: 503, retryAfterSeconds: 7 }, 2);
      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await upload(token, csv([record("ann@corp.test")]));
        expect(response).toMatchObject({ status: 503, text: "Service Unavailable" });
        expect(response.headers["retry-after"]).toBe("7");
      }
      expect((await upload(token, csv([record("ann@corp.test")]))).status).toBe(200);
    });

    it("answers a queued status with the given body on the token endpoint", async () => {
      emulator.queueFault("token", { kind: "status", status: 429, body: "slow down" });
      const response = await request(`${emulator.url}/auth/connect/token`, {
        dispatcher: agent,
        method: "POST",
      });
      expect(response.statusCode).toBe(429);
      expect(await response.body.text()).toBe("slow down");
      expect(response.headers["retry-after"]).toBeUndefined();
    });

    it("answers a redirect fault with the status and Location, and changes nothing", async () => {
      const token = await tokenFor("alpha");
      emulator.queueFault("upload", { kind: "redirect", status: 308, location: "http://elsewhere.test/up" });
      const response = await upload(token, csv([record("ann@corp.test")]));
      expect(response.status).toBe(308);
      expect(response.headers.location).toBe("http://elsewhere.test/up");
      expect(emulator.addressBook("alpha")).toEqual([]);
    });

    it("answers an html fault with a 200 web page, as a captive portal does, and changes nothing", async () => {
      const token = await tokenFor("alpha");
      emulator.queueFault("upload", { kind: "html" });
      const response = await upload(token, csv([record("ann@corp.test")]));
      expect(response.status).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^text\/html/);
      expect(response.text).toMatch(/^<!DOCTYPE html>/);
      expect(emulator.addressBook("alpha")).toEqual([]);
    });

    it("answers successfully but late with a slow fault", async () => {
      emulator.queueFault("token", { kind: "slow", delayMs: 300 });
      const started = performance.now();
      await tokenFor("alpha");
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    });

    it("drops the connection mid-body with a reset fault, and the book stays as it was", async () => {
      const token = await tokenFor("alpha");
      emulator.queueFault("upload", { kind: "reset" });
      const rows = Array.from({ length: 20_000 }, (_, i) =>
        record(`user${i}@corp.test`, { FIRSTNAME: `User${i}` }),
      );
      await expect(upload(token, csv(rows))).rejects.toThrow();
      expect(emulator.requests.at(-1)).toMatchObject({ endpoint: "upload", status: 0 });
      expect(emulator.addressBook("alpha")).toEqual([]);
      expect((await upload(token, csv([record("ann@corp.test")]))).status).toBe(200);
    });

    it("treats a valid token as expired once with an expire-token fault on uploads", async () => {
      const token = await tokenFor("alpha");
      emulator.queueFault("upload", { kind: "expire-token" });
      expect(await upload(token, csv([]))).toMatchObject({
        status: 401,
        text: "Unauthorized: token expired",
      });
      expect((await upload(token, csv([]))).status).toBe(200);
    });

    it("hands out an already expired token with an expire-token fault on the token endpoint", async () => {
      emulator.queueFault("token", { kind: "expire-token" });
      expect((await upload(await tokenFor("alpha"), csv([]))).status).toBe(401);
      expect((await upload(await tokenFor("alpha"), csv([]))).status).toBe(200);
    });

    it("forgets queued faults on clearFaults", async () => {
      emulator.queueFault("token", { kind: "status", status: 500 }, 3);
      emulator.clearFaults();
      await tokenFor("alpha");
    });
  });

  describe("TLS", () => {
    function handshake(options: { minVersion: "TLSv1" | "TLSv1.2"; maxVersion: "TLSv1.1" | "TLSv1.3" }) {
      return new Promise<string | null>((resolve, reject) => {
        const socket = connect({
          host: "127.0.0.1",
          port: Number(new URL(emulator.url).port),
          ca: emulator.caPem,
          // Let this client offer TLS 1.1 at all, so the refusal below is the server's.
          ciphers: "DEFAULT@SECLEVEL=0",
          ...options,
        });
        socket.once("secureConnect", () => {
          resolve(socket.getProtocol());
          socket.end();
        });
        socket.once("error", reject);
      });
    }

    it("refuses a TLS 1.1 client", async () => {
      await expect(handshake({ minVersion: "TLSv1", maxVersion: "TLSv1.1" })).rejects.toMatchObject({
        code: "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
      });
    });

    it("serves TLS 1.3 with a certificate valid for 127.0.0.1 and localhost", async () => {
      await expect(handshake({ minVersion: "TLSv1.2", maxVersion: "TLSv1.3" })).resolves.toBe("TLSv1.3");
      const response = await request(`${emulator.url.replace("127.0.0.1", "localhost")}/other`, {
        dispatcher: agent,
      });
      expect(response.statusCode).toBe(404);
      await response.body.dump();
    });
  });
});

describe("standalone emulator process", () => {
  interface Ready {
    url: string;
    caFile: string;
    pid: number;
    adminKey: string;
  }

  function startProcess(args: string[]): ChildProcess {
    return spawn(process.execPath, ["--import", "tsx", "test/emulator/main.ts", ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
  }

  it("prints its address, serves the admin API to the key holder only, and stops on SIGTERM", async () => {
    const child = startProcess(["--clients", "demo=demo-secret,other=other-secret"]);
    const exit = exited(child);
    try {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      const [firstLine] = await Promise.race([
        new Promise<[string]>((resolve) => lines.once("line", (line) => resolve([line]))),
        exit.then(({ stderr }) => Promise.reject(new Error(`emulator exited: ${stderr}`))),
      ]);
      const ready = JSON.parse(firstLine) as Ready;
      expect(ready).toEqual({
        url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
        caFile: expect.any(String),
        pid: child.pid,
        adminKey: expect.any(String),
      });
      expect(existsSync(ready.caFile)).toBe(true);

      const agent = new Agent({ connect: { ca: readFileSync(ready.caFile) } });
      const admin = async (
        method: string,
        path: string,
        body?: unknown,
        key: string | null = ready.adminKey,
      ) => {
        const response = await request(`${ready.url}/_emulator/${path}`, {
          dispatcher: agent,
          method: method as "GET",
          headers: {
            ...(key === null ? {} : { "x-emulator-admin": key }),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.body.text();
        return {
          status: response.statusCode,
          json: response.headers["content-type"]?.includes("json")
            ? (JSON.parse(text) as unknown)
            : undefined,
          text,
        };
      };
      try {
        expect((await admin("GET", "requests", undefined, null)).status).toBe(403);
        expect((await admin("GET", "requests", undefined, "wrong-key")).status).toBe(403);

        const seed = [{ EMAIL: "stale@corp.test", FIRSTNAME: "Stale" }];
        expect((await admin("PUT", "addressbook?clientId=demo", seed)).status).toBe(204);
        expect(
          (await admin("POST", "faults", { endpoint: "upload", fault: { kind: "status", status: 503 } }))
            .status,
        ).toBe(204);
        const badFault = await admin("POST", "faults", { endpoint: "upload", fault: { kind: "melt" } });
        expect(badFault).toMatchObject({ status: 400, text: expect.stringContaining("fault.kind") });

        const tokenResponse = await request(`${ready.url}/auth/connect/token`, {
          dispatcher: agent,
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "grant_type=client_credentials&client_id=demo&client_secret=demo-secret",
        });
        const { access_token } = (await tokenResponse.body.json()) as { access_token: string };
        const uploadOnce = async () => {
          const form = new FormData();
          form.append(
            "file",
            new Blob([csv([record("ann@corp.test", { FIRSTNAME: "Ann" })])]),
            "adextract.csv",
          );
          const response = await request(`${ready.url}/addressbook/uploadcsv`, {
            dispatcher: agent,
            method: "POST",
            headers: { authorization: `Bearer ${access_token}` },
            body: form,
          });
          await response.body.dump();
          return response.statusCode;
        };
        expect(await uploadOnce()).toBe(503);
        expect(await uploadOnce()).toBe(200);

        expect((await admin("GET", "addressbook?clientId=demo")).json).toEqual([
          entry("ann@corp.test", { FIRSTNAME: "Ann" }),
          entry("stale@corp.test", { FIRSTNAME: "Stale" }, false),
        ]);
        const recorded = (await admin("GET", "requests")).json as Array<Record<string, unknown>>;
        expect(recorded.map((r) => [r.endpoint, r.status])).toEqual([
          ["token", 200],
          ["upload", 503],
          ["upload", 200],
        ]);
        expect(recorded[0]?.form).toEqual({
          grant_type: "client_credentials",
          client_id: "demo",
          client_secret: "<redacted>",
        });

        expect((await admin("POST", "reset")).status).toBe(204);
        expect((await admin("GET", "addressbook?clientId=demo")).json).toEqual([]);
        expect((await admin("GET", "addressbook")).status).toBe(400);
      } finally {
        await agent.close();
      }

      child.kill("SIGTERM");
      expect((await exit).code).toBe(0);
      expect(existsSync(dirname(ready.caFile))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("exits with a usage message without clients", async () => {
    const result = await exited(startProcess([]));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--clients is required");
  });
});
