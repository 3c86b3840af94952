/** Schema pieces every config block uses. */
import { z } from "zod";

export const nonEmpty = z.string().trim().min(1, { error: "must not be empty" });
