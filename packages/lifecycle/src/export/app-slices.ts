/**
 * The app directory cut into layers (shared/spec/platform.md 4.6 step 4, buildpack.md slices): one layer per
 * `[[slices]]` entry of metadata.toml, in order, then one with everything no slice took. As in the Go
 * lifecycle, a slice's `paths` are globs (Go's filepath.Match: `*` and `?` never match `/`, `[...]` classes,
 * `\` escapes) matched against the path of every file and directory relative to the app dir; a matched
 * directory brings everything below it; the directories leading to a matched path come along (so the layer
 * extracts on its own), and a directory counts as taken once all of its children are. A file goes to the
 * first slice that matches it.
 */
import { lstat, readdir } from "node:fs/promises";
import { join, posix } from "node:path";
import { byteOrder } from "./buildpack-layers.js";

export class BadSlicePattern extends Error {}

/**
 * The paths of each slice layer then of the rest, relative to `appDir` (POSIX, `.` for the app dir itself).
 * A list may be empty (an empty layer).
 */
export async function sliceAppDir(
  appDir: string,
  slices: readonly { readonly paths?: readonly string[] }[],
): Promise<string[][]> {
  const tree = await walk(appDir);
  const taken = new Map<string, boolean>(tree.paths.map((p) => [p, false]));
  const layers: string[][] = [];
  for (const slice of slices) {
    const matchers = (slice.paths ?? []).map(globMatcher);
    const matches = tree.paths.filter((p) => p !== "." && matchers.some((m) => m(p)));
    layers.push(takeSlice(tree, taken, matches));
  }
  const rest = tree.paths.filter((p) => taken.get(p) === false);
  for (const p of rest) taken.set(p, true);
  layers.push(rest);
  return layers;
}

interface Tree {
  /** Every path, in walk order; `.` first. */
  readonly paths: string[];
  readonly children: Map<string, string[]>;
}

async function walk(appDir: string): Promise<Tree> {
  const tree: Tree = { paths: [], children: new Map() };
  const visit = async (rel: string) => {
    tree.paths.push(rel);
    const host = rel === "." ? appDir : join(appDir, ...rel.split("/"));
    if (!(await lstat(host)).isDirectory()) return;
    const names = (await readdir(host)).sort(byteOrder);
    const kids = names.map((n) => (rel === "." ? n : `${rel}/${n}`));
    tree.children.set(rel, kids);
    for (const kid of kids) await visit(kid);
  };
  await visit(".");
  return tree;
}

function takeSlice(tree: Tree, taken: Map<string, boolean>, matches: readonly string[]): string[] {
  const matched = new Set<string>();
  const add = (p: string) => {
    if (taken.get(p) !== false) return; // already in an earlier layer (or not under the app dir)
    for (const kid of tree.children.get(p) ?? []) add(kid);
    matched.add(p);
    taken.set(p, true);
  };
  for (const m of matches) add(m);

  const files = [...matched];
  const parents = new Set<string>();
  for (const p of matched) {
    for (const parent of parentsOf(p)) {
      if (matched.has(parent) || parents.has(parent)) continue;
      parents.add(parent);
      files.push(parent);
    }
  }
  // deepest first, so that a directory is judged after its child directories
  const byDepth = [...parents].sort((a, b) => depth(b) - depth(a));
  for (const dir of byDepth) {
    taken.set(
      dir,
      (tree.children.get(dir) ?? []).every((kid) => taken.get(kid) !== false),
    );
  }
  return files;
}

/** `a/b/c` -> `.`, `a`, `a/b`. */
function parentsOf(p: string): string[] {
  const parts = p.split("/");
  const out = ["."];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join("/"));
  return out;
}

const depth = (p: string) => (p === "." ? 0 : p.split("/").length);

/** A matcher for one slice path: Go's filepath.Match of the cleaned pattern against a relative path. */
export function globMatcher(pattern: string): (path: string) => boolean {
  const cleaned = posix.normalize(pattern).replace(/(.)\/+$/, "$1");
  const regex = new RegExp(`^${globToRegex(cleaned, pattern)}$`, "u");
  return (path) => regex.test(path);
}

// the characters a `u` regex lets (and needs to) be escaped outside a class
const escapeRegex = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
const classChar = (c: string) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`;

function globToRegex(glob: string, original: string): string {
  const chars = [...glob];
  const bad = (): never => {
    throw new BadSlicePattern(`slice path ${JSON.stringify(original)} is not a valid pattern`);
  };
  let out = "";
  let i = 0;
  /** One character of a class: `\x` is x; a bare `-` or `]` is an error, as in Go. */
  const classElement = (): string => {
    let c = chars[i];
    if (c === undefined || c === "-" || c === "]") bad();
    if (c === "\\") {
      i++;
      c = chars[i];
      if (c === undefined) bad();
    }
    i++;
    return c as string;
  };
  while (i < chars.length) {
    const c = chars[i] as string;
    if (c === "*") {
      out += "[^/]*";
      i++;
    } else if (c === "?") {
      out += "[^/]";
      i++;
    } else if (c === "\\") {
      const next = chars[i + 1];
      if (next === undefined) bad();
      out += escapeRegex(next as string);
      i += 2;
    } else if (c === "[") {
      i++;
      let negated = false;
      if (chars[i] === "^") {
        negated = true;
        i++;
      }
      let ranges = "";
      let n = 0;
      for (;;) {
        if (chars[i] === "]" && n > 0) {
          i++;
          break;
        }
        const lo = classElement();
        let hi = lo;
        if (chars[i] === "-") {
          i++;
          hi = classElement();
          if ((lo.codePointAt(0) as number) > (hi.codePointAt(0) as number)) bad();
        }
        ranges += lo === hi ? classChar(lo) : `${classChar(lo)}-${classChar(hi)}`;
        n++;
      }
      out += `[${negated ? "^" : ""}${ranges}]`;
    } else {
      out += escapeRegex(c);
      i++;
    }
  }
  return out;
}
