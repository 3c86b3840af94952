/**
 * E-mail through nodemailer: port 465 speaks TLS from the start, any other port must upgrade with STARTTLS
 * (requireTLS: a server that does not offer it is refused, never used in clear); TLS 1.2 or newer; the
 * certificate is verified against the trusted roots plus notify.caFile and must name the host.
 */
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { createTransport } from "nodemailer";
import { type NotificationChannel, PermanentDeliveryError } from "../../app/notify.ts";
import type { EmailConfig } from "../../core/notify/config.ts";
import { type Details, emailSubject, plainText } from "../../core/notify/messages.ts";

const SMTP_TIMEOUT_MS = 10_000;

export function smtpTransport(email: EmailConfig, password: string | undefined, ca: readonly string[]) {
  const implicitTls = email.port === 465;
  return createTransport({
    host: email.host,
    port: email.port,
    secure: implicitTls,
    requireTLS: !implicitTls,
    ...(email.username ? { auth: { user: email.username, pass: password ?? "" } } : {}),
    tls: { ca: [...ca], minVersion: "TLSv1.2", rejectUnauthorized: true },
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
}

/** SMTP reply codes 5xx are permanent (bad login, refused recipient): retrying cannot help. */
function describeSmtpError(error: unknown, email: EmailConfig): Error {
  const { code, responseCode, message } = error as { code?: string; responseCode?: number; message: string };
  const text = `smtp ${email.host}:${email.port}: ${code ? `${code} ` : ""}${message}`;
  return responseCode !== undefined && responseCode >= 500
    ? new PermanentDeliveryError(text)
    : new Error(text);
}

export function emailChannel(
  email: EmailConfig,
  password: string | undefined,
  ca: readonly string[],
  details: Details,
): NotificationChannel {
  return {
    name: `email smtp://${email.host}:${email.port}`,
    async send(report) {
      const transport = smtpTransport(email, password, ca);
      // The report names everyone it changes: `details: counts` keeps personal data out of the mail.
      const attach =
        details === "examples" && report.reportFile && existsSync(report.reportFile)
          ? report.reportFile
          : undefined;
      try {
        await transport.sendMail({
          from: email.from,
          to: email.to,
          subject: emailSubject(report),
          text: plainText(report, details),
          ...(attach
            ? { attachments: [{ filename: basename(attach), path: attach, contentType: "text/html" }] }
            : {}),
        });
      } catch (error) {
        throw describeSmtpError(error, email);
      } finally {
        transport.close();
      }
    },
  };
}
