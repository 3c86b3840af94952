/**
 * Runs the iLobby emulator as its own process, for the demo script and benchmarks that drive the real CLI:
 *
 *   node --import tsx test/emulator/main.ts --clients id=secret[,id2=secret2] [--port N] [--dir DIR] [--token-ttl S]
 *
 * (or ILOBBY_EMULATOR_CLIENTS / _PORT / _DIR / _TOKEN_TTL). Prints one JSON line
 * {"url","caFile","pid","adminKey"} once it listens, then serves until SIGTERM or SIGINT.
 */
import { parseArgs } from "node:util";
import { type EmulatorOptions, startEmulator } from "./emulator.js";

const USAGE =
  "usage: main.ts --clients id=secret[,id2=secret2] [--port N] [--dir DIR] [--token-ttl SECONDS]\n" +
  "       (or ILOBBY_EMULATOR_CLIENTS, ILOBBY_EMULATOR_PORT, ILOBBY_EMULATOR_DIR, ILOBBY_EMULATOR_TOKEN_TTL)";

function parseClients(list: string): Record<string, string> {
  const clients: Record<string, string> = {};
  for (const pair of list.split(",")) {
    const separator = pair.indexOf("=");
    if (separator <= 0) throw new Error(`--clients: expected id=secret, got "${pair}"`);
    clients[pair.slice(0, separator)] = pair.slice(separator + 1);
  }
  return clients;
}

function parseWholeNumber(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`--${name}: expected a whole number, got "${text}"`);
  return Number(text);
}

function optionsFrom(argv: string[], env: NodeJS.ProcessEnv): EmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: "string" },
      port: { type: "string" },
      dir: { type: "string" },
      "token-ttl": { type: "string" },
    },
    strict: true,
  });
  const clients = values.clients ?? env.ILOBBY_EMULATOR_CLIENTS;
  if (clients === undefined || clients === "") throw new Error("--clients is required");
  return {
    clients: parseClients(clients),
    port: parseWholeNumber("port", values.port ?? env.ILOBBY_EMULATOR_PORT),
    dir: values.dir ?? env.ILOBBY_EMULATOR_DIR,
    tokenTtlSeconds: parseWholeNumber("token-ttl", values["token-ttl"] ?? env.ILOBBY_EMULATOR_TOKEN_TTL),
  };
}

async function main(): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = optionsFrom(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : error}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const emulator = await startEmulator(options);
  const shutDown = (): void => {
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`emulator: stop failed: ${error}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutDown);
  process.once("SIGINT", shutDown);
  const ready = { url: emulator.url, caFile: emulator.caFile, pid: process.pid, adminKey: emulator.adminKey };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

await main();
