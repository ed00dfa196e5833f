/**
 * Content to upload: bytes in memory, or a function that opens a stream of them (a file, a layer being
 * written). A function is called again when an upload session has to start over, so it must give the
 * same bytes each time.
 */

export type UploadSource =
  | Uint8Array
  | (() =>
      | AsyncIterable<Uint8Array>
      | Iterable<Uint8Array>
      | Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>);

export async function openSource(source: UploadSource): Promise<AsyncIterable<Uint8Array>> {
  const opened = typeof source === "function" ? await source() : [source];
  if (Symbol.asyncIterator in opened) return opened;
  return (async function* () {
    yield* opened;
  })();
}

/** Reads a byte stream in pieces of a given length (the chunks of a chunked upload), never more at once. */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array | undefined;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** The next `n` bytes (fewer if the stream ends first), as they arrive. */
  async *take(n: number): AsyncGenerator<Uint8Array, void, undefined> {
    let left = n;
    while (left > 0) {
      let chunk = this.pending;
      this.pending = undefined;
      if (!chunk) {
        const next = await this.iterator.next();
        if (next.done) return;
        chunk = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
      }
      if (chunk.byteLength === 0) continue;
      if (chunk.byteLength > left) {
        this.pending = chunk.subarray(left);
        chunk = chunk.subarray(0, left);
      }
      left -= chunk.byteLength;
      yield chunk;
    }
  }

  /** Lets go of the stream (closes a file stream that was not read to its end). */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
