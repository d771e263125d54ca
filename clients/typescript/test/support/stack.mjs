// The local stack for the client's tests, as a developer runs it: `courier dev up` on free
// ports with a fake model server, an API key made by `courier keys create`, torn down after.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after } from "node:test";

import { Courier } from "../../dist/index.js";

const ROOT = resolve(import.meta.dirname, "..", "..", "..", "..");
export const PYTHON = process.env.COURIER_PYTHON || join(ROOT, ".venv", "bin", "python");
const DEPLOYMENTS = ["DeepSeek-R1", "DeepSeek-V3-0324", "Phi-4-multimodal-instruct", "Phi-4"];

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    }).on("error", fail);
  });
}

function python(args, env = {}) {
  return execFileSync(PYTHON, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 180_000 });
}

/** A test file's stack and a client signed in to it; the stack stops after the file's tests. */
export async function connect() {
  const stack = await startStack();
  after(() => stack.stop());
  return { stack, courier: new Courier({ baseUrl: stack.url, apiKey: stack.apiKey }) };
}

/** The stack test/run.mjs started for every test file (COURIER_TEST_STACK), else one of this file's own. */
export async function startStack() {
  if (process.env.COURIER_TEST_STACK) return { ...JSON.parse(process.env.COURIER_TEST_STACK), stop() {} };
  return startOwnStack();
}

export async function startOwnStack() {
  const modelPort = await freePort();
  const models = spawn(PYTHON, ["-m", "devstack.model_server", "--port", String(modelPort)], { cwd: ROOT, stdio: "ignore" });
  const base = Number(python(["-c", "from devstack.environment import free_port_base; print(free_port_base())"]).trim());
  const dir = mkdtempSync(join(tmpdir(), "courier-ts-"));
  const where = ["--dir", dir, "--port-base", String(base)];
  const modelEnv = {
    AZURE_AI_FOUNDRY_ENDPOINT: `http://127.0.0.1:${modelPort}`,
    COURIER_AI_CATALOG: JSON.stringify({ deployments: DEPLOYMENTS.map((name) => ({ name, keySecret: null })) }),
  };
  python(["-m", "devstack.cli", "up", ...where, "--backoff-scale", "0.002"], modelEnv);
  const state = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
  // `eval "$(courier dev env)"`, as the README has it: the stack's AWS and QStash settings.
  const env = Object.fromEntries(
    python(["-m", "devstack.cli", "env", ...where]).split("\n").filter((line) => line.startsWith("export "))
      .map((line) => line.slice("export ".length).split(/=(.*)/s).slice(0, 2)),
  );
  const created = JSON.parse(python(["-m", "courier_cli.main", "keys", "create", "--tenant", "acme", "--table", state.resources.table, "--json"], env));
  return {
    url: state.urls.api,
    apiKey: created.apiKey,
    signingKeys: { currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY, nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY },
    stop() {
      try {
        python(["-m", "devstack.cli", "down", ...where]);
      } finally {
        models.kill();
      }
    },
  };
}
