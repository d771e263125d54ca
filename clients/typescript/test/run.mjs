// `npm test`: one local stack for every test file (each runs in a process of its own), then down.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

import { startOwnStack } from "./support/stack.mjs";

const stack = await startOwnStack();
let status = 1;
try {
  const { stop, ...shared } = stack;
  const files = readdirSync(new URL(".", import.meta.url)).filter((name) => name.endsWith(".test.mjs")).map((name) => `test/${name}`);
  const run = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...files], {
    stdio: "inherit", env: { ...process.env, COURIER_TEST_STACK: JSON.stringify(shared) },
  });
  status = run.status ?? 1;
} finally {
  stack.stop();
}
process.exit(status);
