/**
 * The whole reviewed-change flow through the use cases, over the shared in-memory fakes (test/app/fakes.ts): a run
 * the guard stops saves its plan; the plan is read back, checked and applied: exactly its rows are sent, the state
 * keeps each row's stable id, and the same plan cannot be applied twice.
 */
import { describe, expect, it } from "vitest";
import { applyPlan, checkPlan, readPlan } from "../../src/app/apply-plan.ts";
import { recordPlan } from "../../src/app/review.ts";
import { runSync } from "../../src/app/run-sync.ts";
import { toCsv } from "../../src/core/csv.ts";
import { resolveTargets } from "../../src/core/targets.ts";
import {
  BASE_CONFIG,
  configFrom,
  dependencies,
  memoryPlans,
  memorySource,
  memoryState,
  memoryTargets,
  person,
} from "./fakes.ts";

const config = configFrom(BASE_CONFIG);
const staff = (count: number) =>
  Array.from({ length: count }, (_, index) =>
    person(`Person${String(index).padStart(3, "0")} Staff`, { title: "Host" }, { stableId: `guid-${index}` }),
  );

describe("a reviewed change, from the stopped run to apply", () => {
  it("saves the stopped target's plan and applies exactly it, once", async () => {
    const state = memoryState();
    const targets = memoryTargets();
    const plans = memoryPlans();
    const options = (runId: string) => ({
      runId,
      dryRun: false,
      allowEmpty: false,
      force: false,
      safety: config.safety,
      recordPlan: async (result: Parameters<typeof recordPlan>[0]) => {
        await recordPlan(
          result,
          { runId, dryRun: false, configPath: "/etc/ilobby-sync.yaml", host: "sync01", platform: "linux" },
          { plans, clock: { now: () => 1_700_000_000_000 }, log: { event() {} } },
        );
      },
    });
    await runSync(config, options("run-1"), dependencies(memorySource([staff(20)]), state, targets));
    const stopped = await runSync(
      config,
      options("run-2"),
      dependencies(memorySource([staff(20).slice(0, 8)]), state, targets),
    );
    expect(stopped.exitCode).toBe(6);
    const outcome = stopped.targets[0];
    expect(outcome?.plan).toEqual({
      path: "/state/plans/run-2.json",
      command: "ilobby-sync --config /etc/ilobby-sync.yaml apply /state/plans/run-2.json",
      report: "/state/plans/run-2.html",
    });
    // The report beside the plan shows the change the plan holds, and how to apply it.
    const report = plans.files.get("/state/plans/run-2.html") as string;
    expect(report).toContain("person019.staff@example.test");
    expect(report).toContain(outcome?.plan?.command);
    expect(targets.sent).toHaveLength(1);

    const plan = await readPlan(plans, "/state/plans/run-2.json");
    const applyOptions = {
      runId: "apply-1",
      planPath: "/state/plans/run-2.json",
      allowEmpty: false,
      maxAge: { text: "24h", ms: 86_400_000 },
    };
    const clock = { now: () => 1_700_000_600_000 };
    const approved = await checkPlan(plan, resolveTargets(config), applyOptions, { state, clock });
    const applied = await applyPlan(plan, approved, applyOptions, {
      state,
      target: (target) => targets.open(target),
      clock,
      log: { event() {} },
      say: () => {},
    });
    expect(applied.exitCode).toBe(0);
    expect(targets.sent[1]?.csv).toBe(toCsv(stopped.plan.rows.slice()));
    expect(state.saved.get("default")?.runId).toBe("apply-1");
    expect(state.saved.get("default")?.rows.map((stored) => stored.stableId)).toEqual(
      staff(8).map((record) => record.stableId),
    );

    await expect(checkPlan(plan, resolveTargets(config), applyOptions, { state, clock })).rejects.toThrow(
      /no longer the one this plan was computed against/,
    );
  });
});
