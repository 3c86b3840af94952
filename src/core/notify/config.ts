/**
 * The `notify` config block (issue 15): which events reach a person, on which channels. Webhook and ping URLs
 * carry a token, so each may instead name a secret; the SMTP password is always the `smtp-password` secret.
 */
import { z } from "zod";
import { SECRET_NAME_PATTERN } from "../secret-names.ts";

const NOTIFY_EVENTS = ["failure", "guard", "warning", "success"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export const SMTP_PASSWORD_SECRET_NAME = "smtp-password";
/** The secret `init` stores a webhook's URL under. */
export const INIT_WEBHOOK_SECRET_NAME = "notify-webhook";

export const WEBHOOK_FORMATS = ["json", "teams", "slack"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** The format a webhook URL's host suggests: Teams Workflows (Power Automate, Logic Apps), Slack, else json. */
export function likelyWebhookFormat(url: string): WebhookFormat {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return "json";
  }
  if (host === "hooks.slack.com") return "slack";
  if (/(^|\.)(webhook\.office\.com|logic\.azure\.com|powerplatform\.com|powerautomate\.com)$/.test(host))
    return "teams";
  return "json";
}

const nonEmpty = z.string().trim().min(1, { error: "must not be empty" });
const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https:// URL (TLS is required)" });
const secretName = z
  .string()
  .regex(SECRET_NAME_PATTERN, { error: "must be lower-case letters, digits, '.', '_' or '-'" });
const emailAddress = z.email({ error: "must be an e-mail address" });

const webhookSchema = z
  .strictObject({
    url: httpsUrl
      .optional()
      .meta({ description: "The webhook URL (https). It carries a token: prefer urlSecret." }),
    urlSecret: secretName.optional().meta({ description: "Name of the secret that holds the webhook URL." }),
    format: z.enum(["json", "teams", "slack"]).default("json").meta({
      description: "json (our document), teams (Adaptive Card for Workflows) or slack (text + blocks).",
    }),
  })
  .refine((webhook) => (webhook.url === undefined) !== (webhook.urlSecret === undefined), {
    error: "needs exactly one of url or urlSecret",
  });

const emailSchema = z.strictObject({
  host: nonEmpty.meta({ description: "SMTP server." }),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(587)
    .meta({ description: "465 = implicit TLS; any other port = STARTTLS, which is required." }),
  username: nonEmpty
    .optional()
    .meta({ description: "SMTP login; its password is the smtp-password secret. Omit for no login." }),
  from: emailAddress.meta({ description: "Sender address." }),
  to: z.array(emailAddress).min(1).meta({ description: "Recipients." }),
});

export const notifySchema = z
  .strictObject({
    on: z.array(z.enum(NOTIFY_EVENTS)).min(1).default(["failure", "guard"]).meta({
      description: "Events that notify: failure, guard (exit 6), warning (exit 0 with warnings), success.",
    }),
    details: z
      .enum(["examples", "counts"])
      .default("examples")
      .meta({ description: "examples: counts and up to 10 EMAILs per change kind; counts: numbers only." }),
    caFile: nonEmpty.optional().meta({
      description: "Extra trusted CA (PEM) for webhooks, ping and SMTP; system and Node roots stay trusted.",
    }),
    webhooks: z.array(webhookSchema).default([]).meta({ description: "Webhooks (https only)." }),
    email: emailSchema.optional().meta({ description: "E-mail over SMTP with TLS 1.2 or newer." }),
    ping: httpsUrl.optional().meta({
      description:
        "healthchecks.io-style ping URL: /start at start, the URL on success, /fail on failure or guard.",
    }),
    pingSecret: secretName.optional().meta({ description: "Name of the secret that holds the ping URL." }),
    onDryRun: z
      .boolean()
      .default(false)
      .meta({ description: "Notify for --dry-run too (otherwise nothing is sent)." }),
  })
  .refine((notify) => !(notify.ping && notify.pingSecret), {
    error: "give ping or pingSecret, not both",
    path: ["pingSecret"],
  });

export type NotifyConfig = z.output<typeof notifySchema>;
export type WebhookConfig = NotifyConfig["webhooks"][number];
export type EmailConfig = NonNullable<NotifyConfig["email"]>;

/** The secrets the notify block reads: webhook and ping URLs kept as secrets, and the SMTP password. */
export function notifySecretNames(notify: NotifyConfig | undefined): string[] {
  if (!notify) return [];
  return [
    ...notify.webhooks.flatMap((webhook) => (webhook.urlSecret ? [webhook.urlSecret] : [])),
    ...(notify.pingSecret ? [notify.pingSecret] : []),
    ...(notify.email?.username ? [SMTP_PASSWORD_SECRET_NAME] : []),
  ];
}
