/**
 * The forms of account name an Active Directory simple bind accepts. Anything else (a bare "svc-ilobby") is
 * answered with "invalid credentials" (data 52e), which reads like a wrong password; naming the real problem
 * saves an administrator from resetting a password that was right.
 */
import { type CheckResult, passed, warned } from "./checks.ts";

export type BindNameForm = "dn" | "upn" | "down-level" | "unknown";

export function bindNameForm(bindDn: string): BindNameForm {
  const name = bindDn.trim();
  if (/^[A-Za-z][A-Za-z0-9-]*\s*=|^\d+(\.\d+)+\s*=/.test(name)) return "dn";
  if (/^[^@\s\\]+@[^@\s\\]+$/.test(name)) return "upn";
  if (/^[^\\\s]+\\[^\\]+$/.test(name)) return "down-level";
  return "unknown";
}

/** Why an unusable bind name fails and what to write instead; undefined when the name has a usable form. */
export function describeBindNameProblem(bindDn: string): { cause: string; fix: string } | undefined {
  if (bindNameForm(bindDn) !== "unknown") return undefined;
  const account = bindDn.trim() || "svc-ilobby";
  return {
    cause: `"${bindDn}" is neither a DN, a UPN nor DOMAIN\\user, so Active Directory cannot find the account and answers "invalid credentials"`,
    fix: `set directory.bindDn to the account's UPN (${account}@corp.example.com), its down-level name (CORP\\${account}) or its full DN (CN=${account},OU=Service Accounts,DC=corp,DC=example,DC=com)`,
  };
}

export function bindNameCheck(bindDn: string): CheckResult {
  const title = "bind account name";
  const problem = describeBindNameProblem(bindDn);
  if (problem) return warned("bind-name", title, problem.cause, problem.fix);
  const forms = { dn: "a distinguished name", upn: "a UPN", "down-level": "a DOMAIN\\user name" } as const;
  return passed("bind-name", title, `"${bindDn}" is ${forms[bindNameForm(bindDn) as keyof typeof forms]}`);
}
