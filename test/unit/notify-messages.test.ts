import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/core/config/schema.ts";
import { likelyWebhookFormat } from "../../src/core/notify/config.ts";
import {
  cleanText,
  emailSubject,
  jsonPayload,
  pingBody,
  plainText,
  slackEscape,
  slackPayload,
  summaryLine,
  teamsPayload,
  truncateUtf8,
} from "../../src/core/notify/messages.ts";
import { eventFor, type SyncReport, type TargetReport } from "../../src/core/notify/report.ts";
import { schemeAndHost, secretPartsOf } from "../../src/core/notify/urls.ts";
import { createRedactor } from "../../src/core/redact.ts";
import { secretNamesFor } from "../../src/core/targets.ts";

const HOSTILE =
  "Eve <!channel> *bold* _it_ [x](https://evil.test) {{DATE(2017-02-14T06:00:00Z)}} \u202eevil\u0007\nnext@x.test";

function target(overrides: Partial<TargetReport> = {}): TargetReport {
  return {
    target: "default",
    status: "uploaded",
    counts: { added: 12, updated: 1, disabled: 0, unchanged: 40, skipped: 2 },
    examples: {
      added: Array.from({ length: 10 }, (_, index) => `new${index}@example.test`),
      updated: ["changed@example.test"],
      disabled: [],
    },
    ...overrides,
  };
}

function report(overrides: Partial<SyncReport> = {}): SyncReport {
  return {
    command: "run",
    host: "sync-host",
    version: "1.2.3",
    runId: "00000000-0000-4000-8000-000000000000",
    exitCode: 0,
    dryRun: false,
    targets: [target()],
    warnings: [],
    ...overrides,
  };
}

const guardReport = () =>
  report({
    exitCode: 6,
    targets: [
      target({
        status: "failed",
        counts: { added: 0, updated: 0, disabled: 120, unchanged: 10, skipped: 0 },
        examples: { added: [], updated: [], disabled: ["gone@example.test"] },
        error: {
          category: "guard",
          message: "target default: nothing was uploaded: 120 hosts would be disabled",
        },
        plan: {
          path: "/var/lib/ilobby-sync/plans/p1.json",
          command: "ilobby-sync apply /var/lib/ilobby-sync/plans/p1.json",
        },
      }),
    ],
  });

describe("notification events", () => {
  it("follow the exit code: 6 is guard, any other non-zero a failure, 0 a warning or a success", () => {
    expect(eventFor(6, 0)).toBe("guard");
    expect(eventFor(4, 0)).toBe("failure");
    expect(eventFor(9, 3)).toBe("failure");
    expect(eventFor(1, 0)).toBe("failure");
    expect(eventFor(0, 2)).toBe("warning");
    expect(eventFor(0, 0)).toBe("success");
  });
});

describe("the summary and the e-mail subject", () => {
  it("say what happened in one line, with the host", () => {
    expect(summaryLine(report())).toBe("synced 1 target: 12 added, 1 updated, 0 disabled");
    expect(emailSubject(guardReport())).toBe(
      "ilobby-sync guard: target default: nothing was uploaded: 120 hosts would be disabled (sync-host)",
    );
    expect(
      emailSubject(
        report({ exitCode: 4, targets: [], error: { category: "directory", message: "cannot reach dc1" } }),
      ),
    ).toBe("ilobby-sync failure: cannot reach dc1 (sync-host)");
    expect(emailSubject(report({ warnings: [{ kind: "skipped", message: "2 record(s) skipped" }] }))).toBe(
      "ilobby-sync warning: synced 1 target: 12 added, 1 updated, 0 disabled; 1 warning (sync-host)",
    );
  });

  it("cannot be split into two header lines by a directory value", () => {
    const subject = emailSubject(
      report({ exitCode: 5, targets: [], error: { category: "ilobby", message: `bad\r\nBcc: x@evil.test` } }),
    );
    expect(subject).not.toMatch(/[\r\n]/);
  });
});

describe("the plain text (e-mail body, ping body)", () => {
  it("lists counts, up to 10 EMAILs per change kind, and the plan command after a guard trip", () => {
    const text = plainText(guardReport(), "examples");
    expect(text).toContain("safety guard stopped the sync (exit code 6)");
    expect(text).toContain("added 0, updated 0, disabled 120, unchanged 10, skipped 0");
    expect(text).toContain("disabled: gone@example.test (+119 more)");
    expect(text).toContain(
      "after review, apply it with: ilobby-sync apply /var/lib/ilobby-sync/plans/p1.json",
    );
    expect(plainText(report(), "examples")).toContain(
      `added: ${target().examples.added.join(", ")} (+2 more)`,
    );
  });

  it("with details: counts, names no EMAIL", () => {
    const text = plainText(
      report({
        warnings: [{ kind: "long-name", message: "1 name(s) longer", examples: ["long@example.test"] }],
      }),
      "counts",
    );
    expect(text).not.toMatch(/@example\.test/);
    expect(text).toContain("1 name(s) longer");
  });

  it("removes control characters and bidirectional overrides", () => {
    expect(cleanText("a\u0007b\u202ec\nd")).toBe("a\uFFFDb\uFFFDc d");
    const text = plainText(
      report({ targets: [target({ examples: { added: [HOSTILE], updated: [], disabled: [] } })] }),
      "examples",
    );
    expect(text).not.toContain("\u0007");
    expect(text).not.toContain("\u202e");
  });

  it("the ping body is at most 10 kB and never cuts a character in two", () => {
    const many = Array.from({ length: 400 }, (_, index) => ({
      kind: "certificate" as const,
      message: `é${index} ${"ü".repeat(20)}`,
    }));
    const body = pingBody(report({ warnings: many }), "examples");
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(10_000);
    expect(body).not.toContain("\uFFFD");
    expect(body.endsWith("[... cut to 10 kB]")).toBe(true);
    expect(truncateUtf8("short", 10_000)).toBe("short");
  });
});

describe("the webhook formats", () => {
  it("json: every field of the contract, the plan command included", () => {
    const document = jsonPayload(guardReport(), "examples");
    expect(document).toMatchObject({
      event: "guard",
      host: "sync-host",
      version: "1.2.3",
      runId: "00000000-0000-4000-8000-000000000000",
      exitCode: 6,
      error: { category: "guard" },
      targets: [
        {
          target: "default",
          counts: { added: 0, updated: 0, disabled: 120, unchanged: 10, skipped: 0 },
          examples: { disabled: ["gone@example.test"] },
          error: { category: "guard" },
          plan: { command: "ilobby-sync apply /var/lib/ilobby-sync/plans/p1.json" },
        },
      ],
    });
    expect(jsonPayload(guardReport(), "counts").targets[0]).not.toHaveProperty("examples");
    const hostile = jsonPayload(
      report({ targets: [target({ examples: { added: [HOSTILE], updated: [], disabled: [] } })] }),
      "examples",
    );
    expect(JSON.parse(JSON.stringify(hostile)).targets[0].examples.added[0]).toBe(HOSTILE);
  });

  it("teams: an Adaptive Card in a Workflows message, directory values only in TextRuns (no Markdown there)", () => {
    const message = teamsPayload(
      report({ targets: [target({ examples: { added: [HOSTILE], updated: [], disabled: [] } })] }),
      "examples",
    );
    expect(message.type).toBe("message");
    const [attachment] = message.attachments;
    expect(attachment?.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(attachment?.content).toMatchObject({ type: "AdaptiveCard", version: "1.4" });
    const body = attachment?.content.body as {
      type: string;
      text?: string;
      inlines?: { text: string }[];
      facts?: unknown[];
    }[];
    const runs = body.flatMap((element) => element.inlines ?? []).map((run) => run.text);
    expect(runs.some((text) => text.includes("Eve <!channel> *bold*"))).toBe(true);
    for (const text of runs) {
      expect(text).not.toContain("{{");
      expect(text).not.toContain("\u0007");
      expect(text).not.toContain("\u202e");
    }
    // Markdown-read places (TextBlock, FactSet) hold none of it.
    const markdownRead = JSON.stringify(body.filter((element) => element.type !== "RichTextBlock"));
    expect(markdownRead).not.toContain("Eve");
    expect(JSON.stringify(teamsPayload(guardReport(), "examples"))).toContain(
      "ilobby-sync apply /var/lib/ilobby-sync/plans/p1.json",
    );
  });

  it("slack: text escaped as Slack documents (&, <, >), directory values in blocks only as plain_text", () => {
    expect(slackEscape("a & <!channel> > b")).toBe("a &amp; &lt;!channel&gt; &gt; b");
    const hostileError = report({
      exitCode: 4,
      targets: [],
      error: { category: "directory", message: HOSTILE },
    });
    const message = slackPayload(hostileError, "examples");
    expect(message.text).not.toContain("<!channel>");
    expect(message.text).toContain("&lt;!channel&gt;");
    for (const block of message.blocks as { type: string; text?: { type: string } }[]) {
      if (block.text) expect(block.text.type).toBe("plain_text");
    }
    expect(JSON.stringify(slackPayload(guardReport(), "examples"))).toContain(
      "ilobby-sync apply /var/lib/ilobby-sync/plans/p1.json",
    );
  });
});

describe("the notify config block", () => {
  const base = {
    ilobby: { clientId: "c" },
    directory: {
      url: "ldaps://dc1.example.test",
      bindDn: "svc@example.test",
      searchBases: ["DC=example,DC=test"],
    },
  };
  const parse = (notify: unknown) => configSchema.safeParse({ ...base, notify });

  it("has the documented defaults, and lists its secrets", () => {
    const parsed = parse({
      webhooks: [{ urlSecret: "teams-webhook", format: "teams" }],
      email: { host: "smtp.example.test", username: "u", from: "a@example.test", to: ["b@example.test"] },
      pingSecret: "hc-ping",
    });
    expect(parsed.success).toBe(true);
    if (!parsed.success) return;
    expect(parsed.data.notify).toMatchObject({
      on: ["failure", "guard"],
      details: "examples",
      onDryRun: false,
    });
    expect(parsed.data.notify?.email?.port).toBe(587);
    expect(secretNamesFor(parsed.data)).toEqual([
      "client-secret",
      "bind-password",
      "teams-webhook",
      "hc-ping",
      "smtp-password",
    ]);
  });

  it("refuses http webhooks and pings, a webhook with both or neither url and urlSecret, and unknown events", () => {
    expect(parse({ webhooks: [{ url: "http://hooks.example.test/x" }] }).success).toBe(false);
    expect(parse({ ping: "http://hc-ping.example.test/x" }).success).toBe(false);
    expect(parse({ webhooks: [{ url: "https://hooks.example.test/x", urlSecret: "s" }] }).success).toBe(
      false,
    );
    expect(parse({ webhooks: [{ format: "json" }] }).success).toBe(false);
    expect(parse({ on: ["sometimes"] }).success).toBe(false);
    expect(parse({ ping: "https://hc-ping.example.test/x", pingSecret: "p" }).success).toBe(false);
  });
});

describe("likelyWebhookFormat", () => {
  it("knows Teams Workflows and Slack hosts; anything else is json", () => {
    expect(likelyWebhookFormat("https://prod-12.westeurope.logic.azure.com:443/workflows/abc")).toBe("teams");
    expect(
      likelyWebhookFormat("https://default1234.56.environment.api.powerplatform.com/powerautomate/x"),
    ).toBe("teams");
    expect(likelyWebhookFormat("https://contoso.webhook.office.com/webhookb2/x")).toBe("teams");
    expect(likelyWebhookFormat("https://hooks.slack.com/services/T/B/x")).toBe("slack");
    expect(likelyWebhookFormat("https://hooks.example.com/ilobby")).toBe("json");
    expect(likelyWebhookFormat("not a url")).toBe("json");
  });
});

describe("secret URLs", () => {
  it("show scheme and host only", () => {
    const url = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual?sig=s3cr3t";
    expect(schemeAndHost(url)).toBe("https://prod-12.westeurope.logic.azure.com");
    const redactor = createRedactor();
    for (const part of secretPartsOf(url)) redactor.add(part);
    expect(redactor.redact(`POST ${url} failed`)).toBe(
      "POST https://prod-12.westeurope.logic.azure.com:443[REDACTED] failed",
    );
    expect(secretPartsOf("not a url with a token")).toEqual(["not a url with a token"]);
  });
});
