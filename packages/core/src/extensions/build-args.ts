/**
 * The build args each extension Dockerfile gets (shared/spec/extensions.md 6): a fresh `build_id` (so a
 * `RUN` that uses it re-runs on every build), the current base image's user as `user_id`/`group_id`, the
 * extension's own extend-config.toml args in file order, and `base_image`, the image the Dockerfile builds on.
 */
import { randomUUID } from "node:crypto";
import type { ExtensionDockerfile } from "./generated.js";

export interface ExtensionBase {
  /** The image the Dockerfile builds on: the original image, or the previous Dockerfile's result. */
  readonly image: string;
  /** That image's config `User`. */
  readonly user?: string;
}

export function extensionBuildArgs(step: ExtensionDockerfile, base: ExtensionBase): Record<string, string> {
  const [userId = "", groupId = ""] = (base.user ?? "").split(":");
  const args: Record<string, string> = { build_id: randomUUID(), user_id: userId, group_id: groupId };
  for (const { name, value } of step.args) args[name] = value;
  args.base_image = base.image;
  return args;
}
