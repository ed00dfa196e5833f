/**
 * CNB_REGISTRY_AUTH for the registry phases (platform.md: a JSON object of registry host to Authorization
 * header value), from the user's docker config and credential helpers: only the registries the build names.
 */
import { parseReference } from "../image/reference.js";
import type { Credential, Keychain } from "../image/registry/keychain.js";

export async function registryAuthEnv(
  keychain: Keychain,
  images: readonly (string | undefined)[],
): Promise<string | undefined> {
  const auth: Record<string, string> = {};
  for (const image of images) {
    if (!image) continue;
    const registry = parseReference(image).registry;
    if (registry in auth) continue;
    const header = headerOf(await keychain.resolve(registry));
    if (header) auth[registry] = header;
  }
  return Object.keys(auth).length ? JSON.stringify(auth) : undefined;
}

/** An identity token must be exchanged at the registry's token server first: the lifecycle cannot take one. */
function headerOf(cred: Credential | undefined): string | undefined {
  switch (cred?.kind) {
    case "basic":
      return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`;
    case "bearer":
      return `Bearer ${cred.token}`;
    case "header":
      return cred.value;
    default:
      return undefined;
  }
}
