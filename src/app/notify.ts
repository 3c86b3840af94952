/**
 * Notifications about a sync (issue 15): which channels hear of it, and delivery under the rules that keep a
 * notification from ever changing the sync: each channel gets 10 seconds per attempt and two retries, all of them
 * together at most 60 seconds, and a failure is returned for the caller to report, never thrown.
 */

import { daysUntil, EXPIRY_WARNING_DAYS } from "../core/doctor.ts";
import { errorMessage, type SyncError } from "../core/errors.ts";
import type { NotifyConfig } from "../core/notify/config.ts";
import {
  EXAMPLES_PER_KIND,
  type RunWarning,
  reportEvent,
  type SyncReport,
  type TargetReport,
} from "../core/notify/report.ts";
import { countByReason, type SyncPlan } from "../core/plan.ts";
import type { TargetOutcome } from "./run-sync.ts";

/** A channel that hears of events: a webhook or e-mail. `name` is fit to print (scheme and host only). */
export interface NotificationChannel {
  readonly name: string;
  send(report: SyncReport, signal: AbortSignal): Promise<void>;
}

/** The heartbeat (healthchecks.io protocol): /start, then success or /fail with the plain-text summary. */
export interface PingChannel {
  readonly name: string;
  ping(kind: "start" | "success" | "fail", body: string, signal: AbortSignal): Promise<void>;
}

export interface DeliveryLimits {
  attemptTimeoutMs: number;
  retries: number;
  totalMs: number;
  /** Wait before retry n (1-based). */
  retryDelayMs(retry: number): number;
}

const DELIVERY_LIMITS: DeliveryLimits = {
  attemptTimeoutMs: 10_000,
  retries: 2,
  totalMs: 60_000,
  retryDelayMs: (retry) => 1000 * 2 ** (retry - 1),
};

export interface Delivery {
  channel: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

/** A failure that retrying will not fix (a 4xx answer, a refused login): the channel stops at once. */
export class PermanentDeliveryError extends Error {
  override readonly name = "PermanentDeliveryError";
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Rejects when the signal fires, so a channel that ignores its signal still cannot hold the run. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error("timed out"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function timeoutReason(ms: number): Error {
  return new Error(`no answer within ${ms / 1000} s`);
}

/** One channel, with its retries, inside the overall deadline. */
export async function deliver(
  name: string,
  attempt: (signal: AbortSignal) => Promise<void>,
  deadline: AbortSignal,
  limits: DeliveryLimits = DELIVERY_LIMITS,
): Promise<Delivery> {
  let lastError: unknown;
  let attempts = 0;
  for (let retry = 0; retry <= limits.retries; retry++) {
    if (retry > 0) await sleep(limits.retryDelayMs(retry), deadline);
    if (deadline.aborted) {
      lastError ??= deadline.reason;
      break;
    }
    attempts++;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(timeoutReason(limits.attemptTimeoutMs)),
      limits.attemptTimeoutMs,
    );
    const signal = AbortSignal.any([controller.signal, deadline]);
    try {
      await raceAbort(attempt(signal), signal);
      return { channel: name, ok: true, attempts };
    } catch (error) {
      lastError = signal.aborted && signal.reason instanceof Error ? signal.reason : error;
      if (error instanceof PermanentDeliveryError) break;
    } finally {
      clearTimeout(timer);
    }
  }
  return { channel: name, ok: false, attempts, error: errorMessage(lastError) };
}

/** An overall deadline for every notification of this run together. */
export function notificationDeadline(limits: DeliveryLimits = DELIVERY_LIMITS): AbortSignal {
  const controller = new AbortController();
  const reason = new Error(`all notifications together may take at most ${limits.totalMs / 1000} s`);
  setTimeout(() => controller.abort(reason), limits.totalMs).unref?.();
  return controller.signal;
}

/** Whether this run notifies at all: a dry run only with `onDryRun`. */
export function notifiesFor(notify: NotifyConfig | undefined, dryRun: boolean): notify is NotifyConfig {
  return notify !== undefined && (!dryRun || notify.onDryRun);
}

/** The channels a sync notifies: the heartbeat ping, if configured, and the others. */
export interface SyncChannels {
  ping?: PingChannel | undefined;
  others: readonly NotificationChannel[];
}

/**
 * After a sync: the ping (every event: a heartbeat must hear of successes too) and the channels whose events
 * include this one. Never throws; returns what worked and what did not.
 */
export async function notifyOutcome(
  report: SyncReport,
  notify: NotifyConfig,
  channels: SyncChannels,
  deadline: AbortSignal,
  pingBody: string,
  limits: DeliveryLimits = DELIVERY_LIMITS,
): Promise<Delivery[]> {
  const event = reportEvent(report);
  const deliveries: Promise<Delivery>[] = [];
  const { ping } = channels;
  if (ping) {
    const kind = event === "failure" || event === "guard" ? "fail" : "success";
    deliveries.push(deliver(ping.name, (signal) => ping.ping(kind, pingBody, signal), deadline, limits));
  }
  if (report.test || notify.on.includes(event)) {
    for (const channel of channels.others) {
      deliveries.push(deliver(channel.name, (signal) => channel.send(report, signal), deadline, limits));
    }
  }
  return Promise.all(deliveries);
}

// ---- From a run's result to the report ----

/** A TLS certificate a run's connection was shown. */
export interface SeenCertificate {
  /** What the connection was for, fit to print: "directory ldaps://dc1:636", "iLobby https://host". */
  endpoint: string;
  validTo: string;
}

function reported(error: SyncError | undefined) {
  if (!error) return undefined;
  return { category: error.category, message: error.message, cause: error.likelyCause, fix: error.fix };
}

export function reportedError(error: unknown) {
  if (error && typeof error === "object" && "category" in error) return reported(error as SyncError);
  return { category: "internal", message: errorMessage(error) };
}

export function targetReport(outcome: TargetOutcome, skipped: number): TargetReport {
  const { diff } = outcome;
  return {
    target: outcome.target,
    status: outcome.status,
    counts: {
      added: diff.added.length,
      updated: diff.updated.length,
      ...(diff.renamed.length > 0 ? { renamed: diff.renamed.length } : {}),
      disabled: diff.disabled.length,
      unchanged: diff.unchanged,
      skipped,
    },
    examples: {
      added: diff.added.slice(0, EXAMPLES_PER_KIND).map((row) => row.EMAIL),
      updated: diff.updated.slice(0, EXAMPLES_PER_KIND).map((update) => update.email),
      disabled: diff.disabled.slice(0, EXAMPLES_PER_KIND).map((row) => row.EMAIL),
    },
    error: reported(outcome.error),
    plan: outcome.plan ? { path: outcome.plan.path, command: outcome.plan.command } : undefined,
  };
}

/** Certificates that expire within 30 days, once per endpoint. */
export function expiryWarnings(certificates: readonly SeenCertificate[], now: number): RunWarning[] {
  const warnings: RunWarning[] = [];
  const seen = new Set<string>();
  for (const certificate of certificates) {
    const days = daysUntil(certificate.validTo, now);
    if (days >= EXPIRY_WARNING_DAYS || seen.has(certificate.endpoint)) continue;
    seen.add(certificate.endpoint);
    warnings.push({
      kind: "certificate",
      message: `the certificate of ${certificate.endpoint} expires in ${days} day(s) (${certificate.validTo}); renew it before then`,
    });
  }
  return warnings;
}

/** The warnings a notification reports: records skipped, names iLobby may not sync, certificates near expiry. */
export function runWarnings(
  plan: Pick<SyncPlan, "skipped" | "warnings"> | undefined,
  certificates: readonly SeenCertificate[],
  now: number,
): RunWarning[] {
  const warnings: RunWarning[] = [];
  if (plan && plan.skipped.length > 0) {
    const reasons = Object.entries(countByReason(plan.skipped))
      .map(([reason, count]) => `${reason} ${count}`)
      .join(", ");
    warnings.push({
      kind: "skipped",
      message: `${plan.skipped.length} record(s) skipped (${reasons})`,
      examples: plan.skipped.slice(0, EXAMPLES_PER_KIND).map((skip) => skip.email || skip.ref),
    });
  }
  if (plan && plan.warnings.length > 0) {
    warnings.push({
      kind: "long-name",
      message: `${plan.warnings.length} name(s) longer than iLobby's 50 characters (iLobby may not sync them)`,
      examples: plan.warnings.slice(0, EXAMPLES_PER_KIND).map((warning) => warning.email),
    });
  }
  warnings.push(...expiryWarnings(certificates, now));
  return warnings;
}

/** `notify test`: one test message on every channel, the ping included (as a success). */
export async function sendTestNotifications(
  report: SyncReport,
  channels: SyncChannels,
  pingBody: string,
  deadline: AbortSignal,
  limits: DeliveryLimits = DELIVERY_LIMITS,
): Promise<Delivery[]> {
  const { ping } = channels;
  return Promise.all([
    ...channels.others.map((channel) =>
      deliver(channel.name, (signal) => channel.send(report, signal), deadline, limits),
    ),
    ...(ping
      ? [deliver(ping.name, (signal) => ping.ping("success", pingBody, signal), deadline, limits)]
      : []),
  ]);
}
