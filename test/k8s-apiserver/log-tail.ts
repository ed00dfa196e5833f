/**
 * A container's log as a kubelet serves it: read from the CRI log file Podman's conmon writes (k8s-file
 * format, `<time> <stdout|stderr> <P|F> <bytes>` per line, P for a partial line without its newline), followed
 * until the container has ended and the file is read to its end. (`podman logs --follow` drops the end of a
 * burst written just before the container exits.)
 */
import { open } from "node:fs/promises";

export interface LogTail {
  readonly path: string;
  /** "All" interleaves both streams as written. */
  readonly stream: "All" | "Stdout" | "Stderr";
  readonly follow: boolean;
  /** Whether the container has ended: then the file is read to its end once more and the tail ends. */
  readonly ended: () => boolean;
  /** Whether the reader went away. */
  readonly closed: () => boolean;
  readonly write: (bytes: Buffer) => void;
}

export async function tailLog(t: LogTail): Promise<void> {
  const file = await open(t.path, "r");
  const buf = Buffer.alloc(256 * 1024);
  let pos = 0;
  let rest = Buffer.alloc(0);
  try {
    for (;;) {
      const ended = t.ended();
      const { bytesRead } = await file.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        rest = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
        for (let nl = rest.indexOf(10); nl >= 0; nl = rest.indexOf(10)) {
          emit(t, rest.subarray(0, nl));
          rest = rest.subarray(nl + 1);
        }
        continue;
      }
      if (!t.follow || ended || t.closed()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await file.close();
  }
}

function emit(t: LogTail, line: Buffer): void {
  const s1 = line.indexOf(32);
  const s2 = line.indexOf(32, s1 + 1);
  const s3 = line.indexOf(32, s2 + 1);
  if (s1 < 0 || s2 < 0 || s3 < 0) return;
  const stream = line.subarray(s1 + 1, s2).toString();
  if (t.stream === "Stdout" && stream !== "stdout") return;
  if (t.stream === "Stderr" && stream !== "stderr") return;
  const partial = line.subarray(s2 + 1, s3).toString() === "P";
  t.write(partial ? line.subarray(s3 + 1) : Buffer.concat([line.subarray(s3 + 1), Buffer.from("\n")]));
}
