/**
 * Image references, normalised as Docker and the OCI distribution reference grammar do:
 * `ubuntu` is `docker.io/library/ubuntu:latest`, `localhost:5000/app@sha256:...` keeps its digest.
 */
import { CnbpError } from "../errors.js";

export const DEFAULT_REGISTRY = "docker.io";
const LEGACY_DEFAULT_REGISTRY = "index.docker.io";
const OFFICIAL_NAMESPACE = "library";

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HOST_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const MAX_NAME = 255;

export class InvalidReferenceError extends CnbpError {
  constructor(
    readonly reference: string,
    why: string,
  ) {
    super("CNBP_INVALID_REFERENCE", `"${reference}" is not a valid image reference: ${why}`);
  }
}

export interface ImageReference {
  /** Registry host (and port): "docker.io", "127.0.0.1:5000", "[::1]:5000". */
  readonly registry: string;
  /** Repository path inside the registry: "library/ubuntu". */
  readonly repository: string;
  /** Tag; "latest" when the reference named neither tag nor digest. */
  readonly tag?: string;
  readonly digest?: string;
}

export function parseReference(text: string): ImageReference {
  const fail = (why: string): never => {
    throw new InvalidReferenceError(text, why);
  };
  if (text.length === 0) fail("it is empty");
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest))
      fail(`"${digest}" is not a digest (algorithm:hex, e.g. sha256:<64 hex digits>)`);
    if (digest.startsWith("sha256:") && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
      fail(`"${digest}" is not a sha256 digest (64 lowercase hex digits)`);
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      fail(
        `tag "${tag}" may only have letters, digits, '_', '.' and '-' (at most 128, not starting with '.' or '-')`,
      );
  }
  const parts = rest.split("/");
  let registry = DEFAULT_REGISTRY;
  if (parts.length > 1 && isRegistry(parts[0] as string)) {
    registry = parts.shift() as string;
    if (!validRegistry(registry)) fail(`"${registry}" is not a valid registry host[:port]`);
  }
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      fail(
        /[A-Z]/.test(part)
          ? `repository name "${part}" must be lowercase`
          : `repository name component "${part}" may only have lowercase letters, digits and separators (., _, __, -)`,
      );
    }
  }
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift(OFFICIAL_NAMESPACE);
  const repository = parts.join("/");
  if (`${registry}/${repository}`.length > MAX_NAME) fail(`the name is longer than ${MAX_NAME} characters`);
  return {
    registry,
    repository,
    ...(tag || !digest ? { tag: tag ?? "latest" } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** Like Docker: the first component is a registry when it has a '.' or a ':', or is "localhost". */
function isRegistry(component: string): boolean {
  return (
    component.includes(".") || component.includes(":") || component === "localhost" || /[A-Z]/.test(component)
  );
}

function validRegistry(host: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(host);
  if (!m) return false;
  const [, name, port] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
  if ((name as string).startsWith("[")) return true;
  return (name as string).split(".").every((label) => HOST_LABEL.test(label));
}

/** `registry/repository` */
export function referenceName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The full normalised form: `docker.io/library/ubuntu:latest`, `reg/app:1@sha256:...`. */
export function formatReference(ref: ImageReference): string {
  return `${referenceName(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The short form Docker shows: `ubuntu:latest` for official images, the full name otherwise. */
export function familiarReference(ref: ImageReference): string {
  let name = referenceName(ref);
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository.startsWith(`${OFFICIAL_NAMESPACE}/`)
      ? ref.repository.slice(OFFICIAL_NAMESPACE.length + 1)
      : ref.repository;
  }
  return `${name}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The same repository at a digest (tag dropped): what analyzed.toml and image labels record. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return { registry: ref.registry, repository: ref.repository, digest };
}

/** The host to call for the distribution API: Docker Hub's API lives on another name. */
export function registryApiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? "registry-1.docker.io" : registry;
}

/** Two references name the same image when they normalise alike (`ubuntu` = `index.docker.io/library/ubuntu:latest`). */
export function sameImage(a: string, b: string): boolean {
  return formatReference(parseReference(a)) === formatReference(parseReference(b));
}
