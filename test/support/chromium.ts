/**
 * Opens a local HTML file in Debian's headless Chromium, as a person opening an attachment would, and reports
 * what the page shows: its visible text (innerText), which elements could load or run anything, and every
 * request the page made while loading (over the DevTools protocol; Node's WebSocket is enough). Chromium runs as
 * our child with its own profile, resolves no host name, and is killed by PID when done.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensureCommands } from "./secret-service.ts";

export interface RenderedPage {
  /** document.body.innerText: the text a person sees. */
  text: string;
  title: string;
  /** Elements that run, embed or load something: script, img, iframe, object, embed, link, and any [src]/[href]. */
  activeElements: string[];
  /** URLs the page requested while loading, besides the file itself. */
  requests: string[];
}

const CHROMIUM_FLAGS = [
  "--headless",
  // Tests run as root in CI, where Chromium's sandbox cannot start.
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-extensions",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // A request that slipped through must fail here, never leave the machine.
  "--host-resolver-rules=MAP * ~NOTFOUND",
  "--remote-debugging-address=127.0.0.1",
  "--remote-debugging-port=0",
];

export function ensureChromium(): void {
  ensureCommands({ chromium: "chromium" });
}

function devToolsUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${seen}`)), 30_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${seen}`)));
  });
}

/** One DevTools session over a WebSocket: numbered commands, and events to listeners. */
class DevTools {
  private next = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private readonly listeners: ((method: string, params: Record<string, unknown>) => void)[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
      };
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result);
      } else if (message.method) {
        for (const listener of this.listeners) listener(message.method, message.params ?? {});
      }
    });
  }

  static async connect(url: string): Promise<DevTools> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", reject, { once: true });
    });
    return new DevTools(socket);
  }

  send<T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.next++;
    this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
  }

  on(listener: (method: string, params: Record<string, unknown>) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.socket.close();
  }
}

export async function renderInChromium(htmlFile: string): Promise<RenderedPage> {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), "ilobby-chromium-"));
  const child = spawn("chromium", [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, "about:blank"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let devTools: DevTools | undefined;
  try {
    devTools = await DevTools.connect(await devToolsUrl(child));
    const { targetId } = await devTools.send<{ targetId: string }>("Target.createTarget", {
      url: "about:blank",
    });
    const { sessionId } = await devTools.send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const fileUrl = pathToFileURL(htmlFile).href;
    const requests: string[] = [];
    let loaded: () => void = () => {};
    const load = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    devTools.on((method, params) => {
      if (method === "Network.requestWillBeSent") {
        const url = (params.request as { url: string }).url;
        if (url !== fileUrl) requests.push(url);
      }
      if (method === "Page.loadEventFired") loaded();
    });
    await devTools.send("Network.enable", {}, sessionId);
    await devTools.send("Page.enable", {}, sessionId);
    await devTools.send("Page.navigate", { url: fileUrl }, sessionId);
    await load;
    const evaluate = async <T>(expression: string) =>
      (
        await devTools?.send<{ result: { value: T } }>(
          "Runtime.evaluate",
          { expression, returnByValue: true },
          sessionId,
        )
      )?.result.value as T;
    return {
      text: await evaluate<string>("document.body.innerText"),
      title: await evaluate<string>("document.title"),
      activeElements: await evaluate<string[]>(
        `[...document.querySelectorAll("script, img, iframe, object, embed, link, [src], [href], [style]")].map((element) => element.outerHTML.slice(0, 80))`,
      ),
      requests,
    };
  } finally {
    devTools?.close();
    child.kill("SIGKILL");
    await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(null)));
    rmSync(profile, { recursive: true, force: true });
  }
}
