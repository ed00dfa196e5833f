import {
  containersCliPull,
  exportLayoutWithSkopeo,
  type ImageStore,
  imageNotFound,
  importLayoutWithSkopeo,
  type PullOptions,
  pullByPolicy,
  type StoredImage,
} from "@cnbp/core/drivers";
import { loadLayoutImage } from "./layout-load.js";
import { DRIVER_NAME, failed, type PodmanCli, podman } from "./podman.js";
import { libpod } from "./service.js";

interface InspectJson {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Os?: string;
  Architecture?: string;
  Variant?: string;
  Labels?: Record<string, string> | null;
  RootFS?: { Layers?: string[] | null };
  Created?: string;
  Config?: { Env?: string[] | null; User?: string };
}

const notFound = (operation: string, ref: string, hints?: string[]) =>
  imageNotFound(DRIVER_NAME, operation, ref, hints);

export class PodmanImages implements ImageStore {
  constructor(
    private readonly cli: PodmanCli,
    private readonly skopeo = "skopeo",
  ) {}

  async inspect(ref: string): Promise<StoredImage | undefined> {
    const r = await libpod(this.cli, "images.inspect", "GET", `/images/${encodeURIComponent(ref)}/json`);
    if (r.exitCode === 404) return undefined;
    if (r.exitCode !== 0) throw failed("images.inspect", r);
    return toStored(JSON.parse(r.stdout) as InspectJson);
  }

  pull(ref: string, opts: PullOptions = {}): Promise<StoredImage> {
    const inspect = (r: string) => this.inspect(r);
    return pullByPolicy(DRIVER_NAME, ref, opts, inspect, () =>
      containersCliPull(
        DRIVER_NAME,
        ref,
        opts,
        (args, signal) => podman(this.cli, "images.pull", args, { cancelSignal: signal }),
        inspect,
      ),
    );
  }

  async importOciLayout(dir: string, opts: { tag: string; image?: string }): Promise<StoredImage> {
    const previous = await this.inspect(opts.tag);
    const loaded = previous && (await loadLayoutImage(this.cli, dir, opts, previous));
    if (previous && loaded === "unchanged") return previous;
    if (loaded === "loaded") {
      const img = await this.inspect(opts.tag);
      if (img) return img;
    }
    await importLayoutWithSkopeo(DRIVER_NAME, this.skopeo, dir, opts);
    const img = await this.inspect(opts.tag);
    if (!img) throw notFound("images.importOciLayout", opts.tag);
    return img;
  }

  async exportOciLayout(ref: string, dir: string, opts: { name?: string } = {}): Promise<void> {
    const img = await this.inspect(ref);
    if (!img) throw notFound("images.exportOciLayout", ref);
    const r = await exportLayoutWithSkopeo(DRIVER_NAME, this.skopeo, img.id, dir, opts.name ?? ref);
    if (r.exitCode !== 0) throw failed("images.exportOciLayout", r);
  }

  async tag(source: string, target: string): Promise<void> {
    const [repo, tag] = splitTag(target);
    const query = `repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`;
    const r = await libpod(
      this.cli,
      "images.tag",
      "POST",
      `/images/${encodeURIComponent(source)}/tag?${query}`,
    );
    if (r.exitCode === 404) throw notFound("images.tag", source);
    if (r.exitCode !== 0) throw failed("images.tag", r);
  }

  async remove(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    const img = await this.inspect(ref);
    if (!img) return;
    const hex = img.id.replace(/^sha256:/, "");
    if (opts.force) return this.delete(hex, "?force=true");
    const isId = hex.startsWith(ref.replace(/^sha256:/, ""));
    if (!isId && img.tags.length > 1) return this.untag(hex, ref);
    const r = await libpod(
      this.cli,
      "images.remove",
      "DELETE",
      `/images/${encodeURIComponent(isId ? hex : ref)}`,
    );
    // in use by a container: the reference goes, the image stays, as the contract says
    if (r.exitCode !== 0 && /in use|being used/i.test(r.stderr) && !isId) await this.untag(hex, ref);
    else if (r.exitCode !== 0 && r.exitCode !== 404) throw failed("images.remove", r);
  }

  private async delete(hex: string, query: string): Promise<void> {
    const r = await libpod(this.cli, "images.remove", "DELETE", `/images/${hex}${query}`);
    if (r.exitCode !== 0 && r.exitCode !== 404) throw failed("images.remove", r);
  }

  private async untag(hex: string, ref: string): Promise<void> {
    const [repo, tag] = splitTag(ref);
    const query = `repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`;
    const r = await libpod(this.cli, "images.remove", "POST", `/images/${hex}/untag?${query}`);
    if (r.exitCode !== 0 && r.exitCode !== 404) throw failed("images.remove", r);
  }
}

/** `name[:tag]` as the API's repo and tag ("latest" when none). */
function splitTag(ref: string): [string, string] {
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, "latest"];
}

function toStored(img: InspectJson): StoredImage {
  const id = img.Id.startsWith("sha256:") ? img.Id : `sha256:${img.Id}`;
  return {
    id,
    tags: img.RepoTags ?? [],
    repoDigests: img.RepoDigests ?? [],
    os: img.Os ?? "linux",
    arch: img.Architecture ?? "",
    ...(img.Variant ? { variant: img.Variant } : {}),
    labels: img.Labels ?? {},
    env: img.Config?.Env ?? [],
    ...(img.Config?.User ? { user: img.Config.User } : {}),
    diffIds: img.RootFS?.Layers ?? [],
    ...(img.Created ? { created: img.Created } : {}),
  };
}
