/**
 * Checking content against its digest while it streams: nothing is buffered, the hash is updated chunk by
 * chunk, and the check happens when the last byte has passed (or as soon as there are too many bytes).
 */
import { createHash, type Hash } from "node:crypto";
import type { Digest } from "../oci.js";

/** Hashes bytes as they pass and says, at the end, whether they are the content `expected` names. */
export class DigestVerifier {
  private readonly hash: Hash = createHash("sha256");
  private count = 0;
  private actual: string | undefined;

  constructor(
    readonly expected: Digest,
    /** The size the descriptor states, when known: more bytes fail at once, fewer at the end. */
    readonly expectedSize?: number,
  ) {}

  get bytes(): number {
    return this.count;
  }

  /** Adds a chunk; returns a problem as soon as the content is longer than `expectedSize`. */
  update(chunk: Uint8Array): string | undefined {
    this.hash.update(chunk);
    this.count += chunk.byteLength;
    if (this.expectedSize !== undefined && this.count > this.expectedSize) {
      return `it has more than the ${this.expectedSize} bytes its descriptor states`;
    }
    return undefined;
  }

  /** After the last chunk: undefined when size and digest match, else what is wrong (may be asked again). */
  finish(): string | undefined {
    if (this.expectedSize !== undefined && this.count !== this.expectedSize) {
      return `it has ${this.count} bytes, its descriptor states ${this.expectedSize}`;
    }
    this.actual ??= `sha256:${this.hash.digest("hex")}`;
    const actual = this.actual;
    return actual === this.expected ? undefined : `its content has digest ${actual}`;
  }
}

/**
 * Passes `source` through, hashing it; throws `fail(problem)` before the end (or on too many bytes)
 * when it does not match. Its consumer sees the error instead of the end of the stream.
 */
export async function* verified(
  source: AsyncIterable<Uint8Array>,
  verifier: DigestVerifier,
  fail: (problem: string) => Error,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const chunk of source) {
    const problem = verifier.update(chunk);
    if (problem) throw fail(problem);
    yield chunk;
  }
  const problem = verifier.finish();
  if (problem) throw fail(problem);
}
