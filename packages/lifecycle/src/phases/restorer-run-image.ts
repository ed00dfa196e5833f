/**
 * The restorer's run image step (shared/spec/platform.md 4.3): a run image that is to be extended, or that
 * extensions switched (its target is empty), is looked up by `run-image.reference`, which then names it by
 * digest (a `<layout dir>@<digest>` in layout mode, as the analyzer records it), and its target is filled.
 * The platform extends the run image from that reference, and the exporter builds on it.
 *
 * With -run (0.14+) Go re-checks a run image that run.toml lists: here every run image looked up is read,
 * listed or not, which is that check; an extension's choice that run.toml does not list is used as is.
 */
import {
  type AnalyzedMetadata,
  DockerKeychain,
  LayoutBackend,
  layoutPath,
  parseReference,
  RegistryBackend,
  RegistryClient,
  type SourceImage,
} from "@cnbp/core";
import { ExitCode, LifecycleError } from "../exit-codes.js";
import { openRecorded } from "../export/recorded-images.js";
import type { Env, Inputs } from "../platform/inputs.js";
import { runImageTarget } from "../platform/run-image-target.js";

const fail = (message: string, code: number = ExitCode.restore): never => {
  throw new LifecycleError(code, `restorer: ${message}`);
};

type RunImage = NonNullable<AnalyzedMetadata["run-image"]>;

/** Whether the run image must be looked up: to be extended, or switched by an extension (no target yet). */
export function needsLookUp(runImage: RunImage, hasExtensions: boolean): boolean {
  return runImage.extend === true || (hasExtensions && !runImage.target?.os);
}

/** `run-image` with the reference by digest and the target of the image it names now. */
export async function lookUpRunImage(runImage: RunImage, inputs: Inputs, env: Env): Promise<RunImage> {
  const name = runImage.reference;
  const where = `run-image.reference in ${inputs.analyzedPath}`;
  const found = inputs.useLayout
    ? await fromLayout(name, inputs, where)
    : await fromRegistry(name, inputs, env, where);
  const target = runImageTarget(found) ?? fail(`run image ${name} has no os in its config`);
  return { ...runImage, reference: found.identifier, target };
}

async function fromRegistry(name: string, inputs: Inputs, env: Env, where: string): Promise<SourceImage> {
  const keychain = new DockerKeychain({ env });
  await keychain.resolve(checkedName(name, where).registry);
  const backend = new RegistryBackend(
    new RegistryClient({ keychain, insecureRegistries: inputs.insecureRegistries }),
  );
  return (
    (await backend.find(name)) ??
    fail(`run image ${name} (${where}) was not found: check the name and the credentials for its registry`)
  );
}

/** A recorded `<layout dir>@<digest>` (an absolute path) as it is; a name from the layout repository. */
async function fromLayout(name: string, inputs: Inputs, where: string): Promise<SourceImage> {
  const root =
    inputs.layoutDir ?? fail("-layout needs -layout-dir (or CNB_LAYOUT_DIR)", ExitCode.invalidArgs);
  if (name.startsWith("/")) {
    return (await openRecorded(name, { layout: true })) ?? fail(`run image ${name} (${where}) was not found`);
  }
  checkedName(name, where);
  return (
    (await new LayoutBackend(root).find(name)) ??
    fail(`run image ${name} (${where}) was not found: no OCI layout holds it at ${layoutPath(root, name)}`)
  );
}

function checkedName(name: string, where: string): ReturnType<typeof parseReference> {
  try {
    return parseReference(name);
  } catch (err) {
    return fail(`${where}: ${(err as Error).message}`);
  }
}
