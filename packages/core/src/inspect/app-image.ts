/**
 * What an app image built by buildpacks says about itself, read from its labels (shared/spec/files.md 3):
 * `io.buildpacks.lifecycle.metadata` (run image, top layer, mirrors), `io.buildpacks.build.metadata`
 * (buildpacks, extensions, processes), `io.buildpacks.project.metadata` and `io.buildpacks.rebasable`; for
 * `cnbp inspect` and `cnbp rebase`. Pure: the caller reads the labels from a store or a registry.
 */
import { CnbpError, formatProblem } from "../errors.js";
import { validateSpec } from "../spec/file-kind.js";
import { buildMetadataLabel, processCommand } from "../spec/kinds/label-build-metadata.js";
import { type LifecycleMetadata, lifecycleMetadataLabel } from "../spec/kinds/label-lifecycle-metadata.js";
import { projectMetadataLabel } from "../spec/kinds/label-project-metadata.js";

export const APP_IMAGE_LABELS = {
  lifecycle: "io.buildpacks.lifecycle.metadata",
  build: "io.buildpacks.build.metadata",
  project: "io.buildpacks.project.metadata",
  rebasable: "io.buildpacks.rebasable",
  stackId: "io.buildpacks.stack.id",
} as const;

/** An image's config as far as inspecting it needs, wherever it was read. */
export interface AppImageConfig {
  readonly labels: Readonly<Record<string, string>>;
  readonly env: readonly string[];
  /** Known for images read from a registry; a store's inspect does not give it. */
  readonly entrypoint?: readonly string[];
  readonly os: string;
  readonly arch: string;
  readonly variant?: string;
}

export interface AppImageProcess {
  readonly type: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly workingDir?: string;
  /** Runs directly, not through a shell. */
  readonly direct: boolean;
  readonly default: boolean;
}

export interface AppImageModule {
  readonly id: string;
  readonly version: string;
  readonly homepage?: string;
}

export interface AppImageInfo {
  readonly target: { readonly os: string; readonly arch: string; readonly variant?: string };
  /** `io.buildpacks.stack.id`, on images of stack-based builders. */
  readonly stackId?: string;
  /** The run image the app sits on: its digest reference (or store id) and the diff id of its top layer. */
  readonly base: { readonly reference?: string; readonly topLayer?: string };
  /** The run image and its mirrors, as the image records them: what `cnbp rebase` picks from. */
  readonly runImages: readonly { readonly image: string; readonly mirror: boolean }[];
  /** False only when `io.buildpacks.rebasable` says "false". */
  readonly rebasable: boolean;
  readonly buildpacks: readonly AppImageModule[];
  readonly extensions: readonly AppImageModule[];
  readonly processes: readonly AppImageProcess[];
  /** `io.buildpacks.project.metadata`'s source, when the build had one. */
  readonly source?: Readonly<Record<string, unknown>>;
}

/** The lifecycle label as written (unknown keys kept, for a rebase to rewrite) and as validated. */
export interface LifecycleLabel {
  readonly raw: Record<string, unknown>;
  readonly metadata: LifecycleMetadata;
}

/**
 * The image's `io.buildpacks.lifecycle.metadata` label; undefined when it has none (it was not built by
 * buildpacks). `image` names the image and where it was found, for messages.
 */
export function readLifecycleLabel(
  labels: Readonly<Record<string, string>>,
  image: string,
): LifecycleLabel | undefined {
  const text = labels[APP_IMAGE_LABELS.lifecycle];
  if (text === undefined || text === "") return undefined;
  const raw = parseLabel(text, APP_IMAGE_LABELS.lifecycle, image);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw invalidLabel(image, "it is not a JSON object");
  return { raw: raw as Record<string, unknown>, metadata: validated(lifecycleMetadataLabel, raw, image) };
}

export function notAppImage(image: string): CnbpError {
  return new CnbpError(
    "CNBP_NOT_APP_IMAGE",
    `${image} is not an app image built by buildpacks: it has no ${APP_IMAGE_LABELS.lifecycle} label`,
    { hints: ["build it with `cnbp build` (or pack), or check the image name"] },
  );
}

/** The run image and mirrors the label records: `runImage`, else the older `stack.runImage`. */
export function recordedRunImages(metadata: LifecycleMetadata): { image?: string; mirrors: string[] } {
  const entry = metadata.runImage?.image ? metadata.runImage : metadata.stack?.runImage;
  return { ...(entry?.image ? { image: entry.image } : {}), mirrors: entry?.mirrors ?? [] };
}

/** Everything `cnbp inspect` shows of an app image; throws CNBP_NOT_APP_IMAGE without the lifecycle label. */
export function appImageInfo(config: AppImageConfig, image: string): AppImageInfo {
  const lifecycle = readLifecycleLabel(config.labels, image);
  if (!lifecycle) throw notAppImage(image);
  const buildText = config.labels[APP_IMAGE_LABELS.build];
  const build = buildText
    ? validated(buildMetadataLabel, parseLabel(buildText, APP_IMAGE_LABELS.build, image), image)
    : {};
  const projectText = config.labels[APP_IMAGE_LABELS.project];
  const project = projectText
    ? validated(projectMetadataLabel, parseLabel(projectText, APP_IMAGE_LABELS.project, image), image)
    : {};
  const { runImage } = lifecycle.metadata;
  const recorded = recordedRunImages(lifecycle.metadata);
  const defaultType = defaultProcessType(config, build);
  const modules = (list: readonly AppImageModule[] | null | undefined) =>
    (list ?? []).map((m) => ({
      id: m.id,
      version: m.version,
      ...(m.homepage ? { homepage: m.homepage } : {}),
    }));
  const stackId = config.labels[APP_IMAGE_LABELS.stackId];
  return {
    target: { os: config.os, arch: config.arch, ...(config.variant ? { variant: config.variant } : {}) },
    ...(stackId ? { stackId } : {}),
    base: {
      ...(runImage?.reference ? { reference: runImage.reference } : {}),
      ...(runImage?.topLayer ? { topLayer: runImage.topLayer } : {}),
    },
    runImages: [
      ...(recorded.image ? [{ image: recorded.image, mirror: false }] : []),
      ...recorded.mirrors.map((image) => ({ image, mirror: true })),
    ],
    rebasable: config.labels[APP_IMAGE_LABELS.rebasable] !== "false",
    buildpacks: modules(build.buildpacks),
    extensions: modules(build.extensions),
    processes: (build.processes ?? []).map((p) => ({
      type: p.type,
      command: processCommand(p),
      args: p.args ?? [],
      ...(p["working-dir"] ? { workingDir: p["working-dir"] } : {}),
      direct: p.direct ?? false,
      default: p.type === defaultType,
    })),
    ...(project.source ? { source: project.source as Record<string, unknown> } : {}),
  };
}

const PROCESS_ENTRYPOINT = /^\/cnb\/process\/([^/]+)$/;

/**
 * The process the image starts: the one its entrypoint names (`/cnb/process/<type>`, which `--default-process`
 * sets), else `CNB_PROCESS_TYPE` (older Platform APIs), else the buildpacks' default.
 */
function defaultProcessType(
  config: AppImageConfig,
  build: {
    "buildpack-default-process-type"?: string;
    processes?: { type: string; default?: boolean }[] | null;
  },
): string | undefined {
  const fromEntrypoint = config.entrypoint?.[0]?.match(PROCESS_ENTRYPOINT)?.[1];
  if (fromEntrypoint) return fromEntrypoint;
  const fromEnv = config.env
    .find((e) => e.startsWith("CNB_PROCESS_TYPE="))
    ?.slice("CNB_PROCESS_TYPE=".length);
  if (fromEnv) return fromEnv;
  return build["buildpack-default-process-type"] ?? build.processes?.find((p) => p.default)?.type;
}

function parseLabel(text: string, label: string, image: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CnbpError(
      "CNBP_INVALID_LABEL",
      `${image}: label ${label} is not JSON: ${(err as Error).message}`,
    );
  }
}

function validated<T>(kind: Parameters<typeof validateSpec<T>>[0], raw: unknown, image: string): T {
  const parsed = validateSpec(kind, raw, `${image}: label ${kind.name}`);
  if (!parsed.ok) {
    throw new CnbpError("CNBP_INVALID_LABEL", parsed.problems.map(formatProblem).join("; "), {
      hints: ["the image was written by a broken lifecycle, or its labels were edited"],
    });
  }
  return parsed.value;
}

function invalidLabel(image: string, why: string): CnbpError {
  return new CnbpError("CNBP_INVALID_LABEL", `${image}: label ${APP_IMAGE_LABELS.lifecycle}: ${why}`);
}
