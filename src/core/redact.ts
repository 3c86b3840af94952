/**
 * Removes secrets from anything printed or logged: the exact values known to this run (client secret, bind
 * password, tokens) and anything shaped like a credential (Bearer tokens, client_secret=..., user:pass@ in URLs).
 */
const REDACTED = "[REDACTED]";

/** Shorter values are not redacted (they would blank out ordinary words), so a secret must be at least this long. */
export const MINIMUM_SECRET_LENGTH = 4;

const CREDENTIAL_PATTERNS: [RegExp, string][] = [
  [/(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, `$1${REDACTED}`],
  // Not after "-": `bind-password:/path` names a secret (systemd LoadCredential=), it is not its value.
  [
    /((?<!-)(?:client_secret|access_token|refresh_token|password)["']?\s*[=:]\s*["']?)[^"'&\s,}]+/gi,
    `$1${REDACTED}`,
  ],
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, `$1${REDACTED}@`],
];

/**
 * commander echoes an unknown option whole, and `--password=...` or `-p...` may carry a secret typed where it does
 * not belong: keep the option's name, hide what follows it.
 */
export function hideOptionValues(message: string): string {
  return message.replace(/'(--[^'=\s]+)=[^']*'/g, "'$1=...'").replace(/'(-[^-'\s])[^']+'/g, "'$1...'");
}

export interface Redactor {
  add(secret: string | undefined): void;
  redact(text: string): string;
  redactValue<T>(value: T): T;
}

export function createRedactor(): Redactor {
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let result = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const secret of [...secrets].sort((a, b) => b.length - a.length))
      result = result.split(secret).join(REDACTED);
    for (const [pattern, replacement] of CREDENTIAL_PATTERNS) result = result.replace(pattern, replacement);
    return result;
  };
  const redactValue = <T>(value: T): T => {
    if (typeof value === "string") return redact(value) as T;
    if (Array.isArray(value)) return value.map(redactValue) as T;
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item)])) as T;
    }
    return value;
  };
  return {
    add(secret) {
      if (secret && secret.length >= MINIMUM_SECRET_LENGTH) secrets.add(secret);
    },
    redact,
    redactValue,
  };
}
