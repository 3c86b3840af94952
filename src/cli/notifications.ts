/**
 * The one place notifications hook into the commands that sync (run, upload): `begin` once the config is loaded
 * (the heartbeat's /start goes out while the sync works), `record` with the result, and `finish` with the final
 * exit code, which decides the event. Nothing here can change that exit code: every failure is a warning on
 * stderr and a line in log.file.
 */
import { hostname } from "node:os";
import type { LoadedConfig } from "../adapters/files/config-file.ts";
import type { NotificationChannels } from "../adapters/notify/channels.ts";
import type { Delivery, SeenCertificate } from "../app/notify.ts";
import type { RunLog } from "../app/ports.ts";
import type { TargetOutcome } from "../app/run-sync.ts";
import type { SyncReport } from "../core/notify/report.ts";
import { secretPartsOf } from "../core/notify/urls.ts";
import type { SyncPlan } from "../core/plan.ts";
import type { Output } from "./output.ts";
import { type CertificateListener, type Environment, runLogFor, secretsFor } from "./wiring.ts";

export interface RecordedSync {
  targets: readonly TargetOutcome[];
  /** The run's plan: its skipped records and long names are warnings. Absent for `upload`. */
  plan?: Pick<SyncPlan, "skipped" | "warnings"> | undefined;
  /** The HTML change report this run wrote, if any. */
  reportFile?: string | undefined;
  /** A failure the command printed itself instead of throwing (an invalid CSV). */
  error?: unknown;
}

interface Session {
  loaded: LoadedConfig;
  command: string;
  dryRun: boolean;
  runId: string;
  log: RunLog;
  notifying: boolean;
  channels?: Promise<NotificationChannels>;
  started?: Promise<Delivery | undefined>;
  recorded?: RecordedSync;
  certificates: SeenCertificate[];
  /** Loaded with the session: the notification code stays out of every other command's start-up. */
  expiryWarnings: typeof import("../app/notify.ts").expiryWarnings;
}

export class SyncNotifications {
  private session: Session | undefined;

  constructor(
    private readonly environment: Environment,
    private readonly output: () => Output,
    private readonly version: string,
  ) {}

  /** Starts a sync's notifications and returns its run id (shared by log.file and every message). */
  async begin(loaded: LoadedConfig, command: string, dryRun: boolean): Promise<{ runId: string }> {
    // The global Web Crypto: importing node:crypto at the top would cost every command's start-up.
    const runId = crypto.randomUUID();
    const { notifiesFor, notificationDeadline, deliver, expiryWarnings } = await import("../app/notify.ts");
    const output = this.output();
    const { notify } = loaded.config;
    const session: Session = {
      loaded,
      command,
      dryRun,
      runId,
      notifying: notifiesFor(notify, dryRun),
      certificates: [],
      expiryWarnings,
      log: await runLogFor(
        loaded,
        { runId, command: dryRun ? `${command} --dry-run` : command },
        this.environment,
        output,
      ),
    };
    this.session = session;
    // URLs written in the config carry tokens too: hidden from every output from the start, whether used or not.
    for (const url of [...(notify?.webhooks ?? []).map((webhook) => webhook.url), notify?.ping]) {
      for (const part of url ? secretPartsOf(url) : []) output.redactor.add(part);
    }
    if (!notify || !session.notifying) return { runId };
    session.channels = channelsFor(loaded, this.environment, output);
    // The /start ping goes out while the sync works; it has its own limit, as it costs the sync no time.
    const deadline = notificationDeadline();
    session.started = session.channels.then(({ ping }) =>
      ping ? deliver(ping.name, (signal) => ping.ping("start", "", signal), deadline) : undefined,
    );
    return { runId };
  }

  /**
   * Hears the certificates this sync's connections were shown (DCs, iLobby): one that expires within 30 days is
   * a warning of the notification (and, with --verbose, a line now).
   */
  certificateListener(): CertificateListener {
    const warned = new Set<string>();
    return (endpoint, validTo) => {
      const session = this.session;
      if (!session || warned.has(endpoint)) return;
      warned.add(endpoint);
      const certificate: SeenCertificate = { endpoint, validTo };
      session.certificates.push(certificate);
      const [warning] = session.expiryWarnings([certificate], this.environment.clock.now());
      if (warning) this.output().verbose(warning.message);
    };
  }

  record(result: RecordedSync): void {
    if (this.session) this.session.recorded = result;
  }

  /** Sends what the final exit code calls for; reports failures; never throws. */
  async finish(exitCode: number, error: unknown): Promise<void> {
    const session = this.session;
    if (!session?.notifying || !session.loaded.config.notify || !session.channels) return;
    const output = this.output();
    try {
      const { notificationDeadline, notifyOutcome, reportedError, runWarnings, targetReport } = await import(
        "../app/notify.ts"
      );
      const { pingBody } = await import("../core/notify/messages.ts");
      const notify = session.loaded.config.notify;
      const recorded = session.recorded;
      const skipped = recorded?.plan?.skipped.length ?? 0;
      const report: SyncReport = {
        command: session.command,
        host: hostname(),
        version: this.version,
        runId: session.runId,
        exitCode,
        dryRun: session.dryRun,
        error: (error ?? recorded?.error) === undefined ? undefined : reportedError(error ?? recorded?.error),
        targets: (recorded?.targets ?? []).map((outcome) => targetReport(outcome, skipped)),
        warnings: runWarnings(recorded?.plan, session.certificates, this.environment.clock.now()),
        reportFile: recorded?.reportFile,
      };
      // From here on every wait counts against the 60 seconds notifications may add to the run.
      const deadline = notificationDeadline();
      const started = await Promise.race([session.started, untilAborted(deadline)]);
      const deliveries = await notifyOutcome(
        report,
        notify,
        await session.channels,
        deadline,
        pingBody(report, notify.details),
      );
      this.reportDeliveries(session, started ? [started, ...deliveries] : deliveries, output);
    } catch (failure) {
      output.warn(
        `notifications were not sent: ${failure instanceof Error ? failure.message : String(failure)}`,
      );
      session.log.event("notification-failed", { error: String(failure) });
    } finally {
      await session.channels.then((channels) => channels.close()).catch(() => {});
    }
  }

  private reportDeliveries(session: Session, deliveries: readonly Delivery[], output: Output): void {
    for (const delivery of deliveries) {
      if (delivery.ok) {
        output.verbose(`notification sent: ${delivery.channel}`);
        session.log.event("notification-sent", { channel: delivery.channel, attempts: delivery.attempts });
      } else {
        output.warn(
          `notification to ${delivery.channel} failed after ${delivery.attempts} attempt(s): ${delivery.error} (the sync's exit code is unchanged)`,
        );
        session.log.event("notification-failed", {
          channel: delivery.channel,
          attempts: delivery.attempts,
          error: delivery.error,
        });
      }
    }
  }
}

/** Resolves (with nothing) when the signal fires. */
function untilAborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
}

/** The configured channels, their secrets read and told to the redactor. */
export async function channelsFor(
  loaded: LoadedConfig,
  environment: Environment,
  output: Output,
): Promise<NotificationChannels> {
  const { notificationChannels } = await import("../adapters/notify/channels.ts");
  const notify = loaded.config.notify;
  if (!notify) return { others: [], close: async () => {} };
  return notificationChannels(notify, {
    secrets: secretsFor(environment, loaded.config),
    env: environment.env,
    extraCa: notifyExtraCa(loaded),
    redact: (secret) => output.redactor.add(secret),
  });
}

/** notify.caFile's certificates, trusted beside the system and Node roots. */
export async function notifyExtraCa(loaded: LoadedConfig): Promise<string[]> {
  const caFile = loaded.config.notify?.caFile;
  if (!caFile) return [];
  const { readPemFile } = await import("../adapters/files/config-file.ts");
  return [await readPemFile(loaded.resolvePath(caFile), "notify.caFile")];
}
