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
import { type BuildahCli, buildah, DRIVER_NAME, failed, isNotKnown } from "./buildah.js";

/** What `buildah inspect --type image` prints that a StoredImage needs. */
interface InspectJson {
  FromImageID: string;
  FromImageDigest?: string;
  OCIv1: {
    created?: string;
    os?: string;
    architecture?: string;
    variant?: string;
    config?: { Env?: string[] | null; User?: string; Labels?: Record<string, string> | null };
    rootfs?: { diff_ids?: string[] | null };
  };
}

/** What `buildah images --json` prints for one image: its id, names and its manifest's digest. */
interface ImagesJson {
  id?: string;
  names?: string[] | null;
  digest?: string;
}

const notFound = (operation: string, ref: string, hints?: string[]) =>
  imageNotFound(DRIVER_NAME, operation, ref, hints);

const hexOf = (id: string) => id.replace(/^sha256:/, "");
/** A whole image id, with or without its algorithm. */
const IMAGE_ID = /^(sha256:)?[0-9a-f]{64}$/;

export class BuildahImages implements ImageStore {
  constructor(
    private readonly cli: BuildahCli,
    private readonly skopeo = "skopeo",
  ) {}

  async inspect(ref: string): Promise<StoredImage | undefined> {
    // buildah inspect names no tags: `buildah images` has them; both asked at once, and asked again by id
    // when an image was tagged or removed in between
    const [inspected, listed] = await Promise.all([
      this.inspectJson(ref),
      // a reference `buildah images` reads otherwise than `buildah inspect` is listed again by id
      this.listedJson(ref).catch(() => undefined),
    ]);
    if (!inspected) return undefined;
    if (listed?.id && hexOf(listed.id) === hexOf(inspected.FromImageID)) return toStored(inspected, listed);
    const byId = await this.listedJson(inspected.FromImageID);
    return byId && toStored(inspected, byId);
  }

  private async inspectJson(ref: string): Promise<InspectJson | undefined> {
    const r = await buildah(this.cli, "images.inspect", ["inspect", "--type", "image", ref]);
    if (r.exitCode === 0) return JSON.parse(r.stdout) as InspectJson;
    if (isNotKnown(r.stderr)) return undefined;
    throw failed("images.inspect", r);
  }

  private async listedJson(ref: string): Promise<ImagesJson | undefined> {
    const r = await buildah(this.cli, "images.inspect", ["images", "--json", "--no-trunc", ref]);
    if (r.exitCode === 0) return (JSON.parse(r.stdout) as ImagesJson[])[0];
    if (isNotKnown(r.stderr)) return undefined;
    throw failed("images.inspect", r);
  }

  pull(ref: string, opts: PullOptions = {}): Promise<StoredImage> {
    const inspect = (r: string) => this.inspect(r);
    return pullByPolicy(DRIVER_NAME, ref, opts, inspect, () =>
      containersCliPull(
        DRIVER_NAME,
        ref,
        opts,
        (args, signal) => buildah(this.cli, "images.pull", args, { cancelSignal: signal }),
        inspect,
        ["--policy", "always"],
      ),
    );
  }

  async importOciLayout(dir: string, opts: { tag: string; image?: string }): Promise<StoredImage> {
    await importLayoutWithSkopeo(DRIVER_NAME, this.skopeo, dir, opts);
    const img = await this.inspect(opts.tag);
    if (!img) throw notFound("images.importOciLayout", opts.tag);
    return img;
  }

  async exportOciLayout(ref: string, dir: string, opts: { name?: string } = {}): Promise<void> {
    // an image id needs no look-up: skopeo says when the store has no such image
    const id = IMAGE_ID.test(ref) ? hexOf(ref) : (await this.inspect(ref))?.id;
    if (!id) throw notFound("images.exportOciLayout", ref);
    const r = await exportLayoutWithSkopeo(DRIVER_NAME, this.skopeo, id, dir, opts.name ?? ref);
    if (r.exitCode !== 0)
      throw isNotKnown(r.stderr)
        ? notFound("images.exportOciLayout", ref)
        : failed("images.exportOciLayout", r);
  }

  async tag(source: string, target: string): Promise<void> {
    const r = await buildah(this.cli, "images.tag", ["tag", source, target]);
    if (r.exitCode === 0) return;
    if (isNotKnown(r.stderr)) throw notFound("images.tag", source);
    throw failed("images.tag", r);
  }

  /**
   * `buildah rmi <name>` of an image with other names only untags it. An image a container uses keeps its
   * last name: buildah has no `untag`, so that removal fails with buildah's reason.
   */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    const img = await this.inspect(ref);
    if (!img) return;
    const hex = hexOf(img.id);
    const isId = hex.startsWith(hexOf(ref));
    const target = opts.force || isId ? hex : ref;
    const r = await buildah(this.cli, "images.remove", ["rmi", ...(opts.force ? ["--force"] : []), target]);
    if (r.exitCode !== 0 && !isNotKnown(r.stderr)) throw failed("images.remove", r);
  }
}

/** The repository of a reference: the name without its `:tag` or `@digest`. */
const repoOf = (name: string) => name.replace(/@.*$/, "").replace(/:[^:/]*$/, "");

function toStored(img: InspectJson, listed: ImagesJson): StoredImage {
  const oci = img.OCIv1;
  const names = listed.names ?? [];
  // every repository the image is named in, with the manifest digests buildah shows: `images` and `inspect`
  // show one each, where Podman lists all the store keeps (an image pushed in two compressions has more)
  const digests = [...new Set([listed.digest, img.FromImageDigest].filter((d): d is string => !!d))];
  const repos = [...new Set(names.map(repoOf))];
  return {
    id: `sha256:${hexOf(img.FromImageID)}`,
    tags: names.filter((n) => !n.includes("@")),
    repoDigests: repos.flatMap((repo) => digests.map((d) => `${repo}@${d}`)),
    os: oci.os ?? "linux",
    arch: oci.architecture ?? "",
    ...(oci.variant ? { variant: oci.variant } : {}),
    labels: oci.config?.Labels ?? {},
    env: oci.config?.Env ?? [],
    ...(oci.config?.User ? { user: oci.config.User } : {}),
    diffIds: oci.rootfs?.diff_ids ?? [],
    ...(oci.created ? { created: oci.created } : {}),
  };
}
