/** An image in a registry as a test reads it back: manifest, config, labels, and a layer entry by entry. */
import { type ImageConfig, Manifest, parseReference, RegistryClient, readLayer } from "@cnbp/core";

const client = new RegistryClient();

export async function readRegistryImage(name: string) {
  const ref = parseReference(name);
  const fetched = await client.getManifest(ref);
  const manifest = Manifest.parse(JSON.parse(fetched.bytes.toString("utf8")));
  const config = JSON.parse((await client.getBlob(ref, manifest.config)).toString("utf8")) as ImageConfig;
  const labels = config.config?.Labels ?? {};
  /** Entries of the layer with this diffID (`path mode uid:gid [-> target]`) and the text of its small files. */
  const entries = async (diffId: string) => {
    const layer = manifest.layers[config.rootfs.diff_ids.indexOf(diffId)];
    if (!layer) throw new Error(`no layer ${diffId}`);
    const out: string[] = [];
    const files: Record<string, string> = {};
    for await (const e of readLayer(await client.openBlob(ref, layer))) {
      out.push(`${e.path} ${e.mode.toString(8)} ${e.uid}:${e.gid}${e.linkname ? ` -> ${e.linkname}` : ""}`);
      if (e.type === "file" && e.size < 4096) files[e.path] = (await e.bytes()).toString("utf8");
    }
    return { entries: out, files };
  };
  return { manifest, config, labels, entries, digest: fetched.digest };
}
