/**
 * doctor's view of the notification channels: each webhook and the ping get a TCP connection and a TLS handshake
 * (through the proxy a notification would take), the SMTP server a connection, TLS and the login; nothing is sent.
 */
import type { LoadedConfig } from "../adapters/files/config-file.ts";
import { trustedCertificates } from "../adapters/network/trust.ts";
import type { NotifyEndpoint } from "../app/doctor.ts";
import { errorCode, errorMessage, isSyncError, SyncError } from "../core/errors.ts";
import { SMTP_PASSWORD_SECRET_NAME } from "../core/notify/config.ts";
import { schemeAndHost, secretPartsOf } from "../core/notify/urls.ts";
import { notifyExtraCa } from "./notifications.ts";
import type { Output } from "./output.ts";
import { type Environment, secretsFor } from "./wiring.ts";

const PROBE_TIMEOUT_MS = 10_000;

function unreachable(what: string, error: unknown): SyncError {
  if (isSyncError(error)) return error;
  const code = errorCode(error);
  return new SyncError(
    "config",
    `${what} is not reachable: ${code ? `${code} ` : ""}${errorMessage(error)}`,
    {
      cause:
        "a wrong URL or host, a firewall, a proxy that must be named (HTTPS_PROXY), or a certificate from an internal CA",
      fix: "check the URL or host, the firewall and HTTPS_PROXY / NO_PROXY; add an internal CA with notify.caFile",
      error,
    },
  );
}

export function notifyEndpoints(
  loaded: LoadedConfig,
  environment: Environment,
  output: Output,
): NotifyEndpoint[] {
  const notify = loaded.config.notify;
  if (!notify) return [];
  const secrets = secretsFor(environment, loaded.config);
  let extra: Promise<string[]> | undefined;
  const extraCa = () => (extra ??= notifyExtraCa(loaded));
  const urlOf = async (inline: string | undefined, secretName: string | undefined) => {
    const url = (inline ?? (await secrets.get(secretName as string))).trim();
    for (const part of secretPartsOf(url)) output.redactor.add(part);
    return url;
  };

  const https = (id: string, label: string, inline: string | undefined, secretName: string | undefined) => ({
    id,
    title: `notify ${label}${inline ? ` ${schemeAndHost(inline)}` : ` (secret ${secretName})`}`,
    async check() {
      const url = await urlOf(inline, secretName);
      const what = `${label} ${schemeAndHost(url)}`;
      const parsed = new URL(url);
      if (parsed.protocol !== "https:") {
        throw new SyncError("config", `${what} is not an https:// URL`, {
          fix: "notifications go over HTTPS only",
        });
      }
      const { inspectHttpsTls } = await import("../adapters/network/tls-probe.ts");
      try {
        const inspection = await inspectHttpsTls(
          { env: environment.env, extraCa: await extraCa() },
          url,
          PROBE_TIMEOUT_MS,
        );
        const { authorizationError, hostnameError } = inspection;
        return {
          tls: {
            protocol: inspection.protocol,
            chain: inspection.chain,
            trustProblem: authorizationError
              ? new SyncError("config", `${what}: the certificate is not trusted (${authorizationError})`, {
                  fix: "if an internal CA or a TLS-inspecting proxy issued it, name that CA in notify.caFile",
                })
              : undefined,
            hostnameProblem: hostnameError
              ? new SyncError("config", `${what}: ${hostnameError.message}`, {
                  fix: "use the host name the certificate was issued for",
                })
              : undefined,
          },
        };
      } catch (error) {
        throw unreachable(what, error);
      }
    },
  });

  const endpoints: NotifyEndpoint[] = notify.webhooks.map((webhook, index) =>
    https(`notify:webhook:${index}`, `webhook (${webhook.format})`, webhook.url, webhook.urlSecret),
  );
  if (notify.email) {
    const { email } = notify;
    const what = `email smtp://${email.host}:${email.port}`;
    endpoints.push({
      id: "notify:email",
      title: `notify ${what}`,
      async check() {
        const password = email.username ? await secrets.get(SMTP_PASSWORD_SECRET_NAME) : undefined;
        output.redactor.add(password);
        const { smtpTransport } = await import("../adapters/notify/email-channel.ts");
        const transport = smtpTransport(email, password, trustedCertificates(await extraCa()));
        try {
          await transport.verify();
        } catch (error) {
          throw unreachable(what, error);
        } finally {
          transport.close();
        }
        const tls = email.port === 465 ? "TLS" : "STARTTLS";
        return {
          summary: `${tls}, certificate verified${email.username ? ", login accepted" : ""} (nothing sent)`,
        };
      },
    });
  }
  if (notify.ping || notify.pingSecret)
    endpoints.push(https("notify:ping", "ping", notify.ping, notify.pingSecret));
  return endpoints;
}
