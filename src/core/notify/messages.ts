/**
 * Every notification format, from one SyncReport: the one-line summary, the plain text (ping body and e-mail),
 * our JSON document, a Teams Adaptive Card and a Slack message. Pure. Values from the directory are untrusted:
 * control characters are removed everywhere; Slack's `text` gets its three escapes (&, <, >) and its blocks
 * carry directory values only as plain_text; the Adaptive Card carries them only in TextRuns, which Teams does
 * not read as Markdown.
 */
import type { NotifyConfig, NotifyEvent } from "./config.ts";
import { EXAMPLES_PER_KIND, reportEvent, type SyncReport, type TargetReport } from "./report.ts";

export type Details = NotifyConfig["details"];

/** healthchecks.io keeps at most this much of a ping's body. */
const PING_BODY_LIMIT = 10_000;

// C0 and C1 controls, DEL, and the bidirectional overrides that can make a line read differently than it is.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const UNSAFE_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** A value fit for any text: no control characters; with `oneLine`, no line breaks either. */
export function cleanText(value: string, oneLine = true): string {
  const cleaned = value.replace(UNSAFE_CHARACTERS, "\uFFFD");
  return oneLine ? cleaned.replace(/[\t\n]+/g, " ") : cleaned.replace(/\t/g, " ");
}

const EVENT_TITLES: Record<NotifyEvent, string> = {
  failure: "sync failed",
  guard: "safety guard stopped the sync",
  warning: "synced with warnings",
  success: "synced",
};

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function countsText(target: TargetReport): string {
  const { counts } = target;
  const renamed = counts.renamed ? `, renamed ${counts.renamed}` : "";
  return `added ${counts.added}, updated ${counts.updated}${renamed}, disabled ${counts.disabled}, unchanged ${counts.unchanged}, skipped ${counts.skipped}`;
}

/** The one line that says what happened: e-mail subjects, Slack's fallback text, the card's first line. */
export function summaryLine(report: SyncReport): string {
  if (report.test) return "test message: this channel works";
  const event = reportEvent(report);
  const failed = report.targets.filter((target) => target.status === "failed");
  const problem = report.error ?? failed[0]?.error;
  if ((event === "failure" || event === "guard") && problem) {
    const others = failed.length > 1 ? ` (and ${plural(failed.length - 1, "other target")})` : "";
    return cleanText(`${problem.message}${others}`);
  }
  if (event === "failure") return `exit code ${report.exitCode}`;
  const total = (kind: "added" | "updated" | "disabled") =>
    report.targets.reduce((sum, target) => sum + target.counts[kind], 0);
  const changes = `${total("added")} added, ${total("updated")} updated, ${total("disabled")} disabled`;
  const verb = report.dryRun ? "dry run of" : "synced";
  const warnings = report.warnings.length > 0 ? `; ${plural(report.warnings.length, "warning")}` : "";
  return `${verb} ${plural(report.targets.length, "target")}: ${changes}${warnings}`;
}

export function emailSubject(report: SyncReport): string {
  const event = report.test ? "test" : reportEvent(report);
  return cleanText(`ilobby-sync ${event}: ${summaryLine(report)} (${report.host})`).slice(0, 250);
}

function exampleLines(report: SyncReport, target: TargetReport, details: Details): string[] {
  if (details !== "examples") return [];
  const lines: string[] = [];
  for (const kind of ["added", "updated", "disabled"] as const) {
    const emails = target.examples[kind].slice(0, EXAMPLES_PER_KIND);
    if (emails.length === 0) continue;
    const more = target.counts[kind] - emails.length;
    lines.push(
      `  ${kind}: ${emails.map((email) => cleanText(email)).join(", ")}${more > 0 ? ` (+${more} more)` : ""}`,
    );
  }
  return report.test ? [] : lines;
}

function errorLines(error: SyncReport["error"], indent: string): string[] {
  if (!error) return [];
  return [
    `${indent}error (${error.category}): ${cleanText(error.message)}`,
    ...(error.cause ? [`${indent}  cause: ${cleanText(error.cause)}`] : []),
    ...(error.fix ? [`${indent}  fix:   ${cleanText(error.fix)}`] : []),
  ];
}

/** The plain-text message: the e-mail body and (cut to 10 kB) the ping body. */
export function plainText(report: SyncReport, details: Details): string {
  const event = reportEvent(report);
  const lines = [
    report.test
      ? `ilobby-sync ${report.version} on ${report.host}: test message, sent by \`ilobby-sync notify test\`.`
      : `ilobby-sync ${report.command}${report.dryRun ? " --dry-run" : ""} on ${report.host}: ${EVENT_TITLES[event]} (exit code ${report.exitCode})`,
    summaryLine(report),
    ...errorLines(report.error, ""),
  ];
  for (const target of report.targets) {
    lines.push("", `Target ${cleanText(target.target)}: ${target.status}`, `  ${countsText(target)}`);
    lines.push(...exampleLines(report, target, details), ...errorLines(target.error, "  "));
    if (target.plan) {
      lines.push(
        `  the change was saved as a plan: ${cleanText(target.plan.path)}`,
        `  after review, apply it with: ${cleanText(target.plan.command)}`,
      );
    }
  }
  if (report.warnings.length > 0) {
    lines.push("", `Warnings (${report.warnings.length}):`);
    for (const warning of report.warnings) {
      const examples =
        details === "examples" && warning.examples?.length
          ? `: ${warning.examples.map((email) => cleanText(email)).join(", ")}`
          : "";
      lines.push(`  - ${cleanText(warning.message)}${examples}`);
    }
  }
  if (report.reportFile) lines.push("", `Change report: ${cleanText(report.reportFile)}`);
  lines.push("", `run id ${report.runId}, ilobby-sync ${report.version}`);
  return lines.join("\n");
}

/** At most `limit` bytes of UTF-8, never cutting a character in two, with a note when something was cut. */
export function truncateUtf8(text: string, limit: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= limit) return text;
  const note = "\n[... cut to 10 kB]";
  let cut = limit - new TextEncoder().encode(note).length;
  // Step back over continuation bytes (10xxxxxx) to a character boundary.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return `${new TextDecoder().decode(bytes.subarray(0, cut))}${note}`;
}

export function pingBody(report: SyncReport, details: Details): string {
  return truncateUtf8(plainText(report, details), PING_BODY_LIMIT);
}

/** Our own JSON document (webhook format `json`). JSON needs no escaping beyond what JSON.stringify does. */
export function jsonPayload(report: SyncReport, details: Details) {
  const examples = details === "examples" && !report.test;
  return {
    event: report.test ? "test" : reportEvent(report),
    host: report.host,
    version: report.version,
    runId: report.runId,
    command: report.command,
    dryRun: report.dryRun,
    exitCode: report.exitCode,
    summary: summaryLine(report),
    // The command's own failure, else the first stopped or failed target's: `error.category` says what happened.
    error: report.error ?? report.targets.find((target) => target.error)?.error ?? null,
    targets: report.targets.map((target) => ({
      target: target.target,
      status: target.status,
      counts: target.counts,
      ...(examples ? { examples: target.examples } : {}),
      error: target.error ?? null,
      plan: target.plan ?? null,
    })),
    warnings: report.warnings.map((warning) => ({
      kind: warning.kind,
      message: warning.message,
      ...(examples && warning.examples ? { examples: warning.examples } : {}),
    })),
  };
}

// ---- Teams: an Adaptive Card in the message envelope that Workflows webhooks accept ----

const CARD_COLORS: Record<NotifyEvent, string> = {
  failure: "Attention",
  guard: "Attention",
  warning: "Warning",
  success: "Good",
};

/**
 * Text for a TextRun: Markdown is not read there, but the DATE()/TIME() functions are, so "{{" is broken with a
 * zero-width space.
 */
function runText(value: string, oneLine = true): string {
  return cleanText(value, oneLine).replace(/\{\{/g, "{\u200b{").replace(/\}\}/g, "}\u200b}");
}

function richText(text: string, options: Record<string, unknown> = {}) {
  return { type: "RichTextBlock", inlines: [{ type: "TextRun", text: runText(text, false), ...options }] };
}

/** Our own labels in a FactSet (which Teams reads as Markdown): only digits, letters and escaped punctuation. */
function markdownEscape(value: string): string {
  return cleanText(value).replace(/[\\`*_{}[\]()#+\-.!|~<>]/g, "\\$&");
}

export function teamsPayload(report: SyncReport, details: Details) {
  const event = reportEvent(report);
  const title = report.test ? "ilobby-sync: test message" : `ilobby-sync: ${EVENT_TITLES[event]}`;
  const body: unknown[] = [
    {
      type: "TextBlock",
      text: title,
      weight: "Bolder",
      size: "Medium",
      wrap: true,
      color: report.test ? "Default" : CARD_COLORS[event],
    },
    richText(`${summaryLine(report)} (${report.host})`),
  ];
  if (report.error) body.push(richText(errorLines(report.error, "").join("\n"), { color: "Attention" }));
  for (const target of report.targets) {
    body.push({
      type: "TextBlock",
      text: `Target ${markdownEscape(target.target)}: ${target.status}`,
      weight: "Bolder",
      wrap: true,
      spacing: "Medium",
    });
    body.push({
      type: "FactSet",
      facts: (["added", "updated", "renamed", "disabled", "unchanged", "skipped"] as const)
        .filter((kind) => kind !== "renamed" || target.counts.renamed)
        .map((kind) => ({ title: kind, value: String(target.counts[kind] ?? 0) })),
    });
    const examples = exampleLines(report, target, details);
    if (examples.length > 0) body.push(richText(examples.map((line) => line.trim()).join("\n")));
    if (target.error) body.push(richText(errorLines(target.error, "").join("\n"), { color: "Attention" }));
    if (target.plan) {
      body.push(richText(`The change was saved as a plan. After review, apply it with:`));
      body.push(richText(target.plan.command, { fontType: "Monospace" }));
    }
  }
  if (report.warnings.length > 0) {
    body.push({
      type: "TextBlock",
      text: `Warnings (${report.warnings.length})`,
      weight: "Bolder",
      wrap: true,
      spacing: "Medium",
    });
    body.push(richText(warningLines(report, details).join("\n")));
  }
  body.push(
    richText(`run id ${report.runId}, ilobby-sync ${report.version}`, { isSubtle: true, size: "Small" }),
  );
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body,
          msteams: { width: "Full" },
        },
      },
    ],
  };
}

function warningLines(report: SyncReport, details: Details): string[] {
  return report.warnings.map((warning) => {
    const examples =
      details === "examples" && warning.examples?.length ? `: ${warning.examples.join(", ")}` : "";
    return `- ${cleanText(`${warning.message}${examples}`)}`;
  });
}

// ---- Slack: text (the notification's fallback, read as mrkdwn) plus blocks ----

/** Slack's documented escaping for mrkdwn text: only &, < and > are control characters there. */
export function slackEscape(value: string): string {
  return cleanText(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Slack limits: 150 characters in a header, 3,000 in a section's text, 50 blocks. */
function plainBlockText(text: string, limit = 3000) {
  const cleaned = cleanText(text, false);
  return {
    type: "plain_text",
    text: cleaned.length > limit ? `${cleaned.slice(0, limit - 1)}…` : cleaned,
    emoji: false,
  };
}

function section(text: string) {
  return { type: "section", text: plainBlockText(text) };
}

export function slackPayload(report: SyncReport, details: Details) {
  const event = reportEvent(report);
  const title = report.test ? "ilobby-sync: test message" : `ilobby-sync: ${EVENT_TITLES[event]}`;
  const blocks: unknown[] = [
    { type: "header", text: plainBlockText(title, 150) },
    section(`${summaryLine(report)} (${report.host})`),
  ];
  if (report.error) blocks.push(section(errorLines(report.error, "").join("\n")));
  for (const target of report.targets.slice(0, 10)) {
    const lines = [`Target ${target.target}: ${target.status}`, countsText(target)];
    lines.push(...exampleLines(report, target, details).map((line) => line.trim()));
    lines.push(...errorLines(target.error, ""));
    if (target.plan)
      lines.push(`The change was saved as a plan. After review, apply it with:`, target.plan.command);
    blocks.push({ type: "divider" }, section(lines.join("\n")));
  }
  if (report.warnings.length > 0) {
    blocks.push(
      section([`Warnings (${report.warnings.length}):`, ...warningLines(report, details)].join("\n")),
    );
  }
  blocks.push({
    type: "context",
    elements: [plainBlockText(`run id ${report.runId}, ilobby-sync ${report.version}`)],
  });
  return { text: slackEscape(`${title}: ${summaryLine(report)} (${report.host})`), blocks };
}
