/**
 * Builds the configured channels. A channel whose secret or CA cannot be read still appears, failing with the
 * reason, so the failure is reported like any other notification failure and the sync goes on.
 */
import {
  type NotificationChannel,
  PermanentDeliveryError,
  type PingChannel,
  type SyncChannels,
} from "../../app/notify.ts";
import type { SecretSource } from "../../app/ports.ts";
import { errorMessage } from "../../core/errors.ts";
import { type NotifyConfig, SMTP_PASSWORD_SECRET_NAME } from "../../core/notify/config.ts";
import { secretPartsOf } from "../../core/notify/urls.ts";
import { createNetworkPath } from "../network/network-path.ts";
import { trustedCertificates } from "../network/trust.ts";
import { emailChannel } from "./email-channel.ts";
import { pingChannel, webhookChannel } from "./http-channels.ts";

export interface NotificationChannels extends SyncChannels {
  others: NotificationChannel[];
  /**
   * Ends the webhooks' and ping's network path once every delivery is done or given up: an open connection keeps
   * sockets (and the process) alive. A request still in flight then is past its deadline and is dropped.
   */
  close(): Promise<void>;
}

const nothingToClose = async () => {};

export interface ChannelSources {
  secrets: SecretSource;
  /** The injected environment: HTTPS_PROXY / NO_PROXY for webhooks and the ping. */
  env: NodeJS.ProcessEnv;
  /** notify.caFile's certificates; a rejection (unreadable file) fails every channel with its reason. */
  extraCa: Promise<readonly string[]>;
  /** Told every secret value (URLs with tokens, the SMTP password) so output can redact it. */
  redact(secret: string): void;
}

function broken(name: string, error: unknown): NotificationChannel & PingChannel {
  const fail = async () => {
    throw new PermanentDeliveryError(errorMessage(error));
  };
  return { name, send: fail, ping: fail };
}

async function secretUrl(
  sources: ChannelSources,
  inline: string | undefined,
  secretName: string | undefined,
) {
  const url = inline ?? (await sources.secrets.get(secretName as string));
  for (const part of secretPartsOf(url)) sources.redact(part);
  return url.trim();
}

export async function notificationChannels(
  notify: NotifyConfig,
  sources: ChannelSources,
): Promise<NotificationChannels> {
  let extraCa: readonly string[];
  try {
    extraCa = await sources.extraCa;
  } catch (error) {
    return {
      ping: notify.ping || notify.pingSecret ? broken("ping", error) : undefined,
      others: [
        ...notify.webhooks.map((webhook) => broken(`webhook (${webhook.format})`, error)),
        ...(notify.email ? [broken(`email smtp://${notify.email.host}:${notify.email.port}`, error)] : []),
      ],
      close: nothingToClose,
    };
  }
  // One network path (proxy decision, CAs, TLS 1.2+) as every other HTTPS request takes; 10 s per attempt.
  const network = createNetworkPath({ env: sources.env, extraCa, timeoutMs: 10_000 });
  const { dispatcher } = network;
  const ca = trustedCertificates(extraCa);
  const others: NotificationChannel[] = [];
  for (const webhook of notify.webhooks) {
    try {
      others.push(
        webhookChannel(
          webhook,
          await secretUrl(sources, webhook.url, webhook.urlSecret),
          notify.details,
          dispatcher,
        ),
      );
    } catch (error) {
      others.push(
        broken(
          `webhook (${webhook.format})${webhook.urlSecret ? ` from secret ${webhook.urlSecret}` : ""}`,
          error,
        ),
      );
    }
  }
  if (notify.email) {
    const { email } = notify;
    try {
      const password = email.username ? await sources.secrets.get(SMTP_PASSWORD_SECRET_NAME) : undefined;
      if (password) sources.redact(password);
      others.push(emailChannel(email, password, ca, notify.details));
    } catch (error) {
      others.push(broken(`email smtp://${email.host}:${email.port}`, error));
    }
  }
  let ping: PingChannel | undefined;
  if (notify.ping || notify.pingSecret) {
    try {
      ping = pingChannel(await secretUrl(sources, notify.ping, notify.pingSecret), dispatcher);
    } catch (error) {
      ping = broken(`ping${notify.pingSecret ? ` from secret ${notify.pingSecret}` : ""}`, error);
    }
  }
  return { ping, others, close: () => network.dispatcher.destroy() };
}
