/**
 * Splits the engine's multiplexed attach stream (no TTY) into stdout and stderr: frames of an 8-byte header
 * (stream type, 3 zero bytes, big-endian payload length) then the payload. Frames may arrive cut anywhere.
 */
import type { Readable } from "node:stream";
import type { OutputSink } from "./contract.js";

class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stdout: OutputSink,
    private readonly stderr: OutputSink,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) return;
      const payload = this.pending.subarray(8, 8 + size);
      // type 1 is stdout, 2 stderr (0 would be stdin, which a step never echoes)
      if (this.pending[0] === 2) this.stderr.write(payload);
      else this.stdout.write(payload);
      this.pending = this.pending.subarray(8 + size);
    }
  }
}

/**
 * Feeds the multiplexed `output` to `stdout` and `stderr` until it ends; resolves then, rejects on its error.
 * The rejection is marked handled: a caller whose start failed never awaits it.
 */
export function demux(
  output: NodeJS.ReadableStream | Readable,
  stdout: OutputSink,
  stderr: OutputSink,
): Promise<void> {
  const demuxer = new Demuxer(stdout, stderr);
  const drained = new Promise<void>((resolve, reject) => {
    output.on("data", (chunk: Buffer) => demuxer.push(chunk));
    output.once("end", resolve);
    output.once("close", resolve);
    output.once("error", reject);
  });
  drained.catch(() => {});
  return drained;
}
