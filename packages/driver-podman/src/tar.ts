/** The few tar entries the driver writes itself (ustar headers, 512-byte blocks), with no tar library. */

export interface TarEntry {
  /** At most 100 characters: the driver's names are short. */
  readonly name: string;
  readonly type: "file" | "directory";
  readonly size: number;
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Seconds since the epoch; default 0. */
  readonly mtime?: number;
}

/** The end of a tar: two zero blocks. */
export const TAR_END: Buffer = Buffer.alloc(1024);

export function tarHeader(e: TarEntry): Buffer {
  const header = Buffer.alloc(512);
  const octal = (off: number, len: number, value: number) =>
    header.write(`${value.toString(8).padStart(len - 1, "0")}\0`, off, len, "ascii");
  header.write(e.name, 0, 100, "utf8");
  octal(100, 8, e.mode);
  octal(108, 8, e.uid ?? 0);
  octal(116, 8, e.gid ?? 0);
  octal(124, 12, e.size);
  octal(136, 12, e.mtime ?? 0);
  header.write(e.type === "directory" ? "5" : "0", 156, 1, "ascii");
  header.write("ustar\x0000", 257, 8, "ascii");
  // the checksum is computed with its own field as spaces
  header.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return header;
}

/** The zeros that end an entry's data of `size` bytes on a block boundary. */
export const tarPadding = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);
