/** Site-name checks: the iLobby portal compares site names exactly, so "Montréal" is not "Montreal". */
import { editDistance } from "./edit-distance.ts";

export type SiteCheck = { ok: true } | { ok: false; reason: "missing" | "unknown"; suggestion?: string };

export function checkSite(site: string, sites: readonly string[] | undefined): SiteCheck {
  if (!sites) return { ok: true };
  if (site === "") return { ok: false, reason: "missing" };
  if (sites.includes(site)) return { ok: true };
  const suggestion = suggestSite(site, sites);
  return suggestion === undefined
    ? { ok: false, reason: "unknown" }
    : { ok: false, reason: "unknown", suggestion };
}

function foldAccents(value: string): string {
  return value
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase();
}

function suggestSite(site: string, sites: readonly string[]): string | undefined {
  const folded = foldAccents(site);
  const exactButCase = sites.find((candidate) => foldAccents(candidate) === folded);
  if (exactButCase) return exactButCase;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of sites) {
    const distance = editDistance(foldAccents(candidate), folded);
    if (distance <= Math.max(1, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

export function describeSiteProblem(site: string, check: Exclude<SiteCheck, { ok: true }>): string {
  if (check.reason === "missing") return "SITE is empty but `sites` lists the portal's sites";
  const hint = check.suggestion ? `; did you mean "${check.suggestion}"?` : "";
  return `SITE "${site}" is not one of the portal's sites${hint}`;
}
