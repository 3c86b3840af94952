/** The JSON Schema of the config file, generated from the same zod schema that validates it. */
import { z } from "zod";
import { configObjectSchema } from "./schema.ts";

export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configObjectSchema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }),
    title: "ilobby-sync configuration",
    description:
      "Configuration of ilobby-sync: Active Directory -> iLobby Address Book. Secrets never go here.",
  };
}
