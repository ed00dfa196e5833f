/**
 * The contracts a container engine implements to run cnbp builds: a RuntimeDriver (where lifecycle phases
 * run and images live) and a BuildDriver (which applies Dockerfiles). Docker, Podman, Buildah and Kubernetes
 * all fit: a workspace is a set of volumes (named volumes, or a PersistentVolumeClaim), a step is a container
 * (or a Pod), and images move between stores as OCI layouts when two drivers do not share one.
 *
 * A third-party driver is an npm package that declares itself in its package.json (see plugins/manifest.ts)
 * and whose module exports, as `default`, an object implementing the contracts of the kinds it declares.
 * Every method's doc comment says what it must do, which errors it throws and what it cleans up; the driver
 * test kit checks exactly that. Errors a driver throws are DriverErrors (drivers/errors.ts) so that their
 * messages say `driver <name>: <operation>: ...` and their codes are the ones named here.
 */
import type { Readable } from "node:stream";

/** The contract version this cnbp implements; a driver declares the one it implements. */
export const DRIVER_API_VERSION = 1;

export type DriverKind = "runtime" | "build";
export const DRIVER_KINDS: readonly DriverKind[] = ["runtime", "build"];

/**
 * What a driver can do, declared once on the driver: cnbp and the test kit read these instead of testing
 * driver names. A missing capability makes cnbp take another path (e.g. move images through a registry) or
 * fail with a clear error before any container starts.
 */
export interface DriverCapabilities {
  /** The engine runs without root on the host (Podman rootless, Docker rootless, Buildah with user namespaces). */
  readonly rootless: boolean;
  /**
   * Names of drivers whose image store is this driver's own (Buildah and Podman share containers-storage):
   * an image one of them writes, the other reads by reference, and nothing moves between them.
   */
  readonly sharesImageStoreWith: readonly string[];
  /** `images.importOciLayout` works; without it images reach this driver only through a registry. */
  readonly ociLayoutImport: boolean;
  /** `images.exportOciLayout` works; without it images leave this driver only through a registry. */
  readonly ociLayoutExport: boolean;
  /** Steps can mount a host directory (`BindMount`); Kubernetes cannot, and gets files in with `put`. */
  readonly bindMounts: boolean;
  /** The network modes `ContainerStep.network` may take with this driver. */
  readonly networks: readonly NetworkMode[];
  /** Images live in a registry only: `images` then works on registry references (Kubernetes). */
  readonly registryOnly: boolean;
}

/**
 * What every driver has, whatever its kinds. All methods return promises; a driver object may implement
 * both RuntimeDriver and BuildDriver (the manifest's `kinds` say which ones cnbp uses).
 */
export interface Driver extends AsyncDisposable {
  /** The contract version implemented: DRIVER_API_VERSION. cnbp refuses a driver with another one. */
  readonly apiVersion: typeof DRIVER_API_VERSION;
  /** The name users select it by (`--driver <name>`): lowercase letters, digits and '-', as in the manifest. */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /**
   * Releases what the driver holds (connections, sockets, child processes) but not what builds made:
   * workspaces are disposed by their owners. Idempotent; never throws.
   */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The engine behind a driver, as `cnbp driver info` and build reports show it. */
export interface EngineInfo {
  /** e.g. "docker", "podman", "buildah", "kubernetes". */
  readonly engine: string;
  /** The engine's own version string, e.g. "27.3.1". */
  readonly version: string;
  /** Platform that steps run on, in OCI terms: "linux" and "amd64" / "arm64" ... */
  readonly os: string;
  readonly arch: string;
  readonly rootless: boolean;
  /**
   * Identity of the image store: two drivers whose infos carry the same value see the same images
   * (e.g. "containers-storage:/home/u/.local/share/containers/storage", "docker:unix:///var/run/docker.sock").
   */
  readonly imageStore: string;
}

/** Where steps run and images live: Docker, Podman, Kubernetes. */
export interface RuntimeDriver extends Driver {
  /**
   * Asks the engine who it is. Throws DriverError CNBP_DRIVER_UNAVAILABLE when the engine cannot be
   * reached (socket missing, cluster unreachable), with a hint naming what was tried.
   */
  info(): Promise<EngineInfo>;
  readonly images: ImageStore;
  /**
   * Creates the volumes of `spec` (all of them, before returning) and returns the workspace that owns them.
   * On failure removes the volumes it created and throws DriverError CNBP_DRIVER_FAILED.
   * A volume with a `persistentName` that already exists is reused with its content (caches); every other
   * volume starts empty.
   */
  workspace(spec: WorkspaceSpec): Promise<Workspace>;
  /**
   * The engine's volumes that cnbp made, found by label: how `cnbp cache list|prune` finds cache volumes that
   * outlived their builds. Added in contract version 1 before any release, so every runtime driver has it.
   */
  readonly volumes: VolumeStore;
}

/** Applies Dockerfiles: Docker (BuildKit), Buildah, Podman, kaniko. */
export interface BuildDriver extends Driver {
  /**
   * The image store the built images land in (for a driver that is also a RuntimeDriver, its `images`).
   * cnbp reads built images through it, and moves images between it and a runtime driver's store as OCI
   * layouts when neither lists the other in `capabilities.sharesImageStoreWith`.
   */
  readonly images: ImageStore;
  /**
   * Builds `req.dockerfile` with `req.context` as its build context and `req.buildArgs` as `ARG` values
   * (`base_image` is always among them and equals `req.baseImage`), and stores the result under `req.tag`
   * in this driver's image store. Resolves to the tag and the image id (`sha256:<hex>` of its config).
   * `req.baseImage` must already be in the store, or be pulled according to `req.pull`.
   * Output of the build goes to `io.stdout`/`io.stderr`. A failed build throws DriverError CNBP_BUILD_FAILED
   * with the engine's last lines in its hints; aborting `io.signal` stops it and throws CNBP_CANCELLED.
   * In both cases no intermediate container or image it created is left behind. After a successful build,
   * a driver with a layer cache (Buildah `--layers`, Docker) may keep its step images as that cache.
   */
  build(req: DockerfileBuild, io: StepIO): Promise<BuiltImage>;
}

export interface DockerfileBuild {
  /** Absolute path of the Dockerfile (it need not be inside `context`). */
  readonly dockerfile: string;
  /** Absolute path of the build context directory. */
  readonly context: string;
  /** `ARG` values; cnbp passes `base_image`, `build_id`, `user_id`, `group_id` for extensions. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** The image the Dockerfile's `FROM ${base_image}` names. */
  readonly baseImage: string;
  /** The reference the built image gets, e.g. "localhost/cnbp-extended/build:abc". */
  readonly tag: string;
  /** OCI platform `os/arch[/variant]`; the engine's own when absent. */
  readonly platform?: string;
  readonly pull?: PullPolicy;
  /** Labels added to the built image. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Whether the engine keeps each step's result as its layer cache (Buildah and Podman `--layers`); default
   * true. cnbp passes false where it keeps whole results itself, sparing the engine a commit per step.
   */
  readonly stepCache?: boolean;
}

export interface BuiltImage {
  /** The tag the image was stored under (`DockerfileBuild.tag`). */
  readonly image: string;
  /** `sha256:<64 hex>`: the digest of the image's config. */
  readonly id: string;
}

// ---- images ----

export type PullPolicy = "always" | "if-not-present" | "never";

/** Registry credentials for one pull; drivers never read docker config files themselves. */
export type RegistryAuth =
  | { readonly username: string; readonly password: string }
  | { readonly identityToken: string }
  | { readonly registryToken: string };

export interface PullOptions {
  /** Default "if-not-present". */
  readonly policy?: PullPolicy;
  /** OCI platform `os/arch[/variant]`; the engine's own when absent. */
  readonly platform?: string;
  /** Credentials for the image's registry; anonymous when absent. */
  readonly auth?: RegistryAuth;
  /** Aborting stops the pull and throws CNBP_CANCELLED; a partial pull leaves no tag behind. */
  readonly signal?: AbortSignal;
}

/** An image as a store holds it. */
export interface StoredImage {
  /** `sha256:<64 hex>` of the config. */
  readonly id: string;
  /** References that name it in this store. */
  readonly tags: readonly string[];
  /** `repo@sha256:...` digests known for it (after a pull or a push); may be empty. */
  readonly repoDigests: readonly string[];
  readonly os: string;
  readonly arch: string;
  readonly variant?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The config's environment, `KEY=value` entries in order (a builder's CNB_USER_ID lives here). */
  readonly env: readonly string[];
  /** The config's user (`uid[:gid]` or a name), when it has one. */
  readonly user?: string;
  /** Layer diff ids (`sha256:` of the uncompressed tars), base first. */
  readonly diffIds: readonly string[];
  /** Creation time as ISO 8601, when the config has one. */
  readonly created?: string;
}

/** The images a runtime driver keeps: the Docker daemon's, containers-storage, or a registry. */
export interface ImageStore {
  /** Resolves to the image `ref` names (a reference or an id), or `undefined` when the store has none. Never pulls. */
  inspect(ref: string): Promise<StoredImage | undefined>;
  /**
   * Makes `ref` present according to `opts.policy`: "always" pulls, "if-not-present" pulls only when
   * `inspect` finds nothing, "never" only inspects. Resolves to the image. Throws DriverError
   * CNBP_IMAGE_NOT_FOUND when the registry has no such image (or policy "never" finds none locally),
   * CNBP_REGISTRY_AUTH when the registry refuses the credentials, CNBP_CANCELLED when aborted.
   */
  pull(ref: string, opts?: PullOptions): Promise<StoredImage>;
  /**
   * Loads the image `opts.image` (a `org.opencontainers.image.ref.name` annotation, or the only image) of the
   * OCI layout directory `dir` into the store and tags it `opts.tag`. Resolves to the stored image, whose id
   * equals the layout manifest's config digest. Throws CNBP_IMAGE_NOT_FOUND when the layout has no such
   * image, CNBP_UNSUPPORTED when `capabilities.ociLayoutImport` is false. Never changes `dir`.
   */
  importOciLayout(dir: string, opts: { readonly tag: string; readonly image?: string }): Promise<StoredImage>;
  /**
   * Writes the image `ref` into the OCI layout directory `dir` (created when missing; other images in it are
   * kept), annotated `org.opencontainers.image.ref.name` = `opts.name` (default `ref`). Throws
   * CNBP_IMAGE_NOT_FOUND when the store has no `ref`, CNBP_UNSUPPORTED when
   * `capabilities.ociLayoutExport` is false. A failed export leaves no partial blob in `dir`'s index.
   */
  exportOciLayout(ref: string, dir: string, opts?: { readonly name?: string }): Promise<void>;
  /** Adds the reference `target` to the image `source`; moves `target` if it named another image. Throws CNBP_IMAGE_NOT_FOUND when `source` is absent. */
  tag(source: string, target: string): Promise<void>;
  /**
   * Removes the reference `ref` (and the image when no other reference names it and no container uses it).
   * Removing an absent image succeeds, so cleanup can always call it. With `force`, removes the image even
   * when other references name it.
   */
  remove(ref: string, opts?: { readonly force?: boolean }): Promise<void>;
}

// ---- volumes ----

/** Which volumes `VolumeStore.list` returns: those carrying every one of `labels` with exactly its value. */
export interface VolumeFilter {
  readonly labels: Readonly<Record<string, string>>;
}

/** A volume as the engine holds it: a named volume (Docker, Podman) or a PersistentVolumeClaim (Kubernetes). */
export interface VolumeInfo {
  /** The engine's name for it, which `remove` takes: a persistent volume's `persistentName` as given when the engine accepts that name. */
  readonly name: string;
  /** All its labels: the workspace's, the driver's own (`io.cnbp.build`) and its `VolumeSpec.labels`. */
  readonly labels: Readonly<Record<string, string>>;
  /** When the engine created it, ISO 8601, when the engine says. */
  readonly createdAt?: string;
  /**
   * Bytes its files take, when the engine reports that in the same answer or one more call for all volumes
   * (Docker's disk usage); absent when only walking the files would tell (Podman 4's CLI, a PVC's requested
   * size is not its use).
   */
  readonly sizeBytes?: number;
  /**
   * Whether a container or Pod the engine holds, running or stopped, refers to it (an open workspace's, a
   * running step's), so that `remove` would throw CNBP_VOLUME_IN_USE; absent when the engine cannot say cheaply.
   */
  readonly inUse?: boolean;
}

/** The volumes a runtime driver's engine keeps. */
export interface VolumeStore {
  /**
   * Resolves to every volume carrying all of `filter.labels`, in any order (a driver whose engine ORs label
   * filters, as Podman's does, or restricts label values, as Kubernetes does (keep them as annotations
   * there), filters the rest itself). Throws CNBP_DRIVER_UNAVAILABLE when the engine cannot be reached.
   */
  list(filter: VolumeFilter): Promise<VolumeInfo[]>;
  /**
   * Removes the volume `name` and its content. Removing an absent volume succeeds, so cleanup can always call
   * it. Throws DriverError CNBP_VOLUME_IN_USE, removing nothing, when a container or Pod refers to it (never
   * removes those: a build may be running on it; a PVC is not deleted while a Pod uses it),
   * CNBP_DRIVER_FAILED when the engine fails otherwise.
   */
  remove(name: string): Promise<void>;
}

// ---- workspaces and steps ----

export interface VolumeSpec {
  /** The name steps and `put`/`get` use for it, e.g. "layers", "workspace", "cache". */
  readonly name: string;
  /**
   * A name stable across builds (caches): the volume is reused when it exists and kept by `dispose` unless
   * asked otherwise. Absent for volumes that live for this build only.
   */
  readonly persistentName?: string;
  /** Owner of the volume's root directory, `uid:gid`, so non-root steps can write to it. */
  readonly owner?: string;
  /**
   * Labels this volume gets besides the workspace's (e.g. `io.cnbp.cache` on a build's cache), set when the
   * volume is created: a reused persistent volume keeps the labels it was created with.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface WorkspaceSpec {
  /** The build this workspace belongs to; drivers label every volume and container with it. */
  readonly buildId: string;
  readonly volumes: readonly VolumeSpec[];
  /** Labels put on every volume, container and Pod the workspace creates (the test kit's leak check reads them). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The volumes of one build, and the containers run on them. */
export interface Workspace extends AsyncDisposable {
  /**
   * Runs one container to its end and resolves to its exit code, whatever it is: a non-zero exit is not an
   * error. Throws DriverError CNBP_IMAGE_NOT_FOUND when `step.image` is not in the store (a step never pulls),
   * CNBP_UNKNOWN_VOLUME when a mount names a volume the workspace does not have, CNBP_CANCELLED when
   * `io.signal` aborts (after stopping the container), CNBP_DRIVER_FAILED when the engine fails.
   * The container is removed in every case: when the call settles, or later but before `dispose` resolves
   * (an engine's network tear-down after the exit need not hold up the build's next step).
   */
  run(step: ContainerStep, io: StepIO): Promise<StepResult>;
  /**
   * Extracts the tar stream `tar` into directory `path` (absolute, created when missing) of `volume`,
   * keeping the entries' modes, owners and times. Throws CNBP_UNKNOWN_VOLUME for a volume the workspace
   * does not have, and CNBP_UNSAFE_PATH (extracting nothing) when an entry escapes `path` or `path` is not
   * absolute or climbs out of the volume with `..` (`volumePath` checks that).
   */
  put(volume: string, path: string, tar: Readable): Promise<void>;
  /**
   * Resolves to a tar stream of `path` (a file or a directory, absolute) in `volume`, entries named relative
   * to `path`'s parent, as `docker cp` does. Throws CNBP_NOT_FOUND when `path` does not exist,
   * CNBP_UNKNOWN_VOLUME for a volume the workspace does not have, and CNBP_UNSAFE_PATH as `put` does. Whatever the driver starts to produce the
   * stream ends when the stream ends or is destroyed.
   */
  get(volume: string, path: string): Promise<Readable>;
  /**
   * Removes every container, volume and helper the workspace created, except the volumes named in
   * `opts.keep` (by `VolumeSpec.name`) and persistent volumes unless `opts.removePersistent`. Idempotent,
   * and it does not throw on what is already gone; after it, `run`, `put` and `get` throw
   * CNBP_WORKSPACE_DISPOSED. `[Symbol.asyncDispose]` is `dispose()`.
   */
  dispose(opts?: { readonly keep?: readonly string[]; readonly removePersistent?: boolean }): Promise<void>;
}

export type NetworkMode = "default" | "none" | "host";

/** A workspace volume mounted into a step. */
export interface VolumeMount {
  readonly type: "volume";
  /** `VolumeSpec.name` of one of the workspace's volumes. */
  readonly volume: string;
  /** Absolute path inside the container. */
  readonly target: string;
  readonly readOnly?: boolean;
}

/** A host directory mounted into a step; only when `capabilities.bindMounts`, else CNBP_UNSUPPORTED. */
export interface BindMount {
  readonly type: "bind";
  /** Absolute path on the host. */
  readonly source: string;
  readonly target: string;
  readonly readOnly?: boolean;
}

export type Mount = VolumeMount | BindMount;

/** One container: a lifecycle phase, a helper. */
export interface ContainerStep {
  /** Reference or id of an image already in the driver's store. */
  readonly image: string;
  /** The command and its arguments; replaces the image's entrypoint and cmd. */
  readonly cmd: readonly string[];
  /** Environment added to the image's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** `uid[:gid]` (or a user name of the image); the image's user when absent. */
  readonly user?: string;
  readonly mounts?: readonly Mount[];
  /**
   * Default "default": the network the driver gives a build step, one with outbound access (the engine's
   * default network, or one the driver documents); must be one of `capabilities.networks`.
   */
  readonly network?: NetworkMode;
  /** Absolute; the image's working directory when absent. */
  readonly workingDir?: string;
  /** Labels added to the container, besides the workspace's. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Anything bytes can be written to: a Writable, a logger's line splitter, a test's collector. */
export interface OutputSink {
  write(chunk: Uint8Array): unknown;
}

export interface StepIO {
  /** Receives the step's stdout bytes as they come, in order. */
  readonly stdout: OutputSink;
  /** Receives the step's stderr bytes; kept separate from stdout whenever the engine allows. */
  readonly stderr: OutputSink;
  /** Aborting it stops the step (SIGTERM, then SIGKILL after 10 s) and makes the call throw CNBP_CANCELLED. */
  readonly signal?: AbortSignal;
}

export interface StepResult {
  readonly exitCode: number;
}

/**
 * What a driver module exports: `default` is the driver with its default options. A driver that has options
 * also exports `optionsSchema` (a zod schema; `cnbp driver info` prints it as JSON Schema) and
 * `createDriver(options)`, which receives options that `optionsSchema` has already parsed.
 */
export interface DriverModule<Options = unknown> {
  readonly default: RuntimeDriver | BuildDriver | (RuntimeDriver & BuildDriver);
  readonly optionsSchema?: unknown;
  readonly createDriver?: (
    options: Options,
  ) =>
    | RuntimeDriver
    | BuildDriver
    | (RuntimeDriver & BuildDriver)
    | Promise<RuntimeDriver | BuildDriver | (RuntimeDriver & BuildDriver)>;
}
