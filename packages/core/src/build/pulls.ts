/**
 * How a build pulls the images it needs into a driver's store: per its pull policy and `--platform`, with the
 * user's credentials for each image's registry, saying what it pulls and how long it took (a pull is where a
 * first build spends its time). An image the policy lets the store keep is not pulled, and needs no login.
 */
import type { ImageStore, PullPolicy, StoredImage } from "../drivers/contract.js";
import type { Keychain } from "../image/registry/keychain.js";
import { pullAuth } from "../image/registry/pull-auth.js";

export type Pull = (images: ImageStore, ref: string) => Promise<StoredImage>;

export interface PullSettings {
  readonly policy: PullPolicy;
  readonly platform?: string;
  /** Where credentials come from; anonymous pulls without it. */
  readonly keychain?: Keychain;
  readonly signal?: AbortSignal;
  readonly note: (message: string) => void;
}

export function puller(settings: PullSettings): Pull {
  const { policy, platform, keychain, signal, note } = settings;
  return async (images, ref) => {
    if (policy !== "always") {
      // the store's copy as inspected: asking the store's pull again would inspect it once more
      const kept = await images.inspect(ref);
      if (kept) return kept;
      if (policy === "never") return images.pull(ref, { policy });
    }
    const auth = keychain && (await pullAuth(keychain, ref));
    note(`pulling ${ref}`);
    const since = performance.now();
    const image = await images.pull(ref, {
      policy: "always",
      ...(platform ? { platform } : {}),
      ...(auth ? { auth } : {}),
      ...(signal ? { signal } : {}),
    });
    note(`pulled ${ref} in ${((performance.now() - since) / 1000).toFixed(2)} s`);
    return image;
  };
}
