/**
 * Runs the built CLI on a pseudo-terminal (Python's pty module: Node has none built in), as a person at a prompt:
 * each step waits for its prompt text (after the previous one's) and then types its keys. Returns the exit code
 * and everything the terminal showed.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CLI_PATH } from "./cli.ts";
import { ensureCommands } from "./secret-service.ts";

const TERMINAL_DRIVER = `
import json, os, pty, select, sys, time
steps, command = json.loads(sys.argv[1]), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
seen = b""
unread = b""
def read(until=None):
    global seen, unread
    deadline = time.time() + 30
    while until is None or until.encode() not in unread:
        if time.time() > deadline:
            sys.exit("timed out waiting for %r; the terminal showed %r" % (until, seen))
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                if until is None:
                    return
                sys.exit("the program ended before %r; the terminal showed %r" % (until, seen))
            seen += chunk
            unread += chunk
    if until is not None:
        unread = unread[unread.index(until.encode()) + len(until.encode()):]
for prompt, keys in steps:
    read(prompt)
    os.write(fd, keys.encode())
read()
status = os.waitpid(pid, 0)[1]
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "terminal": seen.decode("utf-8", "replace")}))
`;

export async function runCliOnTerminal(
  args: readonly string[],
  steps: [prompt: string, keys: string][],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number; terminal: string }> {
  ensureCommands({ python3: "python3-minimal" });
  const driverArgs = ["-c", TERMINAL_DRIVER, JSON.stringify(steps), process.execPath, CLI_PATH, ...args];
  const { stdout } = await promisify(execFile)("python3", driverArgs, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", ...options.env },
  });
  return JSON.parse(stdout) as { code: number; terminal: string };
}
