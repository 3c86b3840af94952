/** Questions on the terminal: visible answers through readline, secrets in raw mode so they are never echoed. */
import { createInterface } from "node:readline/promises";
import { SyncError } from "../core/errors.ts";

const cancelled = () => new SyncError("secret", "cancelled: nothing was stored");

/** Reads one line from the terminal without echoing it: raw mode, so the typed characters never appear. */
export function promptHidden(
  question: string,
  input: NodeJS.ReadStream,
  echo: NodeJS.WriteStream,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (error?: SyncError) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      echo.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      // Arrow and function keys arrive as one escape sequence: they are not part of a secret.
      if (chunk.startsWith("\x1b")) return;
      for (const character of chunk) {
        if (character === "\r" || character === "\n") return finish();
        if (character === "\x03") return finish(cancelled()); // Ctrl-C
        if (character === "\x04") return value === "" ? finish(cancelled()) : finish(); // Ctrl-D
        if (character === "\x7f" || character === "\b") value = Array.from(value).slice(0, -1).join("");
        else if (character >= " ") value += character;
      }
    };
    // Raw mode before the prompt: whatever is typed once the prompt shows must not be echoed.
    input.setRawMode(true);
    input.setEncoding("utf8");
    echo.write(question);
    input.on("data", onData);
    input.resume();
  });
}

/**
 * Asks one visible question; an empty answer takes `defaultAnswer`. A fresh readline interface per question, so
 * it never competes with the raw-mode reader of promptHidden for the same input.
 */
export async function promptLine(
  question: string,
  input: NodeJS.ReadStream,
  echo: NodeJS.WriteStream,
  defaultAnswer?: string,
): Promise<string> {
  const lineReader = createInterface({ input, output: echo, terminal: Boolean(input.isTTY) });
  const abort = new AbortController();
  // Ctrl-C and Ctrl-D end the question; without these listeners readline would just pause and wait forever.
  lineReader.once("SIGINT", () => abort.abort());
  lineReader.once("close", () => abort.abort());
  try {
    const answer = await lineReader.question(`${question}${defaultAnswer ? ` [${defaultAnswer}]` : ""}: `, {
      signal: abort.signal,
    });
    return answer.trim() || defaultAnswer || "";
  } catch (error) {
    if (abort.signal.aborted) throw cancelled();
    throw error;
  } finally {
    lineReader.close();
  }
}
