/** Credentials a driver's image store pulls with: what the user's keychain holds for the image's registry. */
import type { RegistryAuth } from "../../drivers/contract.js";
import { parseReference } from "../reference.js";
import type { Credential, Keychain } from "./keychain.js";

/** The credentials docker config, its credential helpers or CNB_REGISTRY_AUTH hold for `ref`'s registry. */
export async function pullAuth(keychain: Keychain, ref: string): Promise<RegistryAuth | undefined> {
  return asRegistryAuth(await keychain.resolve(parseReference(ref).registry));
}

/** A driver takes a login, an identity token or a registry token; an Authorization header of another scheme has no such form. */
function asRegistryAuth(cred: Credential | undefined): RegistryAuth | undefined {
  switch (cred?.kind) {
    case "basic":
      return { username: cred.username, password: cred.password };
    case "identity":
      return { identityToken: cred.token };
    case "bearer":
      return { registryToken: cred.token };
    default:
      return undefined;
  }
}
