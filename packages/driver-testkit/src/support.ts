/** What every suite shares: output collectors, rejection checks, scratch directories and names. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StepIO } from "@cnbp/core";
import { expect } from "vitest";

/** Label put on every workspace, image and build the suites create, valued with the suite run's id. */
export const CONTRACT_LABEL = "io.cnbp.driver-testkit.run";

/** The busybox run image of the test stacks (scripts/stacks/build.sh): has /bin/sh, cat, id, printf, stat. */
export const DEFAULT_TEST_IMAGE = "localhost/cnbp-stacks/busybox-run:latest";

/** What a driver's test passes to find what a suite left behind in its engine. */
export interface LeakProbe {
  /** The label (CONTRACT_LABEL) and value (the suite run's id) on everything the suite made. */
  readonly label: string;
  readonly value: string;
  /** Images the suite made; containers created from them (a build's intermediate ones too) are leaks. */
  readonly images: readonly string[];
}

/**
 * Lists what the engine still holds from a suite run: containers (a build's intermediate ones included),
 * volumes and images carrying `probe.label` = `probe.value`, and containers from `probe.images`, one
 * human-readable line each. The suites assert it is empty after they clean up.
 */
export type LeakLister = (probe: LeakProbe) => Promise<readonly string[]>;

export interface Collected {
  readonly io: StepIO;
  /** The bytes received so far. */
  readonly stdout: () => Buffer;
  readonly stderr: () => Buffer;
  /** The bytes received so far, decoded as UTF-8. */
  readonly out: () => string;
  readonly err: () => string;
}

/** Collects a step's output, with `signal` passed on when given. */
export function collect(signal?: AbortSignal): Collected {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = () => Buffer.concat(out);
  const stderr = () => Buffer.concat(err);
  return {
    io: {
      stdout: { write: (c) => out.push(Buffer.from(c)) },
      stderr: { write: (c) => err.push(Buffer.from(c)) },
      ...(signal ? { signal } : {}),
    },
    stdout,
    stderr,
    out: () => stdout().toString(),
    err: () => stderr().toString(),
  };
}

export interface Rejection {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly hints?: unknown;
}

/** Settles `p` to the error it rejects with, failing the test when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Rejection> {
  return p.then(
    (v) => expect.fail(`expected a rejection, got ${JSON.stringify(v)}`),
    (e: unknown) => e as Rejection,
  );
}

/** Asserts `p` rejects with a DriverError of `code` whose message names the driver first. */
export async function expectDriverError(
  p: Promise<unknown>,
  driver: string,
  code: string,
): Promise<Rejection> {
  const err = await rejection(p);
  expect({ code: err.code, message: String(err.message) }).toMatchObject({
    code,
    message: expect.stringMatching(new RegExp(`^driver ${driver}: `)),
  });
  return err;
}

/** Resolves when `check()` holds, polling every 20 ms; fails after `ms` with `what` named. */
export async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) expect.fail(`driver-testkit: waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Temporary directories of one suite run, all removed by `removeAll`. */
export class ScratchDirs {
  private readonly dirs: string[] = [];

  async make(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "cnbp-driver-testkit-"));
    this.dirs.push(dir);
    return dir;
  }

  async removeAll(): Promise<void> {
    for (const dir of this.dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  }
}
