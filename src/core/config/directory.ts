/**
 * The `directory` block: one schema branch per source, selected by `type` (default `ldap`, so every config written
 * before there was a choice keeps its meaning). A new source adds its branch here and its adapter folder in
 * src/adapters (listed in src/adapters/directory-sources.ts).
 */
import { z } from "zod";
import { entraDirectorySchema } from "./directory-entra.ts";
import { ldapDirectorySchema } from "./directory-ldap.ts";

export const directorySchema = z.discriminatedUnion("type", [ldapDirectorySchema, entraDirectorySchema], {
  error: "directory.type must be one of: ldap, entra",
});

/**
 * A block of `directory` written as a list (several sources, e.g. AD and Entra ID): the same branches, each with
 * an optional `mapping` that overrides the top-level one for that source only.
 */
export function listedSourceSchema(mapping: z.ZodType) {
  const sourceMapping = mapping.optional().meta({
    description: "Overrides the top-level mapping, column by column, for this source only.",
  });
  return z.discriminatedUnion(
    "type",
    [
      ldapDirectorySchema.extend({ mapping: sourceMapping }),
      entraDirectorySchema.extend({ mapping: sourceMapping }),
    ],
    { error: "type must be one of: ldap, entra" },
  );
}

/** Every key some branch knows: for "did you mean" hints on a misspelt directory key. */
export const DIRECTORY_KEYS: readonly string[] = [
  ...new Set([
    ...Object.keys(ldapDirectorySchema.shape),
    ...Object.keys(entraDirectorySchema.shape),
    "mapping",
  ]),
];
