// The iLobby emulator as its own process (test/emulator/main.ts), so the CLI and curl upload to the same server
// and neither shares a process with it. Stopped by its PID.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { runQuiet, stopperFor } from "./measure.mjs";

export async function startEmulatorProcess({ root, nodeBinary, clientId, clientSecret }) {
  const child = spawn(
    nodeBinary,
    ["--import", "tsx", "test/emulator/main.ts", "--clients", `${clientId}=${clientSecret}`],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  const stop = stopperFor(child);
  const lines = createInterface({ input: child.stdout });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const [first] = await Promise.race([
      once(lines, "line"),
      once(child, "exit").then(([code]) => {
        throw new Error(`the emulator exited (${code}) before it listened`);
      }),
    ]);
    const ready = JSON.parse(first);
    return { url: ready.url, caFile: ready.caFile, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timeout);
  }
}

/** An access token from the emulator's token endpoint, fetched with curl as an administrator's script would. */
export async function fetchToken({ url, caFile, clientId, clientSecret }) {
  const body = await runQuiet("curl", [
    "-sS",
    "--fail",
    "--cacert",
    caFile,
    "--data-urlencode",
    "grant_type=client_credentials",
    "--data-urlencode",
    `client_id=${clientId}`,
    "--data-urlencode",
    `client_secret=${clientSecret}`,
    `${url}/auth/connect/token`,
  ]);
  return JSON.parse(body).access_token;
}
