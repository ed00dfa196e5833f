/** The Docker daemon's image store as a cnbp ImageStore; OCI layouts move as docker archives (see layouts.ts). */
import {
  DriverError,
  type ImageStore,
  imageNotFound,
  type PullOptions,
  pullByPolicy,
  pullFailureCode,
  type RegistryAuth,
  type StoredImage,
} from "@cnbp/core/drivers";
import type { ImageInspectInfo } from "dockerode";
import { DRIVER_NAME } from "./connection.js";
import { cancelled, type Engine, engineError, errorOf, followJson, messageOf, statusOf } from "./engine.js";
import { exportLayout, importLayout } from "./layouts.js";

export const notFound = (operation: string, ref: string, hints?: string[]) =>
  imageNotFound(DRIVER_NAME, operation, ref, hints);

/** `repo` and `tag` of a reference to tag with ("latest" when it names none). */
export function splitTag(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/")
    ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) }
    : { repo: ref, tag: "latest" };
}

export class DockerImages implements ImageStore {
  constructor(private readonly engine: () => Engine) {}

  async inspect(ref: string): Promise<StoredImage | undefined> {
    const engine = this.engine();
    try {
      return toStored(await engine.docker.getImage(ref).inspect());
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw engineError(engine, "images.inspect", err);
    }
  }

  pull(ref: string, opts: PullOptions = {}): Promise<StoredImage> {
    return pullByPolicy(
      DRIVER_NAME,
      ref,
      opts,
      (r) => this.inspect(r),
      () => this.fetch(ref, opts),
    );
  }

  private async fetch(ref: string, opts: PullOptions): Promise<StoredImage> {
    const OP = "images.pull";
    const engine = this.engine();
    let failure: string | undefined;
    try {
      const progress = await engine.docker.pull(ref, {
        ...(opts.platform ? { platform: opts.platform } : {}),
        ...(opts.auth ? { authconfig: authConfig(ref, opts.auth) } : {}),
        ...(opts.signal ? { abortSignal: opts.signal } : {}),
      });
      await followJson(progress, (m) => {
        failure ??= errorOf(m);
      });
    } catch (err) {
      if (opts.signal?.aborted) throw cancelled(OP);
      const e = engineError(engine, OP, err);
      if (e.code === "CNBP_DRIVER_UNAVAILABLE") throw e;
      failure = messageOf(err);
    }
    if (opts.signal?.aborted) throw cancelled(OP);
    if (failure !== undefined) {
      throw new DriverError(pullFailureCode(failure), DRIVER_NAME, OP, `pulling ${ref}: ${failure}`);
    }
    const img = await this.inspect(ref);
    if (!img) throw notFound(OP, ref);
    return img;
  }

  async importOciLayout(dir: string, opts: { tag: string; image?: string }): Promise<StoredImage> {
    const id = await importLayout(this.engine(), dir, opts.image);
    await this.tag(id, opts.tag);
    const img = await this.inspect(opts.tag);
    if (!img) throw notFound("images.importOciLayout", opts.tag);
    return img;
  }

  async exportOciLayout(ref: string, dir: string, opts: { name?: string } = {}): Promise<void> {
    const img = await this.inspect(ref);
    if (!img) throw notFound("images.exportOciLayout", ref);
    await exportLayout(this.engine(), img, dir, opts.name ?? ref);
  }

  async tag(source: string, target: string): Promise<void> {
    const engine = this.engine();
    try {
      await engine.docker.getImage(source).tag(splitTag(target));
    } catch (err) {
      if (statusOf(err) === 404) throw notFound("images.tag", source);
      throw engineError(engine, "images.tag", err);
    }
  }

  async remove(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    const engine = this.engine();
    const img = await this.inspect(ref);
    if (!img) return;
    const remove = async (name: string, force: boolean) => {
      try {
        await engine.docker.getImage(name).remove({ force });
      } catch (err) {
        if (statusOf(err) === 404) return;
        throw err;
      }
    };
    try {
      if (opts.force) return await remove(img.id, true);
      const isId = img.id.replace(/^sha256:/, "").startsWith(ref.replace(/^sha256:/, ""));
      await remove(ref, false).catch(async (err: unknown) => {
        // a container uses the image: forcing a reference only drops the reference, as the contract says
        if (statusOf(err) === 409 && !isId) return remove(ref, true);
        throw err;
      });
    } catch (err) {
      throw engineError(engine, "images.remove", err);
    }
  }
}

export function toStored(img: ImageInspectInfo): StoredImage {
  const config = img.Config as {
    Env?: string[] | null;
    User?: string;
    Labels?: Record<string, string> | null;
  };
  const variant = (img as { Variant?: string }).Variant;
  const created = img.Created && !img.Created.startsWith("0001-") ? img.Created : undefined;
  return {
    id: img.Id,
    tags: img.RepoTags ?? [],
    repoDigests: img.RepoDigests ?? [],
    os: img.Os || "linux",
    arch: img.Architecture ?? "",
    ...(variant ? { variant } : {}),
    labels: config?.Labels ?? {},
    env: config?.Env ?? [],
    ...(config?.User ? { user: config.User } : {}),
    diffIds: img.RootFS?.Layers ?? [],
    ...(created ? { created } : {}),
  };
}

/** The X-Registry-Auth payload for one pull: drivers never read the user's docker config. */
function authConfig(ref: string, auth: RegistryAuth): Record<string, string> {
  const first = ref.split("/")[0] ?? "";
  const serveraddress = ref.includes("/") && /[.:]|^localhost$/.test(first) ? first : "docker.io";
  if ("identityToken" in auth) return { identitytoken: auth.identityToken, serveraddress };
  if ("registryToken" in auth) return { registrytoken: auth.registryToken, serveraddress };
  return { username: auth.username, password: auth.password, serveraddress };
}
