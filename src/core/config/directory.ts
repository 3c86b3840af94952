/**
 * The `directory` block: one schema branch per source, selected by `type` (default `ldap`, so every config written
 * before there was a choice keeps its meaning). A new source adds its branch here and its adapter folder in
 * src/adapters (listed in src/adapters/directory-sources.ts).
 */
import { z } from "zod";
import { ldapDirectorySchema } from "./directory-ldap.ts";

export const directorySchema = z.discriminatedUnion("type", [ldapDirectorySchema], {
  error: "directory.type must be one of: ldap",
});

export const DIRECTORY_TYPES = ["ldap"] as const;

/** Every key some branch knows: for "did you mean" hints on a misspelt directory key. */
export const DIRECTORY_KEYS: readonly string[] = [...new Set(Object.keys(ldapDirectorySchema.shape))];
