/**
 * The Samba AD DC test bed by hand, for local development:
 *   npx tsx test/ad/cli.ts start [--old-tls]   prints the connection details as JSON, runs until Ctrl-C
 *   npx tsx test/ad/cli.ts stop                stops a DC that `start` runs in another shell
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureSambaPackages, OLD_TLS_PRIORITY, startSambaDc } from "./testbed.ts";

const PID_FILE = fileURLToPath(new URL("../../.testbed/samba/cli.pid", import.meta.url));

async function start(oldTls: boolean): Promise<void> {
  ensureSambaPackages();
  const dc = await startSambaDc({
    tlsPriority: oldTls ? OLD_TLS_PRIORITY : undefined,
    log: (message) => console.error(message),
  });
  mkdirSync(dirname(PID_FILE), { recursive: true });
  writeFileSync(PID_FILE, String(process.pid));
  console.log(JSON.stringify({ ...dc.connection, pid: dc.pid, runDir: dc.runDir }, null, 2));
  console.error("Samba AD DC running on 127.0.0.1; Ctrl-C or `npx tsx test/ad/cli.ts stop` stops it.");
  const shutdown = async (): Promise<void> => {
    await dc.stop();
    rmSync(PID_FILE, { force: true });
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

async function stop(): Promise<void> {
  if (!existsSync(PID_FILE)) {
    console.error("No DC started by `cli.ts start` is running.");
    return;
  }
  const pid = Number(readFileSync(PID_FILE, "utf8"));
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    rmSync(PID_FILE, { force: true }); // Its owner died; samba went with it when its stdin closed.
    return;
  }
  for (let waited = 0; waited < 15_000 && existsSync(PID_FILE); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const [command, ...flags] = process.argv.slice(2);
if (command === "start") await start(flags.includes("--old-tls"));
else if (command === "stop") await stop();
else {
  console.error("usage: npx tsx test/ad/cli.ts start [--old-tls] | stop");
  process.exitCode = 2;
}
