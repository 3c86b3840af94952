/**
 * Notifications end to end: the built CLI syncs from the LDAPS test directory to the iLobby emulator and tells a
 * local HTTPS webhook receiver (json, teams and slack formats), a local SMTP server (STARTTLS and a login) and a
 * local healthchecks.io-style ping receiver, all on 127.0.0.1 with certificates from the test CA.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { trustedCertificates } from "../../src/adapters/network/trust.ts";
import { emailChannel } from "../../src/adapters/notify/email-channel.ts";
import { toCsv } from "../../src/core/csv.ts";
import type { SyncReport } from "../../src/core/notify/report.ts";
import { runCli } from "../support/cli.ts";
import { ENTRA_SECRET, startEntraWorld } from "../support/entra-world.ts";
import {
  type HttpsReceiver,
  type SmtpReceiver,
  startHttpsReceiver,
  startSmtpReceiver,
} from "../support/notify-receivers.ts";
import { issueServerCert } from "../support/pki.ts";
import { expectedRows, SAMPLE_GROUPS, SERVICE_ACCOUNT } from "../support/sample-directory.ts";
import { type SampleConfig, type SampleWorld, startSampleWorld } from "../support/sample-world.ts";

const CLIENT = "notify-client";
const CLIENT_SECRET = "notify-client-secret-value";
const SMTP = { user: "ilobby-sync@example.test", password: "smtp-Pa55-for-tests" };
/** The Slack webhook's URL is kept as a secret; its path is the token that must never leak. */
const SLACK_TOKEN_PATH = "/services/T000/B000/slack-token-abcdef";
const PING_PATH = "/ping/5b1a0c9e-0000-4000-8000-notify-test";

let world: SampleWorld;
let https: HttpsReceiver;
let smtp: SmtpReceiver;
let dir: string;

const secrets = () => ({
  ILOBBY_SYNC_BIND_PASSWORD: SERVICE_ACCOUNT.password,
  ILOBBY_SYNC_CLIENT_SECRET: CLIENT_SECRET,
  ILOBBY_SYNC_SMTP_PASSWORD: SMTP.password,
  ILOBBY_SYNC_SLACK_WEBHOOK: `${https.url}${SLACK_TOKEN_PATH}`,
});

function notifyBlock(change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    caFile: world.ca.certFile,
    webhooks: [
      { url: `${https.url}/hook/json`, format: "json" },
      { url: `${https.url}/hook/teams`, format: "teams" },
      { urlSecret: "slack-webhook", format: "slack" },
    ],
    email: {
      host: "127.0.0.1",
      port: smtp.port,
      username: SMTP.user,
      from: SMTP.user,
      to: ["it-ops@example.test"],
    },
    ping: `${https.url}${PING_PATH}`,
    ...change,
  };
}

function writeConfig(change: (config: SampleConfig) => void = () => {}): string {
  const config = world.config(CLIENT);
  config.notify = notifyBlock();
  config.stateDir = join(dir, "state");
  config.log = { file: join(dir, "sync.log") };
  change(config);
  return world.writeConfig(dir, config);
}

const run = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: dir, env: { ...secrets(), ...env }, timeoutMs: 90_000 });

const hooks = (format: string) => https.requests.filter((request) => request.path === `/hook/${format}`);
const json = (format: string) => hooks(format).map((request) => JSON.parse(request.body));
const pings = () => https.requests.filter((request) => request.path.startsWith(PING_PATH));
const pingPaths = () => pings().map((request) => request.path.slice(PING_PATH.length) || "(success)");
const slack = () => https.requests.filter((request) => request.path === SLACK_TOKEN_PATH);

/** Nothing a notification carries may contain a secret. */
function expectNoSecrets(): void {
  const carried = [...https.requests.map((request) => request.body), ...smtp.mails.map((mail) => mail.raw)];
  for (const text of carried) {
    for (const secret of [
      CLIENT_SECRET,
      SERVICE_ACCOUNT.password,
      SMTP.password,
      SLACK_TOKEN_PATH,
      PING_PATH,
    ]) {
      expect(text).not.toContain(secret);
    }
  }
}

beforeAll(async () => {
  // A year-long certificate: the 30-day default would make every run a certificate warning.
  world = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET }, certificateDays: 365 });
  const cert = issueServerCert(world.ca, "receiver", ["DNS:localhost", "IP:127.0.0.1"], { days: 365 });
  https = await startHttpsReceiver(cert);
  smtp = await startSmtpReceiver(cert, SMTP);
});
afterAll(async () => {
  await Promise.all([world?.stop(), https?.stop(), smtp?.stop()]);
});
beforeEach(() => {
  world.emulator.reset();
  https.reset();
  smtp.reset();
  dir = mkdtempSync(join(tmpdir(), "ilobby-notify-"));
});

describe("notifications of a run", () => {
  it("a guard trip reaches every channel with counts and examples; the upload before it only pings", async () => {
    writeConfig();
    const first = await run(["run"]);
    expect(first.code, first.stderr).toBe(0);
    // on: [failure, guard] by default: a run with skipped records (a warning) reaches only the heartbeat.
    expect(pingPaths()).toEqual(["/start", "(success)"]);
    expect(hooks("json")).toEqual([]);
    expect(smtp.mails).toEqual([]);

    https.reset();
    writeConfig((config) => {
      config.directory.groups = [SAMPLE_GROUPS.hosts];
    });
    const stopped = await run(["run", "--report", "guard.html"]);
    expect(stopped.code).toBe(6);
    const disabled = expectedRows().length - expectedRows({ groups: [SAMPLE_GROUPS.hosts] }).length;

    const [document] = json("json");
    expect(json("json")).toHaveLength(1);
    expect(document).toMatchObject({
      event: "guard",
      host: hostname(),
      exitCode: 6,
      command: "run",
      error: { category: "guard", message: expect.stringMatching(/would be disabled/) },
      targets: [
        {
          target: "default",
          status: "failed",
          counts: { added: 0, disabled, skipped: expect.any(Number) },
          error: { category: "guard" },
          // Agreement B: the stopped target's saved plan and the command that applies it.
          plan: {
            path: expect.stringMatching(/[/\\]state[/\\]plans[/\\][0-9a-f-]{36}\.json$/),
            command: expect.stringMatching(/^ilobby-sync --config \S+ apply \S+\.json$/),
          },
        },
      ],
    });
    expect(document.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(document.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(document.targets[0].examples.disabled).toHaveLength(Math.min(10, disabled));
    expect(document.summary).toMatch(/would be disabled/);

    const [card] = json("teams");
    expect(card.type).toBe("message");
    expect(card.attachments[0].contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(card.attachments[0].content.type).toBe("AdaptiveCard");
    expect(JSON.stringify(card)).toContain(document.targets[0].examples.disabled[0]);

    const [message] = slack().map((request) => JSON.parse(request.body));
    expect(message.text).toMatch(/safety guard stopped the sync/);
    expect(message.blocks[0]).toMatchObject({ type: "header" });

    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(mail?.secure).toBe(true);
    expect(mail?.user).toBe(SMTP.user);
    expect(mail?.to).toEqual(["it-ops@example.test"]);
    expect(mail?.subject).toMatch(
      new RegExp(`^ilobby-sync guard: .*would be disabled.* \\(${hostname()}\\)$`),
    );
    expect(mail?.text).toContain(`disabled ${disabled}`);
    expect(mail?.text).toContain(document.targets[0].plan.command);
    expect(mail?.text).toContain(document.targets[0].examples.disabled[0]);
    // The HTML change report the run wrote goes with the e-mail.
    expect(mail?.attachments.map((attachment) => attachment.filename)).toEqual(["guard.html"]);
    expect(mail?.attachments[0]?.content).toBe(readFileSync(join(dir, "guard.html"), "utf8"));

    expect(pingPaths()).toEqual(["/start", "/fail"]);
    const failPing = pings().at(-1);
    expect(failPing?.contentType).toMatch(/^text\/plain/);
    expect(failPing?.body).toMatch(/safety guard stopped the sync \(exit code 6\)/);
    expectNoSecrets();
    const log = readFileSync(join(dir, "sync.log"), "utf8");
    expect(log).toContain('"event":"notification-sent"');
    expect(log).not.toContain(SLACK_TOKEN_PATH);
  });

  it("sends only the events listed in `on`: a warning goes out, a failure does not (the ping still hears)", async () => {
    writeConfig((config) => {
      config.notify = notifyBlock({ on: ["warning"], email: undefined });
    });
    const warned = await run(["run"]);
    expect(warned.code, warned.stderr).toBe(0);
    const [document] = json("json");
    expect(document).toMatchObject({ event: "warning", exitCode: 0, targets: [{ status: "uploaded" }] });
    expect(document.warnings).toContainEqual(
      expect.objectContaining({ kind: "skipped", message: expect.stringMatching(/^3 record\(s\) skipped/) }),
    );
    expect(document.targets[0].counts.added).toBe(expectedRows().length);

    https.reset();
    writeConfig((config) => {
      config.notify = notifyBlock({ on: ["warning"], email: undefined });
      config.directory.url = "ldaps://127.0.0.1:1";
    });
    const failed = await run(["run"]);
    expect(failed.code).toBe(4);
    expect(hooks("json")).toEqual([]);
    expect(slack()).toEqual([]);
    expect(pingPaths()).toEqual(["/start", "/fail"]);
    expect(pings().at(-1)?.body).toMatch(/sync failed \(exit code 4\)/);
  });

  it("a success (upload of a clean CSV) with details: counts carries no EMAIL", async () => {
    writeConfig((config) => {
      config.notify = notifyBlock({ on: ["success"], details: "counts" });
    });
    const rows = expectedRows().slice(0, 3);
    writeFileSync(join(dir, "hosts.csv"), toCsv(rows));
    const result = await run(["upload", "hosts.csv", "--report", "changes.html"]);
    expect(result.code, result.stderr).toBe(0);
    const [document] = json("json");
    expect(document).toMatchObject({
      event: "success",
      command: "upload",
      targets: [{ status: "uploaded", counts: { added: 3, disabled: 0 } }],
    });
    expect(document.targets[0].examples).toBeUndefined();
    const carried = [
      ...https.requests.map((request) => request.body),
      ...smtp.mails.map((mail) => mail.text),
    ];
    for (const row of rows) for (const text of carried) expect(text).not.toContain(row.EMAIL);
    expect(smtp.mails[0]?.subject).toMatch(/^ilobby-sync success: synced 1 target: 3 added/);
    // The change report names everyone: with details: counts it stays on disk.
    expect(readFileSync(join(dir, "changes.html"), "utf8")).toContain(rows[0]?.EMAIL);
    expect(smtp.mails[0]?.attachments).toEqual([]);
  });

  it("a dry run sends nothing, unless onDryRun", async () => {
    writeConfig((config) => {
      config.notify = notifyBlock({ on: ["warning", "success"] });
    });
    expect((await run(["run", "--dry-run"])).code).toBe(0);
    expect(https.requests).toEqual([]);
    expect(smtp.mails).toEqual([]);

    writeConfig((config) => {
      config.notify = notifyBlock({ on: ["warning", "success"], onDryRun: true, email: undefined });
    });
    expect((await run(["run", "--dry-run"])).code).toBe(0);
    expect(json("json")[0]).toMatchObject({ event: "warning", dryRun: true });
    expect(pingPaths()).toEqual(["/start", "(success)"]);
  });

  it("a receiver that is down or slow leaves the exit code unchanged and is reported on stderr and in log.file", async () => {
    // The ping's /start stalls past the 10-second timeout once, then answers: one retry. The JSON hook answers 500 each
    // time: two retries, then reported. The Teams hook points at a closed port.
    https.behave(PING_PATH, { kind: "stall", ms: 15_000, times: 1 });
    https.behave("/hook/json", { kind: "status", status: 500 });
    writeConfig((config) => {
      config.notify = notifyBlock({
        on: ["warning"],
        email: undefined,
        webhooks: [
          { url: `${https.url}/hook/json`, format: "json" },
          { url: "https://127.0.0.1:1/hook/teams", format: "teams" },
        ],
      });
    });
    const started = Date.now();
    const result = await run(["run"]);
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(hooks("json")).toHaveLength(3);
    expect(result.stderr).toMatch(
      /notification to webhook \(json\) https:\/\/127\.0\.0\.1:\d+ failed after 3 attempt\(s\): .*HTTP 500/,
    );
    expect(result.stderr).toMatch(
      /notification to webhook \(teams\) https:\/\/127\.0\.0\.1:1 failed after 3 attempt\(s\)/,
    );
    expect(pingPaths()).toEqual(["/start", "/start", "(success)"]);
    const log = readFileSync(join(dir, "sync.log"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const failures = log.filter((line) => line.event === "notification-failed");
    expect(failures.map((line) => line.channel).sort()).toEqual([
      expect.stringMatching(/^webhook \(json\) https:\/\/127\.0\.0\.1:\d+$/),
      "webhook (teams) https://127.0.0.1:1",
    ]);
    expect(JSON.stringify(log)).not.toContain(PING_PATH);
  }, 90_000);
});

describe("certificates near expiry", () => {
  it("a DC's or iLobby's certificate expiring within 30 days makes a successful run a warning", async () => {
    const shortLived = await startSampleWorld({ clients: { [CLIENT]: CLIENT_SECRET }, certificateDays: 10 });
    try {
      const config = shortLived.config(CLIENT);
      config.notify = notifyBlock({ on: ["warning"], email: undefined });
      config.stateDir = join(dir, "state");
      shortLived.writeConfig(dir, config);
      const result = await run(["run"]);
      expect(result.code, result.stderr).toBe(0);
      const [document] = json("json");
      const certificates = document.warnings.filter(
        (warning: { kind: string }) => warning.kind === "certificate",
      );
      expect(certificates.map((warning: { message: string }) => warning.message)).toEqual([
        expect.stringMatching(
          new RegExp(`^the certificate of directory ${shortLived.ldap.url} expires in 9 day`),
        ),
        expect.stringMatching(
          new RegExp(`^the certificate of iLobby ${shortLived.emulator.url} expires in 9 day`),
        ),
      ]);
    } finally {
      await shortLived.stop();
    }
  });

  it("so does the certificate of Microsoft Graph (an Entra ID source)", async () => {
    const entra = await startEntraWorld({ ilobbyClients: { [CLIENT]: CLIENT_SECRET } });
    try {
      const config = entra.config(CLIENT);
      config.notify = notifyBlock({ on: ["warning"], email: undefined });
      config.stateDir = join(dir, "state");
      entra.writeConfig(dir, config);
      const result = await run(["run"], { ILOBBY_SYNC_ENTRA_CLIENT_SECRET: ENTRA_SECRET });
      expect(result.code, result.stderr).toBe(0);
      const messages = json("json")[0].warnings.map((warning: { message: string }) => warning.message);
      // The emulators' certificates live 30 days (pki.ts), so both are within the warning's reach.
      expect(messages).toContainEqual(
        expect.stringMatching(/^the certificate of Entra ID https:\/\/127\.0\.0\.1 expires in 2\d day/),
      );
      expect(messages).toContainEqual(
        expect.stringMatching(
          new RegExp(`^the certificate of iLobby ${entra.ilobby.url} expires in 2\\d day`),
        ),
      );
    } finally {
      await entra.stop();
    }
  });
});

describe("doctor", () => {
  it("checks each channel's TCP and TLS (the SMTP login too) without sending anything", async () => {
    writeConfig((config) => {
      config.notify = notifyBlock({
        webhooks: [
          { url: `${https.url}/hook/json`, format: "json" },
          { urlSecret: "slack-webhook", format: "slack" },
          { url: "https://127.0.0.1:1/hook/down", format: "teams" },
        ],
      });
    });
    const result = await run(["doctor", "--json"]);
    const checks = JSON.parse(result.stdout).checks.filter((check: { id: string }) =>
      check.id.startsWith("notify:"),
    );
    expect(checks.map((check: { id: string; status: string }) => [check.id, check.status])).toEqual([
      ["notify:webhook:0", "pass"],
      ["notify:webhook:1", "pass"],
      ["notify:webhook:2", "fail"],
      ["notify:email", "pass"],
      ["notify:ping", "pass"],
    ]);
    expect(checks[1].title).toBe("notify webhook (slack) (secret slack-webhook)");
    expect(checks[2].summary).toMatch(
      /webhook \(teams\) https:\/\/127\.0\.0\.1:1 is not reachable: ECONNREFUSED/,
    );
    expect(checks[3].summary).toBe("STARTTLS, certificate verified, login accepted (nothing sent)");
    expect(result.code).toBe(2);
    expect(https.requests).toEqual([]);
    expect(smtp.mails).toEqual([]);
    expect(result.stdout).not.toContain(SLACK_TOKEN_PATH);
  });
});

describe("the e-mail channel", () => {
  const report = (reportFile?: string): SyncReport => ({
    command: "run",
    host: "sync-host",
    version: "0.0.0",
    runId: "r",
    exitCode: 0,
    dryRun: false,
    targets: [],
    warnings: [],
    reportFile,
  });
  const email = (port: number) => ({
    host: "127.0.0.1",
    port,
    username: SMTP.user,
    from: SMTP.user,
    to: ["it-ops@example.test"],
  });
  const trusted = () => trustedCertificates([world.ca.certPem]);
  const signal = () => AbortSignal.timeout(20_000);

  it("attaches the HTML change report a run wrote", async () => {
    const reportFile = join(dir, "changes.html");
    writeFileSync(reportFile, "<!doctype html><title>changes</title><p>3 added</p>");
    await emailChannel(email(smtp.port), SMTP.password, trusted(), "examples").send(
      report(reportFile),
      signal(),
    );
    expect(smtp.mails[0]?.attachments).toEqual([
      { filename: "changes.html", content: "<!doctype html><title>changes</title><p>3 added</p>" },
    ]);
  });

  it("speaks TLS from the first byte on port 465, and refuses a server that offers no STARTTLS", async () => {
    const cert = issueServerCert(world.ca, "smtp-more", ["IP:127.0.0.1"], { days: 365 });
    // Port 465 is what selects implicit TLS (the tests run as root, as CI does, so they may listen on it).
    const implicit = await startSmtpReceiver(cert, SMTP, "implicit", 465);
    const plain = await startSmtpReceiver(cert, SMTP, "plain");
    try {
      await emailChannel(email(465), SMTP.password, trusted(), "counts").send(report(), signal());
      expect(implicit.mails[0]).toMatchObject({ secure: true, user: SMTP.user });

      await expect(
        emailChannel(email(plain.port), SMTP.password, trusted(), "counts").send(report(), signal()),
      ).rejects.toThrow(/STARTTLS/i);
      expect(plain.mails).toEqual([]);
    } finally {
      await Promise.all([implicit.stop(), plain.stop()]);
    }
  });
});

describe("notify test", () => {
  it("sends a test message on every channel and says which worked", async () => {
    writeConfig();
    const result = await run(["notify", "test"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("5 of 5 channel(s) worked");
    expect(json("json")[0]).toMatchObject({ event: "test" });
    expect(smtp.mails[0]?.subject).toMatch(/^ilobby-sync test: /);
    expect(pingPaths()).toEqual(["(success)"]);
    expect(result.stdout).not.toContain(SLACK_TOKEN_PATH);
    expectNoSecrets();
  });

  it("a missing secret or a refused login fails that channel only, with exit code 2", async () => {
    writeConfig();
    const result = await run(["notify", "test", "--json"], {
      ILOBBY_SYNC_SMTP_PASSWORD: "wrong-password",
      ILOBBY_SYNC_SLACK_WEBHOOK: "",
    });
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout);
    const failed = report.channels.filter((channel: { ok: boolean }) => !channel.ok);
    expect(failed.map((channel: { channel: string }) => channel.channel)).toEqual([
      "webhook (slack) from secret slack-webhook",
      `email smtp://127.0.0.1:${smtp.port}`,
    ]);
    expect(failed[1].error).toMatch(/535|Invalid/);
    expect(failed[1].attempts).toBe(1);
    expect(result.stdout + result.stderr).not.toContain("wrong-password");
  });
});
