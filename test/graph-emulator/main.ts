/**
 * Runs the Graph emulator as its own process, for benchmarks and for trying the Entra source by hand:
 *
 *   node --import tsx test/graph-emulator/main.ts --client id=secret [--users N] [--port N] [--dir DIR]
 *
 * Without --users it serves the sample tenant (test/graph-emulator/sample-tenant.ts); with --users N, N synthetic
 * members in one group. Prints one JSON line {"url","caFile","pid","tenantId","groupId"} once it listens, then
 * serves until SIGTERM or SIGINT.
 */
import { parseArgs } from "node:util";
import { startGraphEmulator } from "./graph-emulator.ts";
import {
  BULK_GROUP_ID,
  buildBulkTenant,
  buildSampleTenant,
  SAMPLE_GROUPS,
  SAMPLE_TENANT_ID,
} from "./sample-tenant.ts";

const USAGE = "usage: main.ts --client id=secret [--users N] [--port N] [--dir DIR]";

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      client: { type: "string" },
      users: { type: "string" },
      port: { type: "string" },
      dir: { type: "string" },
    },
    strict: true,
  });
  const [clientId, secret] = (values.client ?? "").split(/=(.*)/s);
  const users = values.users === undefined ? undefined : Number(values.users);
  if (!clientId || !secret || (users !== undefined && !(Number.isInteger(users) && users > 0))) {
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const tenant = users === undefined ? buildSampleTenant().tenant : buildBulkTenant(users);
  const emulator = await startGraphEmulator({
    tenant,
    tenantIds: [SAMPLE_TENANT_ID],
    clients: { [clientId]: { secret } },
    ...(values.port === undefined ? {} : { port: Number(values.port) }),
    ...(values.dir === undefined ? {} : { dir: values.dir }),
  });
  const shutDown = (): void => {
    emulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", shutDown);
  process.once("SIGINT", shutDown);
  const ready = {
    url: emulator.url,
    caFile: emulator.caFile,
    pid: process.pid,
    tenantId: SAMPLE_TENANT_ID,
    groupId: users === undefined ? SAMPLE_GROUPS.allStaff : BULK_GROUP_ID,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

await main();
