/**
 * Where an object sits among the configured search bases: with overlapping bases (an OU and its parent) the same
 * person is returned by both searches but is one record, read under the first base in config order that holds it,
 * and its SITE comes from the most specific base that names one.
 */
import type { SearchBase } from "../../core/config/directory-ldap.ts";

/** A DN's RDNs, lower-cased and without the spaces LDAP ignores, leaf first: `CN=A, OU=B` -> ["cn=a", "ou=b"]. */
export function rdnsOf(dn: string): string[] {
  const rdns: string[] = [];
  let current = "";
  for (let index = 0; index < dn.length; index++) {
    const character = dn[index] as string;
    if (character === "\\") {
      current += character + (dn[index + 1] ?? "");
      index++;
    } else if (character === ",") {
      rdns.push(current);
      current = "";
    } else current += character;
  }
  rdns.push(current);
  return rdns.map((rdn) =>
    rdn
      .split("+")
      .map((pair) =>
        pair
          .replace(/^\s*([^=]*?)\s*=\s*/, "$1=")
          .trimEnd()
          .toLowerCase(),
      )
      .join("+"),
  );
}

/** Whether the DN with these RDNs lies at or below the base with those RDNs. */
function isWithin(rdns: readonly string[], baseRdns: readonly string[]): boolean {
  if (rdns.length < baseRdns.length) return false;
  const offset = rdns.length - baseRdns.length;
  return baseRdns.every((rdn, index) => rdns[offset + index] === rdn);
}

export interface BasePlacement {
  /** Undefined when another base's search reads this object; otherwise the SITE its bases give it, if any. */
  place(dn: string, baseIndex: number): { site: string | undefined } | undefined;
}

export function createBasePlacement(searchBases: readonly SearchBase[]): BasePlacement {
  const bases = searchBases.map((searchBase) => ({ ...searchBase, rdns: rdnsOf(searchBase.base) }));
  const overlapping = bases.some((base, index) =>
    bases.some((other, otherIndex) => otherIndex !== index && isWithin(base.rdns, other.rdns)),
  );
  if (!overlapping) {
    // The common case: each object is under exactly one base, and no DN needs parsing.
    return { place: (_dn, baseIndex) => ({ site: bases[baseIndex]?.site }) };
  }
  return {
    place(dn, baseIndex) {
      const rdns = rdnsOf(dn);
      let first: number | undefined;
      let mostSpecific: (typeof bases)[number] | undefined;
      for (const [index, base] of bases.entries()) {
        if (!isWithin(rdns, base.rdns)) continue;
        first ??= index;
        if (base.site && (!mostSpecific || base.rdns.length > mostSpecific.rdns.length)) mostSpecific = base;
      }
      // A DN this search returned but no base seems to hold (an unusual spelling): keep it where it was found.
      if (first !== undefined && first !== baseIndex) return undefined;
      return { site: first === undefined ? bases[baseIndex]?.site : mostSpecific?.site };
    },
  };
}
