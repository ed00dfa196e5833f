/**
 * oci-archive: an OCI image layout as an uncompressed tar (skopeo's `oci-archive:`, and a `.cnb`
 * buildpackage, distribution.md section 2). Read by indexing the tar's entries once and then streaming
 * each blob from its offset on demand; written deterministically (sorted names, fixed mtime, uid/gid 0, no
 * user or group names), so the same layout always gives the same bytes.
 */
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, pack } from "tar-stream";
import { CnbpError } from "../../errors.js";
import type { Digest } from "../oci.js";
import { copyLayout, OciLayout } from "./layout.js";
import {
  blobPath,
  checkLayoutFile,
  IMAGE_LAYOUT_VERSION,
  INDEX_FILE,
  OCI_LAYOUT_FILE,
  OciLayoutReader,
} from "./reader.js";

/** The time every archive entry carries (as the lifecycle normalises layer entries): 1980-01-01T00:00:01Z. */
export const ARCHIVE_MTIME = new Date("1980-01-01T00:00:01Z");

interface TarEntry {
  /** Offset of the entry's data in the tar. */
  readonly offset: number;
  readonly size: number;
}

const TAR_BLOCK = 512;
const BLOB_NAME = /^blobs\/sha256\/([a-f0-9]{64})$/;

/** Entry names as tools write them (`./index.json`, `/blobs/...`) to layout paths (`index.json`). */
function normalName(name: string): string {
  return name
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .join("/");
}

/** An oci-archive (or `.cnb`) file, read in place: blobs are streamed from the tar when asked for. */
export class OciArchive extends OciLayoutReader {
  private constructor(
    readonly file: string,
    private readonly entries: ReadonlyMap<string, TarEntry>,
  ) {
    super();
  }

  get location(): string {
    return this.file;
  }

  /** Indexes the archive's entries (one pass over the file) and checks that it holds an OCI layout. */
  static async open(file: string): Promise<OciArchive> {
    const entries = await indexTar(file);
    const archive = new OciArchive(file, entries);
    if (!entries.has(OCI_LAYOUT_FILE)) {
      throw new CnbpError(
        "CNBP_LAYOUT_NOT_FOUND",
        `${file}: not an OCI image layout archive (it has no ${OCI_LAYOUT_FILE} file)`,
      );
    }
    checkLayoutFile(await archive.readEntry(OCI_LAYOUT_FILE), archive.describe(OCI_LAYOUT_FILE));
    await archive.indexBytes();
    return archive;
  }

  describe(path: string): string {
    return `${path} in ${this.file}`;
  }

  async indexBytes(): Promise<Buffer> {
    if (!this.entries.has(INDEX_FILE)) {
      throw new CnbpError("CNBP_LAYOUT_INVALID", `${this.file}: the archive has no ${INDEX_FILE}`);
    }
    return this.readEntry(INDEX_FILE);
  }

  async blobSize(digest: Digest): Promise<number | undefined> {
    return this.entries.get(blobPath(digest))?.size;
  }

  async listBlobs(): Promise<Digest[]> {
    const digests: Digest[] = [];
    for (const name of this.entries.keys()) {
      const m = BLOB_NAME.exec(name);
      if (m) digests.push(`sha256:${m[1]}`);
    }
    return digests.sort();
  }

  protected async openRaw(digest: Digest): Promise<Readable> {
    return this.streamEntry(blobPath(digest));
  }

  /** Extracts the archive into a layout directory (made as needed); every blob is verified on the way. */
  async extractTo(dir: string): Promise<OciLayout> {
    const layout = await OciLayout.create(dir);
    await copyLayout(this, layout);
    return layout;
  }

  private streamEntry(name: string): Readable {
    const entry = this.entries.get(name);
    if (!entry) throw new CnbpError("CNBP_LAYOUT_INVALID", `${this.file}: the archive has no ${name}`);
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.file, { start: entry.offset, end: entry.offset + entry.size - 1 });
  }

  private async readEntry(name: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.streamEntry(name)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

/** Reads every header of a tar once, recording where each regular file's data is. */
async function indexTar(file: string): Promise<Map<string, TarEntry>> {
  await checkNotCompressed(file);
  const entries = new Map<string, TarEntry>();
  const links: [string, string][] = [];
  const reader = extract();
  const input = createReadStream(file);
  input.on("error", (err) => reader.destroy(err));
  input.pipe(reader as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of reader) {
      const { header } = entry;
      const name = normalName(header.name);
      if (header.type === "file" || header.type === "contiguous-file") {
        entries.set(name, { offset: entry.offset + TAR_BLOCK, size: header.size });
      } else if (header.type === "link") {
        links.push([name, normalName(header.linkname)]);
      }
      entry.resume();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CnbpError("CNBP_LAYOUT_NOT_FOUND", `${file}: no such file`, { cause: err });
    }
    const why = (err as Error).message;
    throw new CnbpError("CNBP_ARCHIVE_INVALID", `${file}: not a readable tar archive: ${why}`, {
      cause: err,
    });
  } finally {
    input.destroy();
  }
  for (const [name, target] of links) {
    const to = entries.get(target);
    if (to) entries.set(name, to);
  }
  return entries;
}

async function checkNotCompressed(file: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CnbpError("CNBP_LAYOUT_NOT_FOUND", `${file}: no such file`, { cause: err });
    }
    throw err;
  }
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    const compressed =
      head[0] === 0x1f && head[1] === 0x8b
        ? "gzip"
        : head.readUInt32LE(0) === 0xfd2fb528
          ? "zstd"
          : undefined;
    if (compressed) {
      throw new CnbpError(
        "CNBP_ARCHIVE_INVALID",
        `${file}: is ${compressed}-compressed; an oci-archive is an uncompressed tar`,
        { hints: [`decompress it first (e.g. ${compressed === "gzip" ? "gunzip" : "unzstd"})`] },
      );
    }
  } finally {
    await handle.close();
  }
}

/**
 * Writes a layout (a directory path, an open layout or another archive) as an oci-archive: `blobs/`,
 * `blobs/sha256/`, every blob (verified as it is copied), `index.json` and `oci-layout`, in name order.
 * The file is written beside its final name and renamed into place.
 */
export async function writeOciArchive(from: OciLayoutReader | string, file: string): Promise<void> {
  const source = typeof from === "string" ? await OciLayout.open(from) : from;
  const tmp = join(dirname(file), `.${basename(file)}.${randomUUID()}.tmp`);
  const tar = pack();
  const written = pipeline(tar as unknown as NodeJS.ReadableStream, createWriteStream(tmp, { flags: "wx" }));
  const common = { mtime: ARCHIVE_MTIME, uid: 0, gid: 0 };
  const addEntry = (
    name: string,
    type: "file" | "directory",
    size: number,
    data?: AsyncIterable<Uint8Array> | Uint8Array,
  ) =>
    new Promise<void>((resolve, reject) => {
      const header = { name, type, size, mode: type === "directory" ? 0o755 : 0o644, ...common };
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      // an entry's errors reach `done`; destroying the tar stream also emits them on the entry
      const ignore = () => undefined;
      if (data === undefined || data instanceof Uint8Array) {
        tar.entry(header, data ?? Buffer.alloc(0), done).on("error", ignore);
        return;
      }
      const sink = tar.entry(header, done);
      sink.on("error", ignore);
      (async () => {
        for await (const chunk of data) {
          if (!sink.write(chunk)) await new Promise<void>((r) => sink.once("drain", () => r()));
        }
        sink.end(undefined);
      })().catch(reject); // the caller destroys the whole tar stream
    });
  try {
    const index = await source.indexBytes();
    await addEntry("blobs/", "directory", 0);
    await addEntry("blobs/sha256/", "directory", 0);
    for (const digest of await source.listBlobs()) {
      const size = (await source.blobSize(digest)) as number;
      await addEntry(blobPath(digest), "file", size, await source.openBlob({ mediaType: "", digest, size }));
    }
    await addEntry(INDEX_FILE, "file", index.length, index);
    const layoutFile = Buffer.from(JSON.stringify({ imageLayoutVersion: IMAGE_LAYOUT_VERSION }));
    await addEntry(OCI_LAYOUT_FILE, "file", layoutFile.length, layoutFile);
    tar.finalize();
    await written;
    await rename(tmp, file);
  } catch (err) {
    tar.destroy(err as Error);
    await written.catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Extracts an oci-archive (or `.cnb`) into a layout directory; see OciArchive.extractTo. */
export async function extractOciArchive(file: string, dir: string): Promise<OciLayout> {
  return (await OciArchive.open(file)).extractTo(dir);
}
