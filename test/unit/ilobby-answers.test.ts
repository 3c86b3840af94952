import { describe, expect, it } from "vitest";
import { endpointUrl, isHtmlPage, refusedRedirect } from "../../src/adapters/ilobby/http-errors.ts";
import { parseConfigText } from "../../src/core/config/index.ts";

const BASE = "https://partnerapi.goilobby.com";

describe("isHtmlPage", () => {
  it("recognises web pages that web filters and captive portals serve", () => {
    expect(isHtmlPage("<!DOCTYPE html><html><body>blocked</body></html>")).toBe(true);
    expect(isHtmlPage('  \n<html lang="en"><head><title>Login</title>')).toBe(true);
    expect(isHtmlPage('<?xml version="1.0"?><!doctype html><html>')).toBe(true);
    expect(isHtmlPage("<HEAD><META http-equiv=refresh content=0;url=http://portal/>")).toBe(true);
  });

  it("leaves iLobby's own answers alone", () => {
    expect(isHtmlPage("Upload complete: 3 records (3 added, 0 updated, 0 unchanged, 0 disabled)")).toBe(
      false,
    );
    expect(isHtmlPage('{"access_token":"x","expires_in":3600}')).toBe(false);
    expect(isHtmlPage("")).toBe(false);
    expect(isHtmlPage("Rows with <b>no</b> SITE were skipped")).toBe(false);
  });
});

describe("endpointUrl", () => {
  it("keeps a path on baseUrl's host", () => {
    expect(endpointUrl(BASE, "/auth/connect/token", "ilobby.tokenPath")).toBe(`${BASE}/auth/connect/token`);
  });

  it("refuses a path that leads to another host, whatever reached the client", () => {
    expect(() => endpointUrl(BASE, "//evil.example/token", "ilobby.tokenPath")).toThrow(
      /ilobby.tokenPath leads to https:\/\/evil.example, not to ilobby.baseUrl's host/,
    );
    expect(() => endpointUrl(BASE, "/\\evil.example/token", "ilobby.tokenPath")).toThrow(/evil.example/);
    expect(() => endpointUrl(BASE, "http://evil.example/", "ilobby.uploadPath")).toThrow(/uploadPath/);
  });
});

describe("refusedRedirect", () => {
  const token = `${BASE}/auth/connect/token`;
  it("explains a redirect to http:// as the secret sent unencrypted", () => {
    const error = refusedRedirect("token", token, 307, "http://partnerapi.goilobby.com/auth/connect/token");
    expect(error.category).toBe("ilobby");
    expect(error.likelyCause).toMatch(/client secret unencrypted/);
    expect(error.data).toMatchObject({ status: 307 });
  });

  it("explains a redirect to another host, and one without a Location", () => {
    expect(refusedRedirect("upload", token, 302, "https://portal.example/login").likelyCause).toMatch(
      /address book to another host/,
    );
    expect(refusedRedirect("upload", token, 302, null).message).toMatch(/an address it did not give/);
  });

  it("points a same-origin move at the setting to change", () => {
    expect(refusedRedirect("upload", token, 308, "/v2/upload").fix).toMatch(
      /if \/v2\/upload is iLobby's upload endpoint, set ilobby.uploadPath to it/,
    );
  });
});

describe("tokenPath and uploadPath in the config", () => {
  const config = (ilobby: string) =>
    parseConfigText(
      `ilobby: { clientId: a, ${ilobby} }\ndirectory: { url: ldaps://dc, bindDn: a, searchBases: [a] }\n`,
    );

  it.each(["//evil.example/token", "/\\\\evil.example/token", "token", '"/\\t/evil.example"', '"/a b"'])(
    "refuses %s",
    (path) => {
      const result = config(`tokenPath: ${path}`);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems[0]?.path).toBe("ilobby.tokenPath");
    },
  );

  it("accepts ordinary paths", () => {
    expect(config("tokenPath: /auth/connect/token, uploadPath: /api/v2/addressbook/upload?x=1").ok).toBe(
      true,
    );
  });
});
