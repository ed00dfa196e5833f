/** A minimal ustar writer for the suites' fixtures: regular files with relative names, no dependency. */

export interface TarFile {
  /** Relative path, at most 100 bytes; written as given (a `../` entry is how the suites test put's refusal). */
  readonly name: string;
  readonly content: string | Uint8Array;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** A tar of regular files, in order, mtime 2001-09-09. */
export function tarOf(files: readonly TarFile[]): Buffer {
  return Buffer.concat([...files.flatMap(fileEntry), Buffer.alloc(1024)]);
}

/** A one-file tar: `name` (relative, at most 100 bytes), `content`, mode and owner, mtime 2001-09-09. */
export function oneFileTar(
  name: string,
  content: string | Uint8Array,
  opts: { mode?: number; uid?: number; gid?: number } = {},
): Buffer {
  return tarOf([{ name, content, ...opts }]);
}

function fileEntry(file: TarFile): Buffer[] {
  const body = Buffer.from(file.content);
  const h = Buffer.alloc(512);
  const put = (off: number, len: number, v: string) => h.write(v, off, len, "ascii");
  const oct = (v: number, len: number) => `${v.toString(8).padStart(len - 1, "0")}\0`;
  put(0, 100, file.name);
  put(100, 8, oct(file.mode ?? 0o644, 8));
  put(108, 8, oct(file.uid ?? 0, 8));
  put(116, 8, oct(file.gid ?? 0, 8));
  put(124, 12, oct(body.length, 12));
  put(136, 12, oct(1_000_000_000, 12));
  put(156, 1, "0");
  put(257, 8, "ustar\x0000");
  h.fill(" ", 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return [h, body, Buffer.alloc((512 - (body.length % 512)) % 512)];
}
