/** `notify test`: sends a test message on every configured channel and says which worked. */
import { hostname } from "node:os";
import type { Command } from "commander";
import { EXIT_CODES, SyncError } from "../../core/errors.ts";
import type { CommandContext } from "../context.ts";

export function registerNotify(program: Command, context: CommandContext, version: string): void {
  const notify = program
    .command("notify")
    .description("notifications: webhooks, e-mail and the heartbeat ping");
  notify
    .command("test")
    .description(
      "send a test message on every configured channel (webhooks, e-mail, ping) and say which worked",
    )
    .action(async () => {
      const { output, environment } = context;
      const loaded = await context.loadConfig();
      if (!loaded.config.notify) {
        throw new SyncError("config", `${loaded.path} has no notify block`, {
          fix: "add `notify:` with webhooks, email or ping (see config.example.yaml and docs/notifications.md)",
        });
      }
      const [{ channelsFor }, { notificationDeadline, sendTestNotifications }, { pingBody }] =
        await Promise.all([
          import("../notifications.ts"),
          import("../../app/notify.ts"),
          import("../../core/notify/messages.ts"),
        ]);
      const channels = await channelsFor(loaded, environment, output);
      if (!channels.ping && channels.others.length === 0) {
        throw new SyncError("config", "notify lists no channel", {
          fix: "add notify.webhooks, notify.email, or notify.ping (or pingSecret)",
        });
      }
      const report = {
        command: "notify test",
        host: hostname(),
        version,
        runId: crypto.randomUUID(),
        exitCode: 0,
        dryRun: false,
        targets: [],
        warnings: [],
        test: true,
      };
      const deliveries = await sendTestNotifications(
        report,
        channels,
        pingBody(report, loaded.config.notify.details),
        notificationDeadline(),
      ).finally(() => channels.close());
      const failed = deliveries.filter((delivery) => !delivery.ok).length;
      output.result(
        () =>
          [
            ...deliveries.map((delivery) =>
              delivery.ok
                ? `sent    ${delivery.channel}`
                : `FAILED  ${delivery.channel}: ${delivery.error} (${delivery.attempts} attempt(s))`,
            ),
            "",
            `${deliveries.length - failed} of ${deliveries.length} channel(s) worked`,
          ].join("\n"),
        () => ({ ok: failed === 0, runId: report.runId, channels: deliveries }),
      );
      if (failed > 0) context.setExitCode(EXIT_CODES.config);
    });
}
