/** A temporary containers auth file for one pull: buildah never sees the user's docker config. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DriverError, type RegistryAuth } from "@cnbp/core";
import { DRIVER_NAME } from "./buildah.js";

export interface AuthFile {
  readonly file: string;
  dispose(): Promise<void>;
}

/** Writes `auth` for `ref`'s registry host (docker.io for a name without one) into a private temporary file. */
export async function authFile(ref: string, auth: RegistryAuth): Promise<AuthFile> {
  if ("registryToken" in auth)
    throw new DriverError(
      "CNBP_UNSUPPORTED",
      DRIVER_NAME,
      "images.pull",
      "buildah cannot use a registry token",
    );
  const first = ref.split("/")[0] ?? "";
  const host = ref.includes("/") && /[.:]|^localhost$/.test(first) ? first : "docker.io";
  const entry =
    "identityToken" in auth
      ? { identitytoken: auth.identityToken }
      : { auth: Buffer.from(`${auth.username}:${auth.password}`).toString("base64") };
  const dir = await mkdtemp(join(tmpdir(), "cnbp-buildah-auth-"));
  const file = join(dir, "auth.json");
  await writeFile(file, JSON.stringify({ auths: { [host]: entry } }), { mode: 0o600 });
  return { file, dispose: () => rm(dir, { recursive: true, force: true }) };
}
