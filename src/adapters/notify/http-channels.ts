/**
 * Webhooks and the heartbeat ping over undici and the shared network path (TLS 1.2 or newer, the trusted roots plus
 * notify.caFile, HTTPS_PROXY / NO_PROXY honoured): HTTPS only, redirects never followed (the URL carries a token; a redirect would carry the
 * message elsewhere). Errors never contain the URL: only its scheme and host.
 */
import { type Dispatcher, request } from "undici";
import { type NotificationChannel, PermanentDeliveryError, type PingChannel } from "../../app/notify.ts";
import type { WebhookConfig } from "../../core/notify/config.ts";
import { type Details, jsonPayload, slackPayload, teamsPayload } from "../../core/notify/messages.ts";
import type { SyncReport } from "../../core/notify/report.ts";
import { schemeAndHost } from "../../core/notify/urls.ts";

const USER_AGENT = "ilobby-sync";

async function post(
  dispatcher: Dispatcher,
  url: string,
  body: string,
  contentType: string,
  signal: AbortSignal,
): Promise<void> {
  const response = await request(url, {
    method: "POST",
    dispatcher,
    signal,
    headers: { "content-type": contentType, "user-agent": USER_AGENT },
    body,
  }).catch((error: unknown) => {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = (error as { code?: string }).code ?? cause?.code;
    throw new Error(`${schemeAndHost(url)}: ${code ? `${code} ` : ""}${(error as Error).message}`);
  });
  await response.body.dump();
  const status = response.statusCode;
  if (status >= 200 && status < 300) return;
  const problem = `${schemeAndHost(url)} answered HTTP ${status}`;
  if (status >= 300 && status < 400)
    throw new PermanentDeliveryError(`${problem} (a redirect, not followed)`);
  if (status === 408 || status === 429 || status >= 500) throw new Error(problem);
  throw new PermanentDeliveryError(problem);
}

export function webhookChannel(
  webhook: WebhookConfig,
  url: string,
  details: Details,
  dispatcher: Dispatcher,
): NotificationChannel {
  if (!url.startsWith("https://")) {
    throw new PermanentDeliveryError(`webhook ${schemeAndHost(url)}: must be an https:// URL`);
  }
  const render = { json: jsonPayload, teams: teamsPayload, slack: slackPayload }[webhook.format];
  return {
    name: `webhook (${webhook.format}) ${schemeAndHost(url)}`,
    send: (report: SyncReport, signal) =>
      post(dispatcher, url, JSON.stringify(render(report, details)), "application/json", signal),
  };
}

export function pingChannel(url: string, dispatcher: Dispatcher): PingChannel {
  if (!url.startsWith("https://")) {
    throw new PermanentDeliveryError(`ping ${schemeAndHost(url)}: must be an https:// URL`);
  }
  const endpoint = (kind: "start" | "success" | "fail") => {
    if (kind === "success") return url;
    const parsed = new URL(url);
    parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/${kind}`;
    return parsed.toString();
  };
  return {
    name: `ping ${schemeAndHost(url)}`,
    ping: (kind, body, signal) => post(dispatcher, endpoint(kind), body, "text/plain; charset=utf-8", signal),
  };
}
