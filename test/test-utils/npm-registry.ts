/**
 * A real npm registry for the tests: verdaccio (installed by scripts/bootstrap.sh into scripts/npm-registry)
 * on a free loopback port, with its storage and config in a temp dir and no uplinks, so it never proxies to a
 * public registry. Packages are packed and published with the real npm.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";

const VERDACCIO = fileURLToPath(
  new URL("../../scripts/npm-registry/node_modules/verdaccio/bin/verdaccio", import.meta.url),
);

export interface NpmRegistry {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** Runs npm with a user config that holds only this registry and its token. */
  npm(args: readonly string[], cwd?: string): Promise<string>;
  /** Publishes a package directory or a tarball made by `npm pack`. */
  publish(pkg: string): Promise<void>;
  /** Stops the registry and removes its storage. */
  stop(): Promise<void>;
}

const CONFIG = `storage: ./storage
auth:
  htpasswd:
    file: ./htpasswd
    max_users: 1
uplinks: {}
packages:
  "**":
    access: $all
    publish: $authenticated
    unpublish: $authenticated
log: { type: stdout, format: json, level: warn }
`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts verdaccio and registers the user that publishes. */
export async function startNpmRegistry(): Promise<NpmRegistry> {
  if (!existsSync(VERDACCIO))
    throw new Error(
      "verdaccio is not installed: run `bash scripts/bootstrap.sh` (it installs scripts/npm-registry)",
    );
  const dir = await mkdtemp(join(tmpdir(), "cnbp-npm-registry-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  await writeFile(join(dir, "config.yaml"), CONFIG);
  const proc: ResultPromise = execa(
    process.execPath,
    [VERDACCIO, "--config", join(dir, "config.yaml"), "--listen", `127.0.0.1:${port}`],
    { cwd: dir, reject: false, stdin: "ignore", all: true },
  );
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(url, proc);
    const token = await addUser(url);
    const userconfig = join(dir, "npmrc");
    await writeFile(userconfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    const npm = async (args: readonly string[], cwd = dir) =>
      (await execa("npm", [...args, "--userconfig", userconfig], { cwd, stdin: "ignore" })).stdout;
    return {
      url,
      npm,
      publish: async (pkg) => void (await npm(["publish", "--ignore-scripts", "--registry", url, pkg])),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitForPing(url: string, proc: ResultPromise): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`verdaccio exited: ${(await proc).all}`);
    const ok = await fetch(new URL("-/ping", url)).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`verdaccio did not answer on ${url} within 30 s`);
}

async function addUser(url: string): Promise<string> {
  const r = await fetch(new URL("-/user/org.couchdb.user:cnbp-test", url), {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "cnbp-test", password: "cnbp-test-password" }),
  });
  const body = (await r.json()) as { token?: string };
  if (!r.ok || !body.token) throw new Error(`verdaccio refused the test user: ${JSON.stringify(body)}`);
  return body.token;
}

/** Packs a package directory with `npm pack` into `dest`; resolves to the tarball's path. */
export async function npmPack(pkg: string, dest: string): Promise<string> {
  const r = await execa("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dest, pkg], {
    stdin: "ignore",
  });
  const [packed] = JSON.parse(r.stdout) as { filename: string }[];
  if (!packed) throw new Error(`npm pack ${pkg} printed no file name`);
  return join(dest, packed.filename);
}
