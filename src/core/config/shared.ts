/** Schema pieces every config block uses. */
import { z } from "zod";

export const nonEmpty = z.string().trim().min(1, { error: "must not be empty" });

/** A whole number of seconds, from 1 up to one day. */
export const secondsUpToOneDay = z
  .number()
  .int()
  .positive()
  .max(86_400, { error: "must be at most 86400 (one day)" });
