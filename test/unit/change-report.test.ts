import { describe, expect, it } from "vitest";
import { type ChangeReport, escapeHtml, renderChangeReport } from "../../src/core/change-report.ts";
import { COLUMNS, type Row } from "../../src/core/columns.ts";
import { diffUploads } from "../../src/core/diff.ts";

/** Strings a hostile directory could hold: markup, script, attribute breaks, URLs, control and bidi characters. */
const HOSTILE = [
  "<img src=x onerror=alert(1)>",
  '"><script>alert(document.domain)</script>',
  "' onmouseover='alert(1)",
  '<a href="https://evil.example/steal">click</a>',
  "</td></tr></table><iframe src=//evil.example>",
  "<style>body{background:url(https://evil.example/x.png)}</style>",
  "&amp; &lt;not an entity&gt;",
  "\u202Eevil\u202C \u0007bell\u001B[31m",
];

const hostileRow = (index: number, email: string): Row =>
  Object.fromEntries(
    COLUMNS.map((column) => [
      column,
      column === "EMAIL" ? email : `${HOSTILE[(index + COLUMNS.indexOf(column)) % HOSTILE.length]}`,
    ]),
  ) as Row;

function report(): ChangeReport {
  const before = [
    hostileRow(0, "stay@x.test"),
    hostileRow(1, "gone@x.test"),
    { ...hostileRow(2, "emptied@x.test"), MOBILE: "+1 416 555 0100" },
  ];
  const after = [
    hostileRow(3, "stay@x.test"),
    hostileRow(4, "new<script>@x.test"),
    { ...hostileRow(2, "emptied@x.test"), MOBILE: "" },
  ];
  return {
    command: "run --dry-run",
    runId: "run-<b>1</b>",
    createdAt: "2026-12-07T10:00:00.000Z",
    host: "<host>",
    dryRun: true,
    targets: [
      {
        name: "default<i>",
        clientId: 'client"1',
        rows: after,
        diff: diffUploads(before, after),
        previous: "found",
        guard: {
          ok: false,
          reason: "too-many-disabled",
          limit: 0,
          message: "1 of 3 hosts <b>would</b> be disabled",
        },
        status: "planned",
      },
    ],
    skipped: HOSTILE.map((value, index) => ({
      ref: `CN=${value},OU=People`,
      email: `${value}@x.test`,
      reason: index % 2 ? "invalid-email" : "unknown-site",
      message: `SITE "${value}" is not in sites`,
    })),
    warnings: [{ ref: "CN=W", email: "w@x.test", message: HOSTILE[0] as string }],
  };
}

/** The markup the page itself writes: every tag, with directory data reduced to escaped text between them. */
const tags = (html: string) =>
  [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((match) => match[1]?.toLowerCase());

describe("the HTML change report", () => {
  it("escapes every value: no hostile string survives as markup", () => {
    const html = renderChangeReport(report());
    for (const value of HOSTILE) {
      if (/[<>"'&]/.test(value)) expect(html).not.toContain(value);
    }
    expect(html).toContain(escapeHtml(HOSTILE[0] as string));
    expect(new Set(tags(html))).toEqual(
      new Set([
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "dl",
        "dt",
        "dd",
        "main",
        "section",
        "h2",
        "span",
        "div",
        "p",
        "strong",
        "table",
        "thead",
        "tr",
        "th",
        "tbody",
        "td",
        "h3",
        "footer",
      ]),
    );
    // Control characters and bidi overrides never reach the page.
    for (const code of [0x07, 0x1b, 0x202e, 0x202c]) expect(html).not.toContain(String.fromCharCode(code));
    expect(html).toContain("\uFFFDevil\uFFFD \uFFFDbell\uFFFD[31m");
  });

  it("loads nothing: no URL, no script, and a policy that forbids loading anything", () => {
    const html = renderChangeReport(report());
    // Every < and > of the data is escaped, so these are the page's own tags: none may reference anything.
    const markup = html.match(/<[^>]*>/g) ?? [];
    expect(markup.length).toBeGreaterThan(100);
    for (const tag of markup) expect(tag).not.toMatch(/\b(src|href|action|srcset|style|on\w+)\s*=|:\/\//i);
    const style = /<style>([^<]*)<\/style>/.exec(html)?.[1];
    expect(style).toContain("@media print");
    expect(style).not.toMatch(/url\(|@import|:\/\//i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it("shows totals, the guard's verdict, old -> new, emptied fields kept by iLobby, and groups by SITE", () => {
    const html = renderChangeReport(report());
    expect(html).toMatch(/<dt>records to upload<\/dt><dd>3<\/dd>/);
    expect(html).toMatch(
      /Safety guard: stop\.<\/strong> 1 of 3 hosts &#60;b&#62;would&#60;\/b&#62; be disabled \(a real run would stop here\)/,
    );
    expect(html).toContain("iLobby keeps the old value");
    expect(html).toMatch(/<td class="field">MOBILE<\/td>/);
    expect(html).toMatch(/<td class="old">.*<\/td><td class="new">/);
    expect(html).toMatch(/scope="rowgroup">SITE /);
    expect(html).toContain("Preview: nothing was uploaded.");
  });

  it("says when the last upload is unknown: none recorded, or a damaged state", () => {
    const base = report().targets[0] as ChangeReport["targets"][0];
    const page = (previous: "missing" | "corrupt") =>
      renderChangeReport({ ...report(), targets: [{ ...base, previous }] });
    expect(page("missing")).toContain(
      "No earlier upload is recorded for this target: hosts already in iLobby",
    );
    expect(page("corrupt")).toContain("could not be read, so this report cannot list who will be disabled");
    expect(renderChangeReport(report())).not.toContain("hosts already in iLobby but not listed");
  });

  it("orders SITE groups alphabetically with records without a SITE last", () => {
    const rows = ["Zurich", "", "Amsterdam"].map((site, index) => ({
      ...hostileRow(0, `p${index}@x.test`),
      SITE: site,
    }));
    const html = renderChangeReport({
      ...report(),
      targets: [
        { ...(report().targets[0] as ChangeReport["targets"][0]), rows, diff: diffUploads([], rows) },
      ],
    });
    const groups = [...html.matchAll(/scope="rowgroup">SITE ([^<]+) </g)].map((match) => match[1]);
    expect(groups.slice(0, 3)).toEqual(["Amsterdam", "Zurich", "(no SITE)"]);
  });
});
