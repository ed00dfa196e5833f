/**
 * Credentials for one pull by a containers/image tool (Podman, Buildah, skopeo): their `--authfile` format in
 * a private temporary file, so that the tool never reads the user's docker config.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RegistryAuth } from "./contract.js";
import { DriverError } from "./errors.js";

export interface AuthFile {
  readonly file: string;
  dispose(): Promise<void>;
}

/**
 * Writes `auth` for `ref`'s registry host (docker.io for a name without one). Throws CNBP_UNSUPPORTED for a
 * registry token, which the format cannot carry; `driver` and `tool` name them in that error.
 */
export async function containersAuthFile(
  driver: string,
  tool: string,
  ref: string,
  auth: RegistryAuth,
): Promise<AuthFile> {
  if ("registryToken" in auth)
    throw new DriverError("CNBP_UNSUPPORTED", driver, "images.pull", `${tool} cannot use a registry token`);
  const first = ref.split("/")[0] ?? "";
  const host = ref.includes("/") && /[.:]|^localhost$/.test(first) ? first : "docker.io";
  const entry =
    "identityToken" in auth
      ? { identitytoken: auth.identityToken }
      : { auth: Buffer.from(`${auth.username}:${auth.password}`).toString("base64") };
  const dir = await mkdtemp(join(tmpdir(), `cnbp-${tool}-auth-`));
  const file = join(dir, "auth.json");
  await writeFile(file, JSON.stringify({ auths: { [host]: entry } }), { mode: 0o600 });
  return { file, dispose: () => rm(dir, { recursive: true, force: true }) };
}
