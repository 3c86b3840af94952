/** The text `schedule` prints: the job to install by hand, or what --install / --uninstall did. */
import type { SchedulePlan } from "../adapters/schedule/scheduler.ts";

export type ScheduleAction = "print" | "install" | "uninstall";

const SECRET_SETUP_TITLES: Record<string, string> = {
  cron: "Secrets, once (bash, as the account that runs the job):",
  "systemd system": "Secrets, once (as root):",
  "systemd user": "Secrets, once:",
  windows: "Secrets, once (in `runas /user:<account> cmd`):",
};

export function renderSchedule(plan: SchedulePlan, action: ScheduleAction, done: readonly string[]): string {
  const scope = plan.scope ? ` (${plan.scope} timer)` : "";
  const secretTitle =
    SECRET_SETUP_TITLES[plan.scope ? `${plan.platform} ${plan.scope}` : plan.platform] ?? "";
  const lines: string[] = [];
  const list = (title: string, items: readonly string[]) => {
    if (items.length === 0) return;
    lines.push("", title, ...items.map((item) => `  ${item}`));
  };
  if (action === "print") {
    lines.push(`ilobby-sync daily at ${plan.time} with ${plan.platform}${scope}`);
    for (const file of plan.files) lines.push("", `--- ${file.path} ---`, file.content.trimEnd());
    if (plan.crontab) lines.push("", "--- crontab ---", ...plan.crontab);
    list(secretTitle, plan.secretSetup);
    list("To install (or run `ilobby-sync schedule --install`):", plan.installCommands);
    list("To remove (or run `ilobby-sync schedule --uninstall`):", plan.uninstallCommands);
  } else {
    lines.push(`${action === "install" ? "installed" : "uninstalled"}: ${plan.platform}${scope}`);
    lines.push(...done.map((step) => `  ${step}`));
    if (action === "install") list(`${secretTitle.slice(0, -1)}, if not done yet:`, plan.secretSetup);
  }
  if (action !== "uninstall")
    list(
      "Notes:",
      plan.notes.map((note) => `- ${note}`),
    );
  return lines.join("\n");
}
