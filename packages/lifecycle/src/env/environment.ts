/**
 * The environment a buildpack, an extension or an app process gets (shared/spec/buildpack.md 6): the
 * lifecycle's own variables filtered, layer path variables, the env files of layers (`env/`, `env.build/`,
 * `env.launch/`, `env.launch/<process>/`) with their suffix rules, the platform's `<platform>/env/` and the
 * operator's `<build-config>/env/`. Values are kept byte for byte, as the files hold them.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/** The variables a layer's subdirectories add to, at build time and at launch (buildpack.md 6.2). */
export const LAYER_PATHS = {
  build: {
    bin: ["PATH"],
    lib: ["LD_LIBRARY_PATH", "LIBRARY_PATH"],
    include: ["CPATH"],
    pkgconfig: ["PKG_CONFIG_PATH"],
  },
  launch: { bin: ["PATH"], lib: ["LD_LIBRARY_PATH"] },
} as const satisfies Record<string, Record<string, readonly string[]>>;

/** Variables of the lifecycle's own environment that reach modules (buildpack.md 6.1, step 1). */
const PASSED_THROUGH = [
  "PATH",
  "LD_LIBRARY_PATH",
  "LIBRARY_PATH",
  "CPATH",
  "PKG_CONFIG_PATH",
  "HOME",
  "HOSTNAME",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "CNB_STACK_ID",
];

/** The path variables whose platform values are prepended rather than overriding (6.1, step 3). */
const PATH_VARIABLES = new Set(["PATH", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "PKG_CONFIG_PATH"]);

/** What a file without a suffix does: `override` for layer env files (Buildpack API >= 0.5), `default` for the operator's. */
export type Unsuffixed = "override" | "default";

export class Environment {
  private readonly vars: Map<string, string>;

  constructor(initial: Readonly<Record<string, string | undefined>> | Environment = {}) {
    this.vars =
      initial instanceof Environment
        ? new Map(initial.vars)
        : new Map(Object.entries(initial).filter((e): e is [string, string] => e[1] !== undefined));
  }

  /** The lifecycle's environment reduced to what modules may see (6.1, step 1). */
  static forModules(lifecycleEnv: Readonly<Record<string, string | undefined>>): Environment {
    const env = new Environment();
    for (const name of PASSED_THROUGH) {
      const value = lifecycleEnv[name];
      if (value !== undefined) env.set(name, value);
    }
    return env;
  }

  get(name: string): string | undefined {
    return this.vars.get(name);
  }

  set(name: string, value: string): void {
    this.vars.set(name, value);
  }

  delete(name: string): void {
    this.vars.delete(name);
  }

  /** `value` + `:` + the current value (no separator when there is none). */
  prependPath(name: string, value: string): void {
    const current = this.vars.get(name);
    this.vars.set(name, current ? `${value}:${current}` : value);
  }

  /**
   * Prepends each existing subdirectory of a layer (`bin/`, `lib/`, ...) to the variables `paths` gives it
   * (LAYER_PATHS.build or LAYER_PATHS.launch).
   */
  async addLayerPaths(layerDir: string, paths: Readonly<Record<string, readonly string[]>>): Promise<void> {
    for (const [subdir, names] of Object.entries(paths)) {
      const dir = join(layerDir, subdir);
      if (!(await isDirectory(dir))) continue;
      for (const name of names) this.prependPath(name, dir);
    }
  }

  /**
   * Applies the env files of one directory in name order (buildpack.md 6.3): `NAME` (per `unsuffixed`),
   * `NAME.override`, `NAME.default`, `NAME.prepend`, `NAME.append`, with `NAME.delim` giving the delimiter
   * for that directory. A missing directory is nothing to apply.
   */
  async applyEnvDir(dir: string, unsuffixed: Unsuffixed = "override"): Promise<void> {
    const files = await regularFiles(dir);
    const delims = new Map<string, string>();
    for (const file of files) {
      if (file.endsWith(".delim"))
        delims.set(file.slice(0, -".delim".length), await readFile(join(dir, file), "utf8"));
    }
    for (const file of files) {
      const dot = file.indexOf(".");
      const name = dot < 0 ? file : file.slice(0, dot);
      const suffix = dot < 0 ? unsuffixed : file.slice(dot + 1);
      if (name === "") continue;
      const read = () => readFile(join(dir, file), "utf8");
      const current = this.vars.get(name) ?? "";
      const delim = delims.get(name) ?? "";
      switch (suffix) {
        case "override":
          this.vars.set(name, await read());
          break;
        case "default":
          if (current === "") this.vars.set(name, await read());
          break;
        case "prepend":
          this.vars.set(name, current === "" ? await read() : `${await read()}${delim}${current}`);
          break;
        case "append":
          this.vars.set(name, current === "" ? await read() : `${current}${delim}${await read()}`);
          break;
        default:
          // `.delim` was read above; other suffixes are ignored
          break;
      }
    }
  }

  /**
   * The platform's user env (`<platform>/env/NAME`, 6.1 step 3): path variables are prepended with `:`,
   * others overridden; no suffixes. Regular files only (symlinks followed).
   */
  async applyPlatformEnv(platformDir: string): Promise<void> {
    const dir = join(platformDir, "env");
    for (const name of await regularFiles(dir)) {
      const value = await readFile(join(dir, name), "utf8");
      if (PATH_VARIABLES.has(name)) this.prependPath(name, value);
      else this.vars.set(name, value);
    }
  }

  /** The variables as `execve` wants them. */
  toRecord(): Record<string, string> {
    return Object.fromEntries(this.vars);
  }
}

const isDirectory = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

/** Names of the regular files in a directory (symlinks followed), sorted by byte order; none when it is missing. */
async function regularFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
  const files: string[] = [];
  for (const name of names) {
    if ((await stat(join(dir, name)).catch(() => undefined))?.isFile()) files.push(name);
  }
  return files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
