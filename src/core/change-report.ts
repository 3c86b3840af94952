/**
 * The HTML change report: one self-contained page a person can open from an email attachment, read, print and
 * forward for approval. Inline CSS only, no script, no image, no link to anything outside the page (a Content
 * Security Policy forbids loading anything at all), and every value from the directory or a CSV escaped: directory
 * data is untrusted. Pure: the caller supplies the time, host and run id.
 */
import { COLUMNS, type Column, type Row } from "./columns.ts";
import type { UpdatedRecord, UploadDiff } from "./diff.ts";
import { emailKey } from "./email.ts";
import type { GuardVerdict } from "./guard.ts";
import type { RecordWarning, SkippedRecord } from "./mapping.ts";
import { RENAME_CONSEQUENCE, type RenamedRecord } from "./renames.ts";

export interface ReportTarget {
  name: string;
  clientId: string;
  /** The rows of this upload: their SITE groups the updated records. */
  rows: readonly Row[];
  diff: UploadDiff;
  previous: "found" | "missing" | "corrupt";
  guard: GuardVerdict;
  status: "planned" | "uploaded" | "failed";
  /** Why the target failed, when it did. */
  error?: string | undefined;
  /** Where the plan of a stopped target was saved, and the command that applies it. */
  plan?: { path: string; command: string } | undefined;
}

export interface ChangeReport {
  /** The command as a person would recognise it: "run --dry-run", "upload staff.csv", "apply plan.json". */
  command: string;
  runId: string;
  /** ISO 8601. */
  createdAt: string;
  host: string;
  /** Nothing was (or will be) sent: a preview. */
  dryRun: boolean;
  /** For `apply`: the run that made the plan. */
  planRunId?: string | undefined;
  targets: readonly ReportTarget[];
  skipped: readonly SkippedRecord[];
  warnings: readonly RecordWarning[];
}

const KEPT_NOTE = "iLobby keeps the old value";
const NO_SITE = "(no SITE)";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced
const UNSHOWABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/**
 * Text made safe for HTML text and attribute values. Control characters and bidirectional embeddings, overrides
 * and isolates (never needed in a name, and able to make a value read as something else) become U+FFFD; each
 * table cell is also isolated by CSS, so right-to-left names cannot reorder their neighbours.
 */
export function escapeHtml(value: string): string {
  return value
    .replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
    .replace(UNSHOWABLE, "\uFFFD");
}

const cell = (value: string, className?: string) =>
  `<td${className ? ` class="${className}"` : ""}>${value === "" ? '<span class="empty">(empty)</span>' : escapeHtml(value)}</td>`;

function formatTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

const fullName = (row: Row) => [row.FIRSTNAME, row.LASTNAME].filter(Boolean).join(" ");

/** Sites in alphabetical order, records without a SITE last. */
function compareSites(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "") return 1;
  if (b === "") return -1;
  return a.localeCompare(b, "en");
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups].sort(([a], [b]) => compareSites(a, b));
}

const siteTitle = (site: string) => `SITE ${site === "" ? NO_SITE : escapeHtml(site)}`;

/** One table, one <tbody> per group with a heading row: readable on screen and in print (headers repeat). */
function groupedTable<T>(
  headers: readonly string[],
  items: readonly T[],
  group: { keyOf: (item: T) => string; title: (key: string) => string },
  rowsOf: (item: T) => string[],
): string {
  const head = `<thead><tr>${headers.map((header) => `<th scope="col">${escapeHtml(header)}</th>`).join("")}</tr></thead>`;
  const bodies = groupBy(items, group.keyOf).map(([key, members]) => {
    const title = `<tr class="group"><th colspan="${headers.length}" scope="rowgroup">${group.title(key)} <span class="count">(${members.length})</span></th></tr>`;
    return `<tbody>${title}${members.flatMap(rowsOf).join("")}</tbody>`;
  });
  return `<table>${head}${bodies.join("")}</table>`;
}

function section(id: string, title: string, count: number, content: string, empty: string): string {
  return `<section class="list ${id}"><h3>${escapeHtml(title)} <span class="count">(${count})</span></h3>${
    count === 0 ? `<p class="none">${escapeHtml(empty)}</p>` : content
  }</section>`;
}

function addedTable(rows: readonly Row[]): string {
  return groupedTable(
    ["EMAIL", "FIRSTNAME", "LASTNAME", "TITLE", "DIVISION", "MOBILE", "DESKPHONE"],
    rows,
    { keyOf: (row) => row.SITE, title: siteTitle },
    (row) => [
      `<tr>${(["EMAIL", "FIRSTNAME", "LASTNAME", "TITLE", "DIVISION", "MOBILE", "DESKPHONE"] as const)
        .map((column) => cell(row[column]))
        .join("")}</tr>`,
    ],
  );
}

function updatedTable(updated: readonly UpdatedRecord[], rows: readonly Row[]): string {
  const siteByEmail = new Map(rows.map((row) => [emailKey(row.EMAIL), row.SITE]));
  const order = (column: Column) => COLUMNS.indexOf(column);
  return groupedTable(
    ["EMAIL", "field", "old value", "new value"],
    updated,
    { keyOf: (record) => siteByEmail.get(emailKey(record.email)) ?? "", title: siteTitle },
    (record) => {
      const changes = [
        ...record.changes.map((change) => ({ ...change, kept: false })),
        ...record.clearedButKept.map((column) => ({ column, from: "", to: "", kept: true })),
      ].sort((a, b) => order(a.column) - order(b.column));
      return changes.map((change, index) => {
        const email =
          index === 0 ? `<td rowspan="${changes.length}" class="email">${escapeHtml(record.email)}</td>` : "";
        const next = change.kept
          ? `<td class="kept"><span class="empty">(empty)</span> <strong class="flag">${KEPT_NOTE}</strong></td>`
          : cell(change.to, "new");
        const from = change.kept
          ? '<td><span class="empty">(unchanged in iLobby)</span></td>'
          : cell(change.from, "old");
        return `<tr>${email}<td class="field">${change.column}</td>${from}${next}</tr>`;
      });
    },
  );
}

function renamedTable(renamed: readonly RenamedRecord[]): string {
  return `<p class="note">${escapeHtml(RENAME_CONSEQUENCE)}.</p>${groupedTable(
    ["old EMAIL", "new EMAIL", "name"],
    renamed,
    { keyOf: (rename) => rename.to.SITE, title: siteTitle },
    (rename) => [
      `<tr>${cell(rename.from.EMAIL, "old")}${cell(rename.to.EMAIL, "new")}${cell(fullName(rename.to))}</tr>`,
    ],
  )}`;
}

function disabledTable(rows: readonly Row[]): string {
  return groupedTable(
    ["EMAIL", "name", "TITLE", "DIVISION"],
    rows,
    { keyOf: (row) => row.SITE, title: siteTitle },
    (row) => [`<tr>${cell(row.EMAIL)}${cell(fullName(row))}${cell(row.TITLE)}${cell(row.DIVISION)}</tr>`],
  );
}

function siteSummary(target: ReportTarget): string {
  const counts = new Map<string, { rows: number; added: number; updated: number; disabled: number }>();
  const entry = (site: string) => {
    let found = counts.get(site);
    if (!found) {
      found = { rows: 0, added: 0, updated: 0, disabled: 0 };
      counts.set(site, found);
    }
    return found;
  };
  const siteByEmail = new Map<string, string>();
  for (const row of target.rows) {
    entry(row.SITE).rows++;
    siteByEmail.set(emailKey(row.EMAIL), row.SITE);
  }
  for (const row of target.diff.added) entry(row.SITE).added++;
  for (const record of target.diff.updated) entry(siteByEmail.get(emailKey(record.email)) ?? "").updated++;
  for (const row of target.diff.disabled) entry(row.SITE).disabled++;
  if (counts.size === 0) return "";
  const body = [...counts]
    .sort(([a], [b]) => compareSites(a, b))
    .map(
      ([site, count]) =>
        `<tr><th scope="row">${site === "" ? NO_SITE : escapeHtml(site)}</th><td class="n">${count.rows}</td><td class="n">${count.added}</td><td class="n">${count.updated}</td><td class="n">${count.disabled}</td></tr>`,
    )
    .join("");
  return `<table class="sites"><thead><tr><th scope="col">SITE</th><th scope="col">records</th><th scope="col">added</th><th scope="col">updated</th><th scope="col">disabled</th></tr></thead><tbody>${body}</tbody></table>`;
}

function verdict(target: ReportTarget, dryRun: boolean): string {
  const { guard } = target;
  if (!guard.ok) {
    return `<p class="verdict stop"><strong>Safety guard: stop.</strong> ${escapeHtml(guard.message)}${dryRun ? " (a real run would stop here)" : ""}</p>`;
  }
  const limit = guard.limit === undefined ? "" : ` (at most ${guard.limit} may be disabled)`;
  return `<p class="verdict ok"><strong>Safety guard: passed</strong>${escapeHtml(limit)}.</p>`;
}

function outcome(target: ReportTarget, dryRun: boolean): string {
  const lines: string[] = [];
  if (target.status === "uploaded")
    lines.push('<p class="outcome ok">Uploaded: iLobby accepted this change.</p>');
  else if (target.status === "failed" && !target.guard.ok)
    lines.push('<p class="outcome stop">Nothing was uploaded: the safety guard stopped this target.</p>');
  else if (target.status === "failed")
    lines.push(
      `<p class="outcome stop">Nothing was uploaded: ${escapeHtml(target.error ?? "the target failed")}</p>`,
    );
  else if (dryRun) lines.push('<p class="outcome">Preview: nothing was uploaded.</p>');
  if (target.plan) {
    lines.push(
      `<p class="plan">The change was saved as a plan: <code>${escapeHtml(target.plan.path)}</code>. After review, apply exactly it with:</p><pre><code>${escapeHtml(target.plan.command)}</code></pre>`,
    );
  }
  if (target.previous !== "found") {
    const why =
      target.previous === "corrupt"
        ? "The last upload of this target could not be read, so this report cannot list who will be disabled"
        : "No earlier upload is recorded for this target";
    lines.push(`<p class="note">${why}: hosts already in iLobby but not listed here will be disabled.</p>`);
  }
  return lines.join("");
}

function targetSection(target: ReportTarget, dryRun: boolean): string {
  const { diff } = target;
  const totals = [
    ["records to upload", target.rows.length],
    ["added", diff.added.length],
    ["updated", diff.updated.length],
    ["renamed", diff.renamed.length],
    ["disabled", diff.disabled.length],
    ["unchanged", diff.unchanged],
    ["in the last upload", diff.previousCount],
  ] as const;
  return `<section class="target">
<h2>Target ${escapeHtml(target.name)} <span class="client">client ${escapeHtml(target.clientId)}</span></h2>
<dl class="totals">${totals.map(([label, count]) => `<div><dt>${label}</dt><dd>${count}</dd></div>`).join("")}</dl>
${verdict(target, dryRun)}${outcome(target, dryRun)}
${siteSummary(target)}
${section("added", "Added", diff.added.length, addedTable(diff.added.slice()), "No one is added.")}
${section("updated", "Updated (old -> new)", diff.updated.length, updatedTable(diff.updated, target.rows), "No one is updated.")}
${section("renamed", "Renamed (old -> new EMAIL)", diff.renamed.length, renamedTable(diff.renamed), "No one is renamed.")}
${section("disabled", "Disabled", diff.disabled.length, disabledTable(diff.disabled.slice()), "No one is disabled.")}
</section>`;
}

function skippedSection(skipped: readonly SkippedRecord[]): string {
  return section(
    "skipped",
    "Skipped (not uploaded)",
    skipped.length,
    groupedTable(
      ["directory entry", "EMAIL", "why"],
      skipped,
      { keyOf: (skip) => skip.reason, title: (reason) => `reason: ${escapeHtml(reason)}` },
      (skip) => [`<tr>${cell(skip.ref)}${cell(skip.email)}${cell(skip.message)}</tr>`],
    ),
    "No record was skipped.",
  );
}

function warningsSection(warnings: readonly RecordWarning[]): string {
  if (warnings.length === 0) return "";
  const rows = warnings.map((warning) => `<tr>${cell(warning.email)}${cell(warning.message)}</tr>`).join("");
  return `<section class="list warnings"><h3>Warnings <span class="count">(${warnings.length})</span></h3><table><thead><tr><th scope="col">EMAIL</th><th scope="col">warning</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #1b1f24; padding-bottom: .2rem; margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.client, .count { font-weight: normal; color: #57606a; font-size: .9em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .75rem 0; }
dl.meta dt { color: #57606a; }
dl.meta dd { margin: 0; }
dl.totals { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
dl.totals div { border: 1px solid #d0d7de; border-radius: 6px; padding: .35rem .75rem; min-width: 6rem; }
dl.totals dt { color: #57606a; font-size: .85em; }
dl.totals dd { margin: 0; font-size: 1.35rem; font-weight: 600; }
.verdict, .outcome, .note, .plan { padding: .5rem .75rem; border-radius: 6px; margin: .5rem 0; }
.ok { background: #dafbe1; border-left: 4px solid #1a7f37; }
.stop { background: #ffebe9; border-left: 4px solid #cf222e; }
.note, .plan, .outcome { background: #f6f8fa; border-left: 4px solid #8c959f; }
pre { background: #f6f8fa; padding: .5rem .75rem; border-radius: 6px; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: .25rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; unicode-bidi: isolate; white-space: pre-wrap; overflow-wrap: anywhere; }
thead th { background: #eaeef2; }
tr.group th { background: #f6f8fa; font-size: .95em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.old { color: #82071e; text-decoration: line-through; text-decoration-color: #cf222e88; }
td.new { color: #116329; }
td.field { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; }
.empty { color: #8c959f; font-style: italic; }
.flag { color: #9a6700; background: #fff8c5; padding: 0 .25rem; border-radius: 3px; }
.none { color: #57606a; }
table.sites { width: auto; }
footer { margin-top: 3rem; color: #57606a; font-size: .85em; border-top: 1px solid #d0d7de; padding-top: .5rem; }
@media print {
  body { font-size: 10pt; margin: 0; max-width: none; }
  h2 { break-before: page; }
  section.target:first-of-type h2 { break-before: auto; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  .ok, .stop, .note, .plan, .outcome, thead th, tr.group th, .flag { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}`;

export function renderChangeReport(report: ChangeReport): string {
  const failed = report.targets.filter((target) => target.status === "failed").length;
  const summary = report.dryRun
    ? "Preview: nothing was uploaded."
    : failed === 0
      ? "Every target was uploaded."
      : `${failed} of ${report.targets.length} target(s) were not uploaded.`;
  const meta = [
    ["Command", `ilobby-sync ${report.command}`],
    ["Run id", report.runId],
    ...(report.planRunId ? [["Plan made by run", report.planRunId]] : []),
    ["Time", formatTime(report.createdAt)],
    ["Host", report.host],
    ["Outcome", summary],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>iLobby Address Book change report, ${escapeHtml(formatTime(report.createdAt))}</title>
<style>${STYLE}
</style>
</head>
<body>
<header>
<h1>iLobby Address Book: change report</h1>
<dl class="meta">${meta.map(([label, value]) => `<dt>${escapeHtml(label ?? "")}</dt><dd>${escapeHtml(value ?? "")}</dd>`).join("")}</dl>
</header>
<main>
${report.targets.map((target) => targetSection(target, report.dryRun)).join("\n")}
<h2>Records not uploaded</h2>
${skippedSection(report.skipped)}
${warningsSection(report.warnings)}
</main>
<footer>Made by ilobby-sync. Matching is by EMAIL (case-insensitive); a field left empty in an upload keeps its old value in iLobby; people missing from an upload are disabled. This page holds personal data: share it only with the people who must approve the change.</footer>
</body>
</html>
`;
}
