/** A user of the registry that demands a login (startAuthRegistry): images copied in, and a docker config. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

export {
  type AuthRegistry,
  startAuthRegistry,
} from "../../packages/core/src/image/registry/test-support/servers.js";

interface Login {
  readonly username: string;
  readonly password: string;
}

/** The `auth` of a docker config's `auths` entry: `user:password` in base64. */
export const basicAuth = ({ username, password }: Login) =>
  Buffer.from(`${username}:${password}`).toString("base64");

/** Copies an image of the local registry into the registry that demands `login`, with skopeo. */
export async function copyWithLogin(from: string, to: string, login: Login): Promise<void> {
  await execa("skopeo", [
    ...["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false"],
    ...["--dest-creds", `${login.username}:${login.password}`, `docker://${from}`, `docker://${to}`],
  ]);
}

/** Writes `<dir>/<name>/config.json`, a docker config with `auths`; resolves to its directory (DOCKER_CONFIG). */
export async function writeDockerConfig(
  dir: string,
  name: string,
  auths: Record<string, { auth: string }>,
): Promise<string> {
  const config = join(dir, name);
  await mkdir(config);
  await writeFile(join(config, "config.json"), JSON.stringify({ auths }));
  return config;
}
