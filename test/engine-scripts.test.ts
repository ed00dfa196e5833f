/** scripts/engines: start.sh is idempotent and stop.sh ends only what start.sh started. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { DOCKER_SOCK, REGISTRY, REPO_ROOT } from "#test-utils";

// A second registry on its own port and state dir, so the shared engines stay untouched.
const ADDR = "127.0.0.1:5055";
const state = await mkdtemp(join(tmpdir(), "cnbp-engines-test-"));
const env = { CNBP_ENGINES_STATE: state, CNBP_REGISTRY_ADDR: ADDR };
const script = (name: string) =>
  execa("bash", [join(REPO_ROOT, "scripts/engines", name)], { env, reject: false, stdin: "ignore" });
const answers = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
};
const dockerAnswers = async () =>
  (await execa("curl", ["-fsS", "--unix-socket", DOCKER_SOCK, "http://localhost/_ping"], { reject: false }))
    .exitCode === 0;

afterAll(async () => {
  await script("stop.sh");
  await rm(state, { recursive: true, force: true });
});

describe("scripts/engines", () => {
  it("starts a registry, leaves running engines alone, and records what it started", async () => {
    const r = await script("start.sh");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("[engines] Docker Engine already answers on");
    expect(r.stderr).toContain(`[engines] registry is up`);
    expect(await answers(`http://${ADDR}/v2/`)).toBe(true);
    expect(await readFile(join(state, "registry.pid"), "utf8")).toMatch(/^\d+\n$/);
  });

  it("does nothing the second time", async () => {
    const pid = await readFile(join(state, "registry.pid"), "utf8");
    const r = await script("start.sh");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`[engines] registry already answers on ${ADDR}`);
    expect(r.stderr).not.toContain("installing");
    expect(await readFile(join(state, "registry.pid"), "utf8")).toBe(pid);
  });

  it("stops only what it started", async () => {
    const r = await script("stop.sh");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\[engines\] stopping registry \(pid \d+\)$/);
    expect(await answers(`http://${ADDR}/v2/`)).toBe(false);
    expect(await answers(`http://${REGISTRY}/v2/`)).toBe(true);
    expect(await dockerAnswers()).toBe(true);
  });
});
