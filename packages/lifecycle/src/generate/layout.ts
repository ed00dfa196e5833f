/**
 * Where extensions write and where their Dockerfiles end up (shared/spec/extensions.md 5).
 * Platform >= 0.13: each extension's output dir is `<generated>/<escaped-id>/` and stays there as its
 * Dockerfiles' build context (`context/`, `context.build/`, `context.run/` included).
 * Platform < 0.13: each writes to a temp dir; its Dockerfiles are then copied to
 * `<generated>/<kind>/<escaped-id>/Dockerfile`, extend-config.toml beside each (the build context is <app>).
 * Plans handed to extensions live in a scratch dir removed at the end.
 */
import { chown, copyFile, cp, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { apiAtLeast, type DockerfileKind } from "@cnbp/core";
import { escapeId, type Module } from "../modules/store.js";

export interface BuildUser {
  readonly uid: number;
  readonly gid: number;
}

/** A Dockerfile an extension produced, where it was read. */
export interface ProducedDockerfile {
  readonly extension: Module;
  readonly kind: DockerfileKind;
  readonly path: string;
}

export interface OutputLayout {
  /** A fresh, empty output dir for the extension, writable by the build user. */
  outputDir(extension: Module): Promise<string>;
  /** Where the extension's plan file goes (its dir exists and is readable by the build user). */
  planPath(extension: Module): Promise<string>;
  /** Where to read the outputs of an extension without bin/generate, given its pre-populated `generate/` dir. */
  prepopulated(extension: Module, generateDir: string, outputDir: string): Promise<string>;
  /** Puts a Dockerfile where the extender looks for it; an ignored run.Dockerfile gets the `.ignore` suffix. */
  place(dockerfile: ProducedDockerfile, ignored: boolean): Promise<void>;
  /** Removes the scratch dir. */
  dispose(): Promise<void>;
}

export async function openLayout(
  platformApi: string,
  generatedDir: string,
  user: BuildUser,
): Promise<OutputLayout> {
  const scratch = await mkdtemp(join(tmpdir(), "cnbp-generate-"));
  await giveTo(scratch, user);
  const planPath = async (extension: Module) => {
    const dir = join(scratch, "plans", escapeId(extension.id));
    await ownedDir(dir, user);
    return join(dir, "plan.toml");
  };
  const dispose = () => rm(scratch, { recursive: true, force: true });
  await mkdir(generatedDir, { recursive: true });

  if (apiAtLeast(platformApi, "0.13")) {
    return {
      async outputDir(extension) {
        const dir = join(generatedDir, escapeId(extension.id));
        await rm(dir, { recursive: true, force: true });
        await ownedDir(dir, user);
        return dir;
      },
      planPath,
      async prepopulated(_extension, generateDir, outputDir) {
        await cp(generateDir, outputDir, { recursive: true, force: true }).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        });
        return outputDir;
      },
      async place(dockerfile, ignored) {
        if (ignored) await rename(dockerfile.path, `${dockerfile.path}.ignore`);
      },
      dispose,
    };
  }

  return {
    async outputDir(extension) {
      const dir = join(scratch, "output", escapeId(extension.id));
      await ownedDir(dir, user);
      return dir;
    },
    planPath,
    prepopulated: async (_extension, generateDir) => generateDir,
    async place(dockerfile, ignored) {
      const dir = join(generatedDir, dockerfile.kind, escapeId(dockerfile.extension.id));
      await mkdir(dir, { recursive: true });
      await copyFile(dockerfile.path, join(dir, ignored ? "Dockerfile.ignore" : "Dockerfile"));
      await copyFile(
        join(dirname(dockerfile.path), "extend-config.toml"),
        join(dir, "extend-config.toml"),
      ).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      });
    },
    dispose,
  };
}

/** `mkdir -p`, the last dir given to the build user. */
async function ownedDir(dir: string, user: BuildUser): Promise<void> {
  await mkdir(dir, { recursive: true });
  await giveTo(dir, user);
}

/** Only root can give files away; a lifecycle already running as the build user owns what it makes. */
async function giveTo(path: string, user: BuildUser): Promise<void> {
  if (process.getuid?.() === 0) await chown(path, user.uid, user.gid);
}
