/** Webhook and ping URLs carry a token: only their scheme and host may ever be shown. */

/** "https://hooks.slack.com": what may be shown of a URL that carries a token. */
export function schemeAndHost(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return "(not a valid URL)";
  }
}

/**
 * What to hide of a secret URL: everything after the host, so "https://host/token" prints as
 * "https://host[REDACTED]"; a URL that does not parse is hidden whole.
 */
export function secretPartsOf(url: string): string[] {
  const authority = /^https?:\/\/[^/?#\s]+/i.exec(url.trim());
  const rest = authority ? url.trim().slice(authority[0].length) : url;
  const parts = [rest];
  // undici and URL print the normalised form (no default port, encoded path): hide that too.
  try {
    const parsed = new URL(url);
    parts.push(`${parsed.pathname}${parsed.search}${parsed.hash}`);
  } catch {}
  return [...new Set(parts)].filter((part) => part.length > 1);
}
