/**
 * What every driver with a local store does for `ImageStore.pull` before and around fetching an image, and the
 * fetch itself for the two on containers-storage (Podman's and Buildah's CLIs take the same flags).
 */
import { containersAuthFile } from "./containers-auth.js";
import type { PullOptions, StoredImage } from "./contract.js";
import { type CommandResult, cancelledError, commandFailed, DriverError } from "./errors.js";
import { pullFailureCode } from "./pull-failure.js";

const OP = "images.pull";

export const imageNotFound = (driver: string, operation: string, ref: string, hints: string[] = []) =>
  new DriverError("CNBP_IMAGE_NOT_FOUND", driver, operation, `no image ${JSON.stringify(ref)}`, { hints });

/**
 * The pull policy: an aborted signal is CNBP_CANCELLED; "if-not-present" and "never" return the stored image,
 * "never" without one is CNBP_IMAGE_NOT_FOUND; else `fetch` pulls.
 */
export async function pullByPolicy(
  driver: string,
  ref: string,
  opts: PullOptions,
  inspect: (ref: string) => Promise<StoredImage | undefined>,
  fetch: () => Promise<StoredImage>,
): Promise<StoredImage> {
  const policy = opts.policy ?? "if-not-present";
  if (opts.signal?.aborted) throw cancelledError(driver, OP);
  if (policy !== "always") {
    const found = await inspect(ref);
    if (found) return found;
    if (policy === "never") throw imageNotFound(driver, OP, ref, ["pull policy is never"]);
  }
  return fetch();
}

/**
 * `<tool> pull --quiet` of `ref` (for the platform asked, with the credentials in a containers auth file that
 * is removed afterwards) through `run`, which gets the arguments; then the pulled image, inspected.
 */
export async function containersCliPull(
  driver: string,
  ref: string,
  opts: PullOptions,
  run: (args: string[], signal?: AbortSignal) => Promise<CommandResult>,
  inspect: (ref: string) => Promise<StoredImage | undefined>,
  extraArgs: readonly string[] = [],
): Promise<StoredImage> {
  const auth = opts.auth && (await containersAuthFile(driver, driver, ref, opts.auth));
  try {
    const args = ["pull", "--quiet", ...extraArgs, ...(opts.platform ? ["--platform", opts.platform] : [])];
    if (auth) args.push("--authfile", auth.file);
    const r = await run([...args, ref], opts.signal);
    if (r.exitCode !== 0) throw commandFailed(driver, OP, r, pullFailureCode(r.stderr));
    const img = await inspect(r.stdout.trim() || ref);
    if (!img) throw imageNotFound(driver, OP, ref);
    return img;
  } finally {
    if (auth) await auth.dispose();
  }
}
