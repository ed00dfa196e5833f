/**
 * The registry client's errors. Each message starts with the image it concerns (normalised reference),
 * then says what went wrong and, where the user can act, how (`docker login <host>`, CNB_REGISTRY_AUTH).
 */
import { CnbpError } from "../../errors.js";

export type RegistryErrorCode =
  /** 401/403 from a registry or its token server. */
  | "CNBP_REGISTRY_UNAUTHORIZED"
  /** No manifest for the tag or digest (404). */
  | "CNBP_REGISTRY_IMAGE_NOT_FOUND"
  | "CNBP_REGISTRY_BLOB_NOT_FOUND"
  /** Content that does not match its digest or size: a manifest, a blob, or a blob given to push. */
  | "CNBP_REGISTRY_DIGEST_MISMATCH"
  /** Connection refused, reset or dropped, DNS or TLS failure, after the retries allowed. */
  | "CNBP_REGISTRY_UNREACHABLE"
  /** Any other answer the client cannot use (5xx after retries, 400, a manifest too large...). */
  | "CNBP_REGISTRY_RESPONSE"
  /** Plain HTTP to a host that is neither loopback nor listed as insecure. */
  | "CNBP_REGISTRY_INSECURE"
  /** Unreadable CNB_REGISTRY_AUTH, docker config or credential helper. */
  | "CNBP_REGISTRY_CREDENTIALS"
  | "CNBP_REGISTRY_UNSUPPORTED_DIGEST";

export class RegistryError extends CnbpError {
  declare readonly code: RegistryErrorCode;
  /** The registry (as in the image reference, e.g. "docker.io", "127.0.0.1:5000"). */
  readonly registry: string;
  /** The image, when the error concerns one. */
  readonly image: string | undefined;
  /** The HTTP status that caused it, when there was one. */
  readonly status: number | undefined;

  constructor(
    code: RegistryErrorCode,
    message: string,
    extra: {
      registry: string;
      image?: string;
      status?: number;
      hints?: readonly string[];
      cause?: unknown;
    },
  ) {
    super(code, message, { hints: extra.hints ?? [], cause: extra.cause });
    this.registry = extra.registry;
    this.image = extra.image;
    this.status = extra.status;
  }
}

/** What the client was doing when a request failed, for messages. */
export interface RequestContext {
  /** Registry name as in the reference ("docker.io"). */
  readonly registry: string;
  /** Host the API is called on ("registry-1.docker.io"). */
  readonly host: string;
  /** Repository path ("library/busybox"). */
  readonly repository: string;
  /** Normalised image reference the error messages name. */
  readonly image: string;
  readonly access: "pull" | "push";
}

export function loginHint(registry: string): string {
  return `log in with "docker login ${registry}" or set CNB_REGISTRY_AUTH`;
}

/** The `errors` of a registry's JSON error body, as "CODE: message" lines joined by "; ". */
export function describeErrorBody(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown; detail?: unknown }[] };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      return parsed.errors
        .map((e) => {
          const detail =
            e.detail && typeof e.detail === "object" && "Digest" in e.detail
              ? ` (${String((e.detail as { Digest: unknown }).Digest)})`
              : "";
          return `${String(e.code ?? "ERROR")}: ${String(e.message ?? "")}${detail}`;
        })
        .join("; ");
    }
  } catch {
    // not JSON: fall through
  }
  const text = body.trim().replace(/\s+/g, " ");
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
